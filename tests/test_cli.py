"""The command line runs the same pipeline and fails with one line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from segmenter.cli import main
from tests.conftest import FakeEmbedder, FakeGenerator, make_transaction_log


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


def test_segment_by_and_left_out_columns_are_applied_and_recorded(
    tmp_path: Path, customers: pd.DataFrame, fake_embedder: FakeEmbedder
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    out = tmp_path / "o"
    args = ["segment", str(source), "--out", str(out), "--embedder", "fake", "--k", "3"]
    assert main([*args, "--segment-by", "columns", "--exclude", "theme,plan"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["segmenter"]["segment_by"] == "columns"
    assert run["result"]["excluded_columns"] == ["theme", "plan"]
    drivers = run["result"]["drivers"]
    assert set(drivers) == {"0", "1", "2"}
    assert {name for found in drivers.values() for name, _ in found} == {"spend"}


def test_dates_join_the_segmentation_only_with_with_dates(
    tmp_path: Path, customers: pd.DataFrame, fake_embedder: FakeEmbedder
) -> None:
    source = tmp_path / "customers.csv"
    days = pd.date_range("2024-01-01", periods=len(customers), freq="D")
    customers.assign(signup=days.strftime("%Y-%m-%d")).to_csv(source, index=False)
    args = ["segment", str(source), "--embedder", "fake", "--k", "3", "--segment-by", "columns"]
    for extra, joined in (([], False), (["--with-dates"], True)):
        out = tmp_path / str(joined)
        assert main([*args, "--out", str(out), *extra]) == 0
        run = json.loads((out / "run.json").read_text())
        assert run["result"]["segment_dates"] is joined
        driving = {name for found in run["result"]["drivers"].values() for name, _ in found}
        assert ("signup" in driving) is joined


def test_segment_by_what_the_table_lacks_is_one_clear_line(
    tmp_path: Path, customers: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "customers.csv"
    customers.drop(columns=["feedback"]).to_csv(source, index=False)
    args = ["segment", str(source), "--out", str(tmp_path / "o")]
    assert main([*args, "--segment-by", "text"]) == 2
    assert "Segment by text needs text" in capsys.readouterr().err
    assert main([*args, "--exclude", "nope"]) == 2
    assert "Cannot leave out 'nope'" in capsys.readouterr().err


def test_segment_a_transaction_log_per_customer(
    tmp_path: Path, fake_embedder: FakeEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_transaction_log()
    source = tmp_path / "orders.csv"
    log.to_csv(source, index=False)
    out = tmp_path / "out"
    args = ["segment", str(source), "--out", str(out), "--embedder", "fake", "--transactions"]
    assert main(args) == 0
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    customers = set(log["CustomerID"]) - {""}
    assert set(segments["CustomerID"]) == customers and len(segments) == len(customers)
    assert {"recency_days", "frequency", "monetary", "products", "lifecycle_stage"} <= set(
        segments.columns
    )
    unattributed = pd.read_csv(out / "unattributed_transactions.csv", dtype=str)
    assert (unattributed["reason"] == "no customer id").all()
    assert len(unattributed) == (log["CustomerID"] == "").sum()
    run = json.loads((out / "run.json").read_text())
    assert any("returns or cancellations" in note for note in run["input"]["notes"])
    assert "no customer id" in capsys.readouterr().err


def test_transactions_flag_on_a_customer_table_is_explained(
    tmp_path: Path, customers: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    assert main(["segment", str(source), "--out", str(tmp_path / "o"), "--transactions"]) == 2
    assert "does not look like a transaction log" in capsys.readouterr().err


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


def test_draft_prints_json_for_a_segment(
    tmp_path: Path,
    customers: pd.DataFrame,
    fake_embedder: FakeEmbedder,
    fake_generator: FakeGenerator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    out = tmp_path / "out"
    assert main(["segment", str(source), "--out", str(out), "--embedder", "fake", "--k", "3"]) == 0
    capsys.readouterr()
    status = main(
        ["draft", str(out), "--segment", "1", "--channel", "ad", "--model", "fake-lm"]
        + ["--goal", "upsell", "--offer", "Premium for 3 months", "--variants", "2"]
    )
    assert status == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["variant"] for r in records] == [1, 2]
    record = records[0]
    assert record["segment_id"] == 1 and record["channel"] == "ad" and record["goal"] == "upsell"
    assert set(record["fields"]) == {"headline", "primary_text", "call_to_action"}
    assert record["model"] == "fake-lm" and record["checks"] == "passed"
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[0])
    profiles = json.loads((out / "profiles.json").read_text())
    assert profiles[1]["examples"][0][:30] in prompt


def test_lm_names_name_the_segments_as_the_page_does(
    tmp_path: Path,
    customers: pd.DataFrame,
    fake_embedder: FakeEmbedder,
    fake_generator: FakeGenerator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    args = ["segment", str(source), "--embedder", "fake", "--k", "3", "--seed", "0"]
    assert main([*args, "--out", str(tmp_path / "plain")]) == 0
    plain = json.loads((tmp_path / "plain" / "profiles.json").read_text())
    # Each name fits its segment's own words, whichever number the clustering gave a theme;
    # the third is invented, so the grounding check keeps the rule-based name.
    ids = {
        word: next(p["segment_id"] for p in plain if any(word in k for k in p["keywords"]))
        for word in ("deliver", "price", "support")
    }
    named = [
        {"id": ids["deliver"], "name": "Parcel worriers", "persona": "Wait for late parcels."},
        {"id": ids["price"], "name": "Price watchers", "persona": "Compare every price."},
        {"id": ids["support"], "name": "Travel Enthusiasts", "persona": "Always on a trip."},
    ]
    fake_generator.replies = [json.dumps({"segments": named})]
    capsys.readouterr()
    out = tmp_path / "named"
    assert main([*args, "--out", str(out), "--lm-names", "--lm-model", "fake-lm"]) == 0
    assert fake_generator.prompts, "the model was never asked"
    names = {p["segment_id"]: p["name"] for p in json.loads((out / "profiles.json").read_text())}
    assert names[ids["deliver"]] == "Parcel worriers"
    assert names[ids["price"]] == "Price watchers"
    rule_based = next(p["name"] for p in plain if p["segment_id"] == ids["support"])
    assert names[ids["support"]] == rule_based
    segments = pd.read_csv(out / "segments.csv")
    assert set(segments["segment_name"]) == set(names.values())
    personas = {p["segment_id"]: p for p in json.loads((out / "lm_names.json").read_text())}
    assert personas[ids["price"]]["persona"] == "Compare every price."
    assert personas[ids["support"]]["note"]
    captured = capsys.readouterr()
    assert f"note: segment {ids['support']}: " in captured.err
    assert "Price watchers" in captured.out


def test_call_lists_are_the_pages_call_lists(
    tmp_path: Path, customers: pd.DataFrame, fake_embedder: FakeEmbedder
) -> None:
    source = tmp_path / "customers.csv"
    customers.to_csv(source, index=False)
    out = tmp_path / "out"
    args = ["segment", str(source), "--out", str(out), "--embedder", "fake", "--k", "3"]
    assert main([*args, "--call-lists"]) == 0
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    negative = pd.read_csv(out / "call_list_negative.csv", dtype=str, keep_default_na=False)
    assert len(negative) == (segments["sentiment"] == "negative").sum() > 0
    assert set(negative["sentiment"]) == {"negative"}
    scores = negative["sentiment score"].astype(float)
    assert scores.is_monotonic_increasing  # most negative first
    by_id = segments.set_index("customer_id")["segment_name"]
    assert negative["segment"].tolist() == by_id[negative["customer_id"]].tolist()
    urgent = pd.read_csv(out / "call_list_urgent.csv", dtype=str, keep_default_na=False)
    assert len(urgent) == (segments["urgent_flags"] != "").sum()
    assert (urgent["urgent flags"] != "").all()


def test_predict_prints_the_pages_comparison_table(
    tmp_path: Path,
    customers: pd.DataFrame,
    fake_embedder: FakeEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "customers.csv"
    customers.assign(churned=["Yes" if i % 3 == 0 else "No" for i in range(len(customers))]).to_csv(
        source, index=False
    )
    out = tmp_path / "out"
    args = ["predict", str(source), "--label", "churned", "--out", str(out), "--embedder", "fake"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "ROC AUC" in printed and "F1 at 0.50" in printed and "base_rate" not in printed
    assert "base rate (share of yes): 0.3" in printed
    scores = pd.read_csv(out / "scores.csv")
    assert (scores["risk_score"] == scores["risk_score"].round(4)).all()


def test_lm_names_are_not_offered_on_ray(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["segment", str(tmp_path), "--out", str(tmp_path / "o"), "--engine", "ray"]
    assert main([*args, "--lm-names"]) == 2
    err = capsys.readouterr().err
    assert "--lm-names" in err and "not yet available with --engine ray" in err


def test_draft_with_a_bad_folder_or_segment_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_generator: FakeGenerator
) -> None:
    assert main(["draft", str(tmp_path), "--segment", "0", "--model", "fake-lm"]) == 2
    assert "run `python -m segmenter segment" in capsys.readouterr().err
    (tmp_path / "profiles.json").write_text("[]")
    assert main(["draft", str(tmp_path), "--segment", "4", "--model", "fake-lm"]) == 2
    assert "lists no segments" in capsys.readouterr().err
    one = [{"segment_id": 0, "name": "A", "size": 5, "share": 1}]
    (tmp_path / "profiles.json").write_text(json.dumps(one))
    assert main(["draft", str(tmp_path), "--segment", "4", "--model", "fake-lm"]) == 2
    assert "There is no segment 4: choose one of 0." in capsys.readouterr().err


def test_address_without_the_ray_engine_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "t.csv"
    source.write_text("a,b\n1,2\n")
    code = main(["segment", str(source), "--out", str(tmp_path / "o"), "--address", "auto"])
    assert code == 2
    assert "--engine ray" in capsys.readouterr().err


def test_the_local_engine_and_the_app_do_not_import_ray() -> None:
    """Ray is an optional extra: the app, the pipeline and the CLI run without it."""
    import subprocess
    import sys

    code = (
        "import sys, segmenter.pipeline, segmenter.cli, segmenter.runs, segmenter.ui.data; "
        "sys.exit('ray' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
