"""A server-wide memory budget for finished runs, with the least recently used spilled to disk.

Every session keeps its run in memory until Streamlit drops the session, and a 100k-row run
holds a few hundred megabytes; a handful of users with large tables would exhaust a server.
``RunBudget`` counts the bytes of every run held (by sessions and by the run cache) and of
every segmentation at work, and when they pass the budget it moves the least recently used
runs out of memory: a session's run is dropped and read back from its run folder when its
user next looks at it (``runs.open_run``); a run-cache entry is simply forgotten. A table
whose segmentation alone would pass the budget is refused before it starts, with a message
saying what to do.

>>> budget = RunBudget(limit_bytes=2_000_000_000)
>>> held = budget.hold(run, folder)       # the session keeps ``held``, not ``run``
>>> held.run                              # in memory, or read back from ``folder``
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmenter.errors import InputError, SegmenterError

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

_log = logging.getLogger(__name__)

MEMORY_BUDGET_ENV = "SEGMENTER_MEMORY_BUDGET_MB"
"""Megabytes the server may spend on runs: those held by sessions and the run cache, and the
working memory of segmentations in progress. Models and the server itself come on top."""
DEFAULT_BUDGET_SHARE = 0.5
"""Without ``SEGMENTER_MEMORY_BUDGET_MB``, half the machine's memory: the other half is left
for the models (about 1 GB with the language model), uploads in sessions, and the system."""
WORKING_BYTES_PER_ROW = 11_000
"""Memory a segmentation needs while it works, per row, beyond the text itself: measured
as the peak of `bench/scale.py` at 10k and 100k rows (1.24 and 2.22 GB, models included),
i.e. about 11 kB a row (vectors, the fused space, UMAP's neighbour graph, profiles)."""
WORKING_BYTES_PER_TEXT_BYTE = 4
"""And per byte of text: the documents, their word counts and the table's topics."""
_MAX_DEPTH = 8


class TableTooLargeError(InputError):
    """A table whose segmentation alone needs more memory than the server's budget."""


def default_budget_bytes() -> int:
    """``SEGMENTER_MEMORY_BUDGET_MB`` when set to a positive number, else
    ``DEFAULT_BUDGET_SHARE`` of the machine's physical memory."""
    raw = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw) * 1024 * 1024
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not a POSIX system: assume 8 GB
        physical = 8 * 1024**3
    return int(physical * DEFAULT_BUDGET_SHARE)


def object_bytes(root: object, *, skip: tuple[object, ...] = ()) -> int:
    """Bytes held by ``root`` and what it refers to (arrays, frames, strings, containers,
    objects' attributes), each object counted once; objects in ``skip`` (and what only they
    hold) are not counted. An estimate: interpreter overheads of small objects are left out."""
    seen: set[int] = {id(s) for s in skip}
    total = 0
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if value is None or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            total += value.nbytes if value.base is None or id(value.base) not in seen else 0
        elif isinstance(value, pd.DataFrame):
            total += int(value.memory_usage(deep=True, index=True).sum())
        elif isinstance(value, pd.Series | pd.Index):
            total += int(value.memory_usage(deep=True))
        elif isinstance(value, str | bytes | bytearray):
            total += sys.getsizeof(value)
        elif depth >= _MAX_DEPTH or callable(value) and not hasattr(value, "__dict__"):
            continue
        elif isinstance(value, list | tuple | set | frozenset):
            total += sys.getsizeof(value)
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, dict):
            total += sys.getsizeof(value)
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif _sparse_parts(value):
            stack.extend((part, depth + 1) for part in _sparse_parts(value))
        else:
            stack.extend((item, depth + 1) for item in _attributes(value))
    return total


def _sparse_parts(value: object) -> list[object]:
    """The arrays of a SciPy sparse matrix (UMAP's neighbour graph), else nothing."""
    parts = [getattr(value, name, None) for name in ("data", "indices", "indptr", "row", "col")]
    return [p for p in parts if isinstance(p, np.ndarray)] if hasattr(value, "nnz") else []


def _attributes(value: object) -> list[object]:
    """An object's attribute values (``__dict__`` and ``__slots__``)."""
    found = list(getattr(value, "__dict__", {}).values())
    for cls in type(value).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if isinstance(name, str) and hasattr(value, name):
                found.append(getattr(value, name))
    return found


