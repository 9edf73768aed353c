"""Finished runs kept in memory, so the same table with the same settings comes back at once."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import LoadedTable, Schema
from segmenter.run_budget import HeldRun, run_budget

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

RUN_CACHE_SIZE = 3
"""Finished runs kept in memory per process, so the same table with the same settings comes
back at once (a 100k-row run holds about 300 MB). They count against the server's memory
budget (``run_budget``), which forgets them first when they are the least recently used."""
_runs: OrderedDict[tuple[Any, ...], HeldRun] = OrderedDict()
_runs_lock = threading.Lock()


def run_key(
    loaded: LoadedTable, schema: Schema, embed_config: EmbedConfig, cluster_config: ClusterConfig
) -> tuple[Any, ...]:
    """What a run depends on: the table's content (hashed), the roles and the settings.

    Keyed by content, so a cached run answers only someone who has the same table.
    """
    frame = loaded.frame
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(repr(tuple(frame.columns)).encode())
    return (digest.hexdigest(), schema, embed_config, cluster_config)


def cached_run(key: tuple[Any, ...]) -> SegmentationRun | None:
    """The run cached under ``key`` (now the most recently used), or ``None``."""
    with _runs_lock:
        held = _runs.get(key)
        cached = held.peek() if held is not None else None
        if cached is not None:
            _runs.move_to_end(key)
        elif held is not None:  # forgotten by the memory budget
            del _runs[key]
    return cached


def remember_run(key: tuple[Any, ...], run: SegmentationRun) -> None:
    """Cache ``run`` under ``key``, forgetting the least recently used beyond
    ``RUN_CACHE_SIZE``."""
    held = run_budget().hold(run, droppable=True)
    with _runs_lock:
        _runs[key] = held
        while len(_runs) > RUN_CACHE_SIZE:
            _runs.popitem(last=False)


def clear_run_cache() -> None:
    """Forget every cached run (for tests and benchmarks of cold runs)."""
    with _runs_lock:
        _runs.clear()
