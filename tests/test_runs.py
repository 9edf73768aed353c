"""Run folders: what either engine writes opens again as the same run, without recomputing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.errors import InputError
from segmenter.export import results_frame, to_csv_bytes
from segmenter.ingest import detect_schema, load_table
from segmenter.k_choice import KChoice
from segmenter.pipeline import SPACE_FILE, recluster_run, run_segmentation, write_outputs
from segmenter.run_record import RunRecord, result_record
from segmenter.runs import find_runs, open_run
from tests.conftest import FakeEmbedder


@pytest.fixture
def run_folder(customers: pd.DataFrame, fake_embedder: FakeEmbedder, tmp_path: Path):  # type: ignore[no-untyped-def]
    loaded = load_table(customers.to_csv(index=False).encode(), "customers.csv")
    run = run_segmentation(
        loaded,
        detect_schema(loaded.frame),
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=3, random_state=0),
    )
    folder = tmp_path / "runs" / "march"
    write_outputs(run, folder)
    return run, folder


def test_an_opened_run_is_the_run_that_was_written(run_folder) -> None:  # type: ignore[no-untyped-def]
    run, folder = run_folder
    opened = open_run(folder)
    assert opened.opened_from == folder
    pd.testing.assert_frame_equal(opened.loaded.frame, run.loaded.frame)
    np.testing.assert_array_equal(opened.result.labels, run.result.labels)
    np.testing.assert_allclose(opened.result.coords, run.result.coords, atol=1e-5)
    assert opened.result.profiles == run.result.profiles
    assert opened.schema == run.schema
    assert opened.embedding is None and opened.embedder_name == "fake"
    assert opened.feedback is not None
    assert list(opened.feedback.sentiment.labels) == list(run.feedback.sentiment.labels)
    exported = to_csv_bytes(results_frame(opened.loaded.frame, opened.result))
    assert exported == (folder / "segments.csv").read_bytes()
    assert opened.parameters()["result"]["n_segments"] == 3


def test_an_opened_run_can_change_its_number_of_segments(run_folder) -> None:  # type: ignore[no-untyped-def]
    run, folder = run_folder
    opened = open_run(folder)
    np.testing.assert_allclose(
        opened.segmenter.reduction_.cluster_space, run.segmenter.reduction_.cluster_space
    )
    four = recluster_run(opened, 4)
    assert four.segmenter.n_segments_ == 4 and len(four.result.profiles) == 4
    assert len(four.result.labels) == len(run.result.labels)


def test_runs_are_found_newest_first_and_broken_folders_explained(run_folder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, folder = run_folder
    assert find_runs(tmp_path / "runs") == [folder]
    assert find_runs(tmp_path / "nowhere") == []
    (folder / "segments.csv").unlink()
    with pytest.raises(InputError, match="no segments.csv"):
        open_run(folder)
    with pytest.raises(InputError, match="not a finished run"):
        open_run(tmp_path)


def test_a_run_without_its_space_file_still_opens(run_folder) -> None:  # type: ignore[no-untyped-def]
    run, folder = run_folder
    (folder / SPACE_FILE).unlink()
    opened = open_run(folder)
    np.testing.assert_array_equal(opened.result.labels, run.result.labels)


def strict_json(text: str) -> dict:  # type: ignore[type-arg]
    """JSON as other readers take it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return dict(json.loads(text, parse_constant=refuse))


def test_writing_a_run_leaves_its_timings_as_they_were(run_folder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The run may be the run cache's, written again later: its timings stay the run's, and
    each run.json carries the seconds of its own export."""
    run, folder = run_folder
    assert "export" not in run.timings
    written = strict_json((folder / "run.json").read_text(encoding="utf-8"))
    assert set(written["seconds"]) == {*run.timings, "export"}
    write_outputs(run, tmp_path / "again")
    assert "export" not in run.timings


def test_a_one_segment_run_writes_valid_json_and_opens_again(  # type: ignore[no-untyped-def]
    customers: pd.DataFrame, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    loaded = load_table(customers.to_csv(index=False).encode(), "customers.csv")
    run = run_segmentation(
        loaded,
        detect_schema(loaded.frame),
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=1),
    )
    write_outputs(run, tmp_path / "one")
    written = strict_json((tmp_path / "one" / "run.json").read_text(encoding="utf-8"))
    assert written["result"]["silhouette"] is None  # NaN for one segment
    opened = open_run(tmp_path / "one")
    assert opened.segmenter.k_choice_ == KChoice.fixed(1)
    assert opened.record().engine_name == "local"


def test_a_run_record_reads_back_what_it_wrote(tmp_path: Path) -> None:
    choice = KChoice(3, {3: 0.4, 4: float("nan")}, {3: 12, 4: 5}, "best", {3: 0.5, 4: 0.4})
    record = RunRecord(
        input={"rows": 40},
        schema={},
        embedding={"model_id": None},
        segmenter={"random_state": 0},
        result=result_record(
            n_segments=3,
            silhouette=float("nan"),
            choice=choice,
            reduction="umap",
            text_weight_applied=0.0,
            unsegmented_rows=0,
            influence={},
        ),
        seconds=RunRecord.seconds_of({"fuse": 0.12345}),
        engine={"name": "ray"},
    )
    read = RunRecord.read(Path(record.write(tmp_path)).parent)
    assert read.engine_name == "ray" and read.seconds == {"fuse": 0.123}
    assert read.result["silhouette"] is None
    assert read.k_choice().smallest_segment == {3: 12, 4: 5}
    assert read.k_choice().silhouettes[3] == 0.4 and np.isnan(read.k_choice().silhouettes[4])
    assert "library_versions" in read.extra
