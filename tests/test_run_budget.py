"""The server's memory budget for runs: the least recently used runs move to their run
folders and come back on demand, the run cache is forgotten first, and a table too large for
the budget is refused with a message saying what to do."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.errors import SegmenterError
from segmenter.ingest import detect_schema, load_table
from segmenter.pipeline import run_segmentation, write_outputs
from segmenter.run_budget import (
    MEMORY_BUDGET_ENV,
    RunBudget,
    TableTooLargeError,
    default_budget_bytes,
    object_bytes,
    run_bytes,
    working_bytes,
)
from segmenter.runs import open_run
from tests.conftest import FakeEmbedder

MB = 1024 * 1024


@dataclass
class _Run:
    """Stands in for a SegmentationRun: what the budget measures is what it holds."""

    loaded: object
    vectors: np.ndarray


def _run(megabytes: int, seed: int = 0) -> _Run:
    rng = np.random.default_rng(seed)
    return _Run(loaded=pd.DataFrame({"id": ["a"] * 1000}), vectors=rng.random(megabytes * MB // 8))


class _Folders:
    """A loader that reads back the run 'written' to a folder, counting its reads."""

    def __init__(self) -> None:
        self.written: dict[Path, _Run] = {}
        self.reads = 0

    def write(self, name: str, run: _Run) -> Path:
        folder = Path(name)
        self.written[folder] = _Run(run.loaded, run.vectors.copy())
        return folder

    def __call__(self, folder: Path) -> _Run:
        self.reads += 1
        if folder not in self.written:
            raise OSError("no such folder")
        return self.written[folder]


def test_runs_are_measured_once_without_the_uploaded_table() -> None:
    run = _run(2)
    assert run_bytes(run) == run.vectors.nbytes  # type: ignore[arg-type]
    shared = np.zeros(1000)
    assert object_bytes([shared, shared, {"a": shared}]) < 2 * shared.nbytes
    frame = pd.DataFrame({"text": ["x" * 100] * 100})
    assert object_bytes(frame) >= 100 * 100


def test_the_least_recently_used_run_moves_to_its_folder_and_comes_back() -> None:
    folders = _Folders()
    budget = RunBudget(limit_bytes=5 * MB, loader=folders)  # type: ignore[arg-type]
    first_run, second_run = _run(2, 1), _run(2, 2)
    first = budget.hold(first_run, folders.write("first", first_run))  # type: ignore[arg-type]
    second = budget.hold(second_run, folders.write("second", second_run))  # type: ignore[arg-type]
    assert first.in_memory and second.in_memory  # 4 MB of 5: both fit

    third_run = _run(2, 3)
    third = budget.hold(third_run, folders.write("third", third_run))  # type: ignore[arg-type]
    assert not first.in_memory and second.in_memory and third.in_memory
    assert budget.used_bytes() <= budget.limit_bytes

    # The first user comes back: their run is read back, and now the second is the oldest.
    back = first.run
    assert np.array_equal(back.vectors, first_run.vectors) and folders.reads == 1
    assert first.in_memory and not second.in_memory and third.in_memory
    assert first.spills == 1 and second.spills == 1


def test_a_run_with_no_folder_stays_and_a_cache_entry_is_forgotten() -> None:
    budget = RunBudget(limit_bytes=5 * MB, loader=_Folders())  # type: ignore[arg-type]
    cached = budget.hold(_run(2, 1), droppable=True)  # type: ignore[arg-type]
    unsaved = budget.hold(_run(2, 2))  # type: ignore[arg-type]
    newest = budget.hold(_run(2, 3))  # type: ignore[arg-type]
    assert not cached.in_memory and unsaved.in_memory and newest.in_memory
    fourth = budget.hold(_run(2, 4))  # type: ignore[arg-type]
    assert unsaved.in_memory and newest.in_memory and fourth.in_memory  # nothing can move
    assert budget.used_bytes() > budget.limit_bytes


def test_a_run_two_sessions_hold_is_counted_once_and_moved_only_when_both_can() -> None:
    folders = _Folders()
    budget = RunBudget(limit_bytes=5 * MB, loader=folders)  # type: ignore[arg-type]
    shared = _run(2, 1)
    in_cache = budget.hold(shared, droppable=True)  # type: ignore[arg-type]
    unsaved_session = budget.hold(shared)  # type: ignore[arg-type]
    assert budget.used_bytes() == pytest.approx(2 * MB, rel=0.01)
    others = [  # sessions hold their runs: keep them alive
        budget.hold(_run(2, i), folders.write(str(i), _run(2, i)))  # type: ignore[arg-type]
        for i in (2, 3)
    ]
    assert in_cache.in_memory and unsaved_session.in_memory  # the session cannot let it go

    budget.saved(unsaved_session, folders.write("shared", shared))
    others.append(budget.hold(_run(2, 4), folders.write("d", _run(2, 4))))  # type: ignore[arg-type]
    assert not in_cache.in_memory and not unsaved_session.in_memory


def test_a_session_that_ends_frees_its_place_in_the_budget() -> None:
    budget = RunBudget(limit_bytes=10 * MB, loader=_Folders())  # type: ignore[arg-type]
    held = budget.hold(_run(3))  # type: ignore[arg-type]
    assert budget.used_bytes() >= 3 * MB
    del held
    gc.collect()
    assert budget.used_bytes() == 0


def test_a_run_whose_folder_is_gone_says_to_segment_again() -> None:
    folders = _Folders()
    budget = RunBudget(limit_bytes=3 * MB, loader=folders)  # type: ignore[arg-type]
    lost = budget.hold(_run(2, 1), Path("deleted"))  # type: ignore[arg-type]
    other = budget.hold(_run(2, 2), folders.write("b", _run(2, 2)))  # type: ignore[arg-type]
    assert other.in_memory
    assert not lost.in_memory
    with pytest.raises(SegmenterError, match="segment the table again"):
        _ = lost.run


def test_a_segmentation_makes_room_and_a_table_too_large_is_refused() -> None:
    folders = _Folders()
    budget = RunBudget(limit_bytes=5 * MB, loader=folders)  # type: ignore[arg-type]
    old = budget.hold(_run(2, 1), folders.write("a", _run(2, 1)))  # type: ignore[arg-type]
    with budget.working(4 * MB, rows=100):
        assert not old.in_memory  # moved out for the segmentation's working memory
        assert budget.used_bytes() == 4 * MB
    assert budget.used_bytes() == 0

    with pytest.raises(TableTooLargeError) as caught, budget.working(6 * MB, rows=1_000_000):
        pytest.fail("a table over the budget must not start")
    message = str(caught.value)
    assert "1,000,000 rows" in message and "6 MB" in message and "5 MB" in message
    assert MEMORY_BUDGET_ENV in message and "sample" in message


def test_the_budget_comes_from_the_environment_or_half_the_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "1500")
    assert default_budget_bytes() == 1500 * MB
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    assert 256 * MB < default_budget_bytes() < 1024 * 1024 * MB
    big = pd.DataFrame({"text": ["a review of some length"] * 10_000, "age": 1})
    assert working_bytes(big) > 10 * working_bytes(big.head(1000)) * 0.9


def test_a_real_run_spilled_to_its_folder_reads_back_the_same(
    customers: pd.DataFrame, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    loaded = load_table(customers.to_csv(index=False).encode(), "customers.csv")
    config = EmbedConfig(model="fake", sentiment_model="fake")
    runs = []
    for seed in (0, 1):
        run = run_segmentation(
            loaded,
            detect_schema(loaded.frame),
            config,
            ClusterConfig(n_segments=3, random_state=seed),
        )
        folder = tmp_path / f"run{seed}"
        write_outputs(run, folder)
        runs.append((run, folder))
    size = run_bytes(runs[0][0])
    assert size > 10_000  # vectors, coordinates, profiles
    budget = RunBudget(limit_bytes=int(size * 1.5), loader=open_run)
    first = budget.hold(*runs[0])
    second = budget.hold(*runs[1])
    assert second.in_memory
    assert not first.in_memory
    back = first.run
    assert np.array_equal(back.result.labels, runs[0][0].result.labels)
    assert [p.name for p in back.result.profiles] == [p.name for p in runs[0][0].result.profiles]
