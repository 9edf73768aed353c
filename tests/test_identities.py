"""Stable identities across runs: a new segmentation keeps an earlier run's numbers and
names where its segments persist, matched by shared customers or by the saved model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter import pipeline
from segmenter.cli import main
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.identities import relabelled_segmenter, with_identities
from segmenter.ingest import detect_schema, load_table
from segmenter.maps import SEGMENT_PALETTE, map_frame, segment_map
from segmenter.runs import open_run
from tests.conftest import FakeEmbedder, make_customers


def _run(tmp_path: Path, frame: pd.DataFrame, name: str, k: int = 3) -> pipeline.SegmentationRun:
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    loaded = load_table(path, path.name)
    config = EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")
    return pipeline.run_segmentation(
        loaded, detect_schema(loaded.frame), config, ClusterConfig(n_segments=k)
    )


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _earlier(tmp_path: Path) -> tuple[pipeline.SegmentationRun, Path]:
    earlier = _run(tmp_path, make_customers(60, seed=0), "a")
    folder = tmp_path / "run_a"
    pipeline.write_outputs(earlier, folder)
    return earlier, folder


def _labels_by_id(run: pipeline.SegmentationRun) -> pd.Series:
    return pd.Series(run.result.labels, index=run.prepared.ids.to_numpy())


def test_a_rerun_of_reordered_and_refreshed_customers_keeps_every_identity(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    earlier, folder = _earlier(tmp_path)
    # Next month: the rows in another order, a tenth gone, 20 new customers (other seed).
    kept = _shuffled(make_customers(60, seed=0), 7).iloc[18:]
    newcomers = make_customers(7, seed=5).assign(customer_id=lambda f: "N" + f["customer_id"])
    later = _run(tmp_path, pd.concat([kept, newcomers], ignore_index=True), "b")
    relabelled, match = with_identities(later, folder)
    assert match.method == "customers" and not match.vanished and not match.new
    before, after = _labels_by_id(earlier), _labels_by_id(relabelled)
    shared = before.index.intersection(after.index)
    assert (before[shared] == after[shared]).mean() > 0.95
    names = {p.segment_id: p.name for p in earlier.result.profiles}
    assert {p.segment_id: p.name for p in relabelled.result.profiles} == names


def test_without_shared_ids_the_saved_model_matches_the_segments(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    earlier, folder = _earlier(tmp_path)
    renamed = _shuffled(make_customers(60, seed=0), 3)
    renamed["customer_id"] = [f"X{i:04d}" for i in range(len(renamed))]
    later = _run(tmp_path, renamed, "b")
    relabelled, match = with_identities(later, folder)
    assert match.method == "centres" and len(match.matched) == 3
    theme = dict(zip(earlier.loaded.frame["feedback"], earlier.result.labels, strict=True))
    again = [theme[t] for t in relabelled.loaded.frame["feedback"]]
    assert (np.array(again) == relabelled.result.labels).mean() > 0.95


def test_a_new_segment_gets_a_new_number_and_a_vanished_one_is_listed(
    fake_embedder: FakeEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = _earlier(tmp_path)
    frame = make_customers(60, seed=0)
    frame.to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "run_b"
    assert (
        main(
            [
                "segment",
                str(tmp_path / "b.csv"),
                "--out",
                str(out),
                "--embedder",
                "fake",
                "--k",
                "4",
                "--previous",
                str(folder),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "kept 3 segment numbers and names" in printed and "new segments: 3" in printed
    record = json.loads((out / "run.json").read_text())
    assert record["identities"]["earlier_run"] == str(folder)
    assert record["identities"]["next_id"] == 4
    # The next run of fewer segments loses one: it is listed, and its number is not reused.
    out_c = tmp_path / "run_c"
    assert (
        main(
            [
                "segment",
                str(tmp_path / "b.csv"),
                "--out",
                str(out_c),
                "--embedder",
                "fake",
                "--k",
                "2",
                "--previous",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "vanished segments of" in printed


def test_kept_numbers_with_a_gap_open_recluster_and_keep_their_colours(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    run = _run(tmp_path, make_customers(60, seed=0), "a")
    identities = {0: 0, 1: 4, 2: 2}
    segmenter = relabelled_segmenter(run.segmenter, identities)
    from segmenter.movement import relabel

    profiles = tuple(
        p.__class__(**{**p.__dict__, "segment_id": identities[p.segment_id]})
        for p in run.result.profiles
    )
    labels = relabel(run.result.labels, identities)
    gapped = pipeline.SegmentationRun(
        **{
            **run.__dict__,
            "segmenter": segmenter,
            "result": run.result.__class__(labels, run.result.coords, profiles),
        }
    )
    folder = tmp_path / "gapped"
    pipeline.write_outputs(gapped, folder)
    opened = open_run(folder)
    assert sorted({int(x) for x in opened.result.labels}) == [0, 2, 4]
    assert opened.segmenter.n_segments_ == 3
    assert pipeline.recluster_run(opened, 3).segmenter.n_segments_ == 3
    names = {p.segment_id: p.name for p in profiles}
    points = map_frame(
        run.loaded.frame,
        labels,
        run.result.coords,
        names,
        run.docs,
        id_values=run.prepared.ids,
        id_name="customer_id",
    )
    figure = segment_map(points, id_name="customer_id")
    colours = {trace.name: trace.marker.color for trace in figure.data}
    assert colours[names[4]] == SEGMENT_PALETTE[4]
