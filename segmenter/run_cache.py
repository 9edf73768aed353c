"""Finished runs kept in memory, so the same table with the same settings comes back at once."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pandas as pd

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import LoadedTable, Schema

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

RUN_CACHE_SIZE = 3
"""Finished runs kept in memory per process, so the same table with the same settings comes
back at once (a 100k-row run holds about 300 MB)."""
_runs: OrderedDict[tuple[Any, ...], SegmentationRun] = OrderedDict()
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
        cached = _runs.get(key)
        if cached is not None:
            _runs.move_to_end(key)
    return cached


def remember_run(key: tuple[Any, ...], run: SegmentationRun) -> None:
    """Cache ``run`` under ``key``, forgetting the least recently used beyond
    ``RUN_CACHE_SIZE``."""
    with _runs_lock:
        _runs[key] = run
        while len(_runs) > RUN_CACHE_SIZE:
            _runs.popitem(last=False)


def clear_run_cache() -> None:
    """Forget every cached run (for tests and benchmarks of cold runs)."""
    with _runs_lock:
        _runs.clear()