def run_bytes(run: SegmentationRun) -> int:
    """Bytes that dropping ``run`` frees: everything it holds except the uploaded table, which
    the session keeps for the Upload page anyway."""
    return object_bytes(run, skip=(run.loaded,))


def working_bytes(frame: pd.DataFrame) -> int:
    """The memory a segmentation of ``frame`` needs while it works (an estimate; see
    ``WORKING_BYTES_PER_ROW``)."""
    text = frame.select_dtypes(include="object")
    text_bytes = int(text.memory_usage(deep=True, index=False).sum()) if text.shape[1] else 0
    return len(frame) * WORKING_BYTES_PER_ROW + text_bytes * WORKING_BYTES_PER_TEXT_BYTE


def _megabytes(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:,.0f} MB"


class HeldRun:
    """One finished run, held for a session or the run cache: in memory, or moved out of it
    (spilled) and read back from ``folder`` on the next ``run``. Without a folder it stays in
    memory (a cache entry is dropped instead, when ``droppable``)."""

    def __init__(
        self,
        run: SegmentationRun,
        budget: RunBudget,
        folder: Path | None = None,
        *,
        droppable: bool = False,
        nbytes: int | None = None,
    ) -> None:
        self._run: SegmentationRun | None = run
        self._budget = budget
        self.folder = folder
        self.droppable = droppable
        self.nbytes = run_bytes(run) if nbytes is None else nbytes
        self.last_used = time.monotonic()
        self.spills = 0
        """How often this run was moved out of memory (the tests read it)."""

    @property
    def in_memory(self) -> bool:
        """Whether the run is in memory now."""
        return self._run is not None

    @property
    def releasable(self) -> bool:
        """Whether the budget may move this run out of memory."""
        return self.droppable or self.folder is not None

    def peek(self) -> SegmentationRun | None:
        """The run when it is in memory (now the most recently used), else ``None``."""
        run = self._run
        if run is not None:
            self.last_used = time.monotonic()
        return run

    def peek_silently(self) -> SegmentationRun | None:
        """The run when it is in memory, without counting it as used (for the budget)."""
        return self._run

    @property
    def run(self) -> SegmentationRun:
        """The run, read back from its folder first when it was spilled.

        Raises:
            SegmenterError: the run was spilled and its folder can no longer be read.
        """
        run = self.peek()
        if run is not None:
            return run
        return self._budget.reload(self)

    def release(self) -> None:
        """Move the run out of memory (the budget calls this on the least recently used)."""
        if self.releasable:
            self._run = None
            self.spills += 1

    def replace(self, run: SegmentationRun) -> None:
        """Hold ``run`` in place of this run: the same run, renamed (``pipeline.with_labels``),
        which ``folder`` still reads back as."""
        self._run = run
        self.last_used = time.monotonic()

    def _restore(self, run: SegmentationRun) -> None:
        self._run = run
        self.nbytes = run_bytes(run)
        self.last_used = time.monotonic()


