"""The command line runs the same pipeline and fails with one line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from segmenter.cli import main
from tests.conftest import FakeEmbedder


def test_segment_writes_all_outputs(
    tmp_path: Path, customers: pd.DataFrame, fake_embedder: FakeEmbedder
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    out = tmp_path / "out"
    status = main(["segment", str(source), "--out", str(out), "--embedder", "fake", "--seed", "1"])
    assert status == 0
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    assert len(segments) == len(customers)
    assert segments["customer_id"].tolist() == customers["customer_id"].tolist()
    assert {"segment_id", "segment_name", "x", "y"} <= set(segments.columns)
    profiles = json.loads((out / "profiles.json").read_text())
    assert len(profiles) == segments["segment_id"].nunique()
    run = json.loads((out / "run.json").read_text())
    assert run["segmenter"]["random_state"] == 1
    assert run["embedding"]["model_id"] == "fake-themes"
    assert {"prepare", "embed", "umap", "kmeans", "profile", "export"} <= set(run["seconds"])
    assert "scikit-learn" in run["library_versions"]


def test_segment_with_fixed_k_and_text_columns(
    tmp_path: Path, customers: pd.DataFrame, fake_embedder: FakeEmbedder
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    args = ["segment", str(source), "--out", str(tmp_path / "o"), "--embedder", "fake"]
    assert main([*args, "--k", "3", "--text-cols", "feedback"]) == 0
    segments = pd.read_csv(tmp_path / "o" / "segments.csv")
    assert segments["segment_id"].nunique() == 3


def test_bad_input_is_one_line_and_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    status = main(["segment", str(empty), "--out", str(tmp_path / "o")])
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["segment", str(tmp_path / "nope.csv"), "--out", str(tmp_path)]) == 2
    assert "is not a file" in capsys.readouterr().err