class RunBudget:
    """Counts the runs held in memory and moves the least recently used out of it when they,
    with the segmentations at work, pass ``limit_bytes``."""

    def __init__(
        self,
        limit_bytes: int,
        loader: Callable[[Path], SegmentationRun] | None = None,
    ) -> None:
        if limit_bytes <= 0:
            raise ValueError(f"limit_bytes={limit_bytes} should be > 0.")
        self.limit_bytes = limit_bytes
        self._loader = loader
        self._held: weakref.WeakSet[HeldRun] = weakref.WeakSet()
        self._working = 0
        self._lock = threading.RLock()

    def hold(
        self, run: SegmentationRun, folder: Path | None = None, *, droppable: bool = False
    ) -> HeldRun:
        """Hold ``run`` under the budget (moving older runs out of memory if needed)."""
        with self._lock:
            # A run held twice (a session's and the run cache's) is measured once.
            known = next((h.nbytes for h in self._held if h.peek_silently() is run), None)
        held = HeldRun(run, self, folder, droppable=droppable, nbytes=known)
        with self._lock:
            self._held.add(held)
            self._trim(protect=held)
        return held

    def saved(self, held: HeldRun, folder: Path) -> None:
        """``held``'s run was written to ``folder``: from now on it can be spilled there."""
        with self._lock:
            held.folder = folder
            self._trim(protect=held)

    def reload(self, held: HeldRun) -> SegmentationRun:
        """Read a spilled run back from its folder and hold it again."""
        if held.folder is None:  # pragma: no cover - release() never spills without one
            raise SegmenterError("This run is no longer in memory: segment the table again.")
        load = self._loader or _open_run
        try:
            run = load(held.folder)
        except (OSError, SegmenterError) as error:
            raise SegmenterError(
                "This run was moved out of memory to make room for other users, and its "
                f"folder {held.folder} can no longer be read ({error}): segment the table "
                "again."
            ) from error
        _log.warning("Memory budget: read a run back from %s", held.folder)
        with self._lock:
            held._restore(run)
            self._trim(protect=held)
        return run

    def used_bytes(self) -> int:
        """Bytes of the runs in memory (each run once) and of the segmentations at work."""
        with self._lock:
            return self._in_memory() + self._working

    def in_memory(self) -> list[HeldRun]:
        """The held runs that are in memory now."""
        with self._lock:
            return [h for h in self._held if h.in_memory]

    def check_fits(self, needed: int, rows: int) -> None:
        """Refuse a segmentation that alone needs more than the budget.

        Raises:
            TableTooLargeError: with what to do instead.
        """
        if needed > self.limit_bytes:
            raise TableTooLargeError(
                f"This table ({rows:,} rows) needs about {_megabytes(needed)} of memory to "
                f"segment, more than this server's {_megabytes(self.limit_bytes)} for runs. "
                "Segment a sample or one part of it at a time, run `python -m segmenter "
                "segment` on a larger machine, or ask whoever runs this server to raise "
                f"{MEMORY_BUDGET_ENV}."
            )

    @contextmanager
    def working(self, needed: int, rows: int) -> Iterator[None]:
        """Count a segmentation's working memory for the ``with`` block, moving held runs
        out of memory first to make room for it.

        Raises:
            TableTooLargeError: the segmentation alone needs more than the budget.
        """
        self.check_fits(needed, rows)
        with self._lock:
            self._working += needed
            self._trim(protect=None)
        try:
            yield
        finally:
            with self._lock:
                self._working -= needed

    def _in_memory(self) -> int:
        counted: dict[int, int] = {}
        for held in list(self._held):
            run = held.peek_silently()
            if run is not None:
                counted[id(run)] = held.nbytes
        return sum(counted.values())

    def _trim(self, protect: HeldRun | None) -> None:
        """Release the least recently used runs until the budget holds (a run shared by
        several holders is released only when all of them can let it go)."""
        groups: dict[int, list[HeldRun]] = {}
        for held in list(self._held):
            run = held.peek_silently()
            if run is not None:
                groups.setdefault(id(run), []).append(held)
        sizes = {key: members[0].nbytes for key, members in groups.items()}
        used = sum(sizes.values()) + self._working
        protected = id(protect.peek_silently()) if protect is not None else None
        candidates = sorted(
            (key for key in groups if key != protected),
            key=lambda key: max(h.last_used for h in groups[key]),
        )
        for key in candidates:
            if used <= self.limit_bytes:
                break
            members = groups[key]
            if all(h.releasable for h in members):
                for held in members:
                    held.release()
                used -= sizes[key]
                # Logged for whoever runs the server: runs moving out means the budget is full.
                _log.warning(
                    "Memory budget: moved a run of %s out of memory (%s of %s in use now)",
                    _megabytes(sizes[key]),
                    _megabytes(used),
                    _megabytes(self.limit_bytes),
                )


def _open_run(folder: Path) -> SegmentationRun:
    from segmenter.runs import open_run  # noqa: PLC0415 - runs imports the pipeline

    return open_run(folder)


_budget: RunBudget | None = None
_budget_lock = threading.Lock()


def run_budget() -> RunBudget:
    """The server's one budget for runs, made on first use (``default_budget_bytes``)."""
    global _budget
    with _budget_lock:
        if _budget is None:
            _budget = RunBudget(default_budget_bytes())
        return _budget
