"""``python -m segmenter results``: campaign results per segment of a saved run, from the
table's own outcome columns or a results file, and one line (no traceback) on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter import pipeline
from segmenter.cli import main
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import detect_schema, load_table
from segmenter.runs import open_run
from tests.conftest import FakeEmbedder, make_customers
from tests.shapes import marketing_campaign

CAMPAIGNS = {"AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4", "AcceptedCmp5"}
UNKNOWN_IDS = ("X-001", "X-002", "X-003")


def _run_folder(tmp_path: Path, frame: pd.DataFrame, name: str = "run") -> Path:
    """A local-engine run folder of ``frame`` in three segments, as `segment --out` writes."""
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    loaded = load_table(path, path.name)
    config = EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")
    run = pipeline.run_segmentation(
        loaded, detect_schema(loaded.frame), config, ClusterConfig(n_segments=3, random_state=0)
    )
    folder = tmp_path / name
    pipeline.write_outputs(run, folder)
    return folder


@pytest.fixture
def campaign_run(tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    """A run folder of a marketing campaign table (ID, AcceptedCmp1..5, Response)."""
    return _run_folder(tmp_path, marketing_campaign(300))


def _plan_results(run_dir: Path, path: Path) -> pd.DataFrame:
    """A results file shaped like the campaign plan's export, for every customer of the run:
    variants 1 and 2 and a control group, 3 IDs the run lacks and one row listed twice."""
    run = open_run(run_dir)
    ids = list(run.prepared.ids)
    rng = np.random.default_rng(7)
    variant = np.array(["1", "2", "control"])[np.arange(len(ids)) % 3]
    chance = np.where(variant == "control", 0.05, np.where(variant == "1", 0.15, 0.3))
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "segment_id": [str(s) for s in run.result.labels],
            "channel": "email",
            "variant": variant,
            "draft_id": np.where(variant == "control", "", "draft-" + variant),
            "converted": (rng.random(len(ids)) < chance).astype(int).astype(str),
        }
    )
    strangers = frame.head(3).assign(customer_id=list(UNKNOWN_IDS))
    frame = pd.concat([frame, strangers, frame.iloc[[5]]], ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


def test_table_outcomes_are_measured_by_default(
    campaign_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    assert main(["results", str(campaign_run), "--out", str(out)]) == 0
    rates = pd.read_csv(out / "rates.csv", dtype={"segment_id": str})
    assert set(rates["campaign"]) == CAMPAIGNS | {"Response"}
    run = open_run(campaign_run)
    segments = {str(p.segment_id) for p in run.result.profiles}
    for _, per_campaign in rates.groupby("campaign"):
        assert set(per_campaign["segment_id"]) == segments | {"all"}
    everyone = rates[rates["segment_id"] == "all"].set_index("campaign")
    frame = marketing_campaign(300)
    assert everyone.loc["Response", "responders"] == (frame["Response"] == "1").sum()
    rated = rates.dropna(subset=["rate"])
    assert len(rated) >= len(rates) // 2  # 300 customers in 3 segments: most cells have rates
    assert (rated["ci_low"] <= rated["rate"]).all() and (rated["rate"] <= rated["ci_high"]).all()
    assert (rated["ci_low"] < rated["ci_high"]).all()
    targets = pd.read_csv(out / "targets.csv", dtype={"customer_id": str})
    segmented = run.result.labels >= 0
    assert len(targets) == int(segmented.sum())
    assert sorted(targets["customer_id"]) == sorted(run.prepared.ids[segmented])
    assert not (out / "uplift.csv").exists() and not (out / "unmatched.csv").exists()
    printed = capsys.readouterr().out
    assert "300 customers in 6 campaigns from table columns" in printed
    assert "No control group" in printed and str(out / "targets.csv") in printed


def test_named_outcomes_only_are_measured(campaign_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = ["results", str(campaign_run), "--outcomes", "Response, AcceptedCmp2", "--out"]
    assert main([*args, str(out)]) == 0
    assert set(pd.read_csv(out / "rates.csv")["campaign"]) == {"Response", "AcceptedCmp2"}


def test_a_results_file_is_joined_by_id_with_variants_control_and_strangers(
    campaign_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "nov_email.csv"
    sent = _plan_results(campaign_run, source)
    out = tmp_path / "results"
    assert main(["results", str(campaign_run), "--file", str(source), "--out", str(out)]) == 0
    unmatched = pd.read_csv(out / "unmatched.csv", dtype=str)
    assert unmatched["customer_id"].tolist() == list(UNKNOWN_IDS)
    rates = pd.read_csv(out / "rates.csv", dtype={"variant": str, "segment_id": str})
    assert set(rates["campaign"]) == {"nov_email"}  # the file's stem, not "nov_email.csv"
    assert set(rates["outcome"]) == {"converted"}
    everyone = rates[(rates["segment_id"] == "all")].fillna({"variant": ""})
    by_variant = everyone.set_index("variant")["customers"]
    assert by_variant[""] == 200 and by_variant["control"] == 100  # the repeat merged
    uplift = pd.read_csv(out / "uplift.csv", dtype={"segment_id": str})
    assert "all" in set(uplift["segment_id"]) and uplift["uplift"].notna().any()
    comparisons = pd.read_csv(out / "comparisons.csv", dtype=str)
    pairs = set(zip(comparisons["variant_a"], comparisons["variant_b"], strict=True))
    assert pairs == {("1", "2")}  # control is for uplift, not a variant to compare
    targets = pd.read_csv(out / "targets.csv", dtype=str)
    assert set(targets["recommended_channel"]) == {"email"}
    assert len(targets) == len(sent) - len(UNKNOWN_IDS) - 1 == 300
    printed = capsys.readouterr().out
    assert "3 result rows match no customer" in printed
    assert "1 repeated row merged" in printed and "No control group" not in printed
    assert "ranked by uplift for 'converted'" in printed


def test_a_ray_engine_folder_gives_the_same_rates(campaign_run: Path, tmp_path: Path) -> None:
    # Stands in for the Ray engine, which writes segments/part-*.parquet instead of
    # segments.csv (typed columns, several parts in row order); running Ray here would take
    # minutes and needs requirements-ray.txt (tests/test_ray_engine.py does that).
    local = tmp_path / "local"
    assert main(["results", str(campaign_run), "--out", str(local)]) == 0
    csv = campaign_run / "segments.csv"
    segments = pd.read_csv(csv, dtype=str, keep_default_na=False)
    segments["segment_id"] = segments["segment_id"].astype(int)
    (campaign_run / "segments").mkdir()
    half = len(segments) // 2
    segments.iloc[:half].to_parquet(campaign_run / "segments" / "part-00000.parquet")
    segments.iloc[half:].to_parquet(campaign_run / "segments" / "part-00001.parquet")
    csv.unlink()
    ray = tmp_path / "ray"
    assert main(["results", str(campaign_run), "--out", str(ray)]) == 0
    assert (ray / "rates.csv").read_bytes() == (local / "rates.csv").read_bytes()
    assert (ray / "targets.csv").read_bytes() == (local / "targets.csv").read_bytes()


def test_bad_input_is_one_line_without_a_traceback(
    campaign_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.csv"
    _plan_results(campaign_run, results)
    strangers = tmp_path / "strangers.csv"
    pd.DataFrame({"customer_id": ["A1", "A2"], "converted": ["1", "0"]}).to_csv(
        strangers, index=False
    )
    run, out = str(campaign_run), str(tmp_path / "out")
    cases = [
        (["--file", str(tmp_path / "missing.csv")], "is not a file"),
        (["--file", str(results), "--outcome", "channel"], "'channel' is neither a yes/no"),
        (["--outcomes", "Education"], "'Education' is not a yes/no column"),
        (["--outcomes", "Nope"], "There is no column 'Nope'"),
        (["--file", str(results), "--outcome", "opened"], "no column 'opened'"),
        (["--file", str(strangers)], "No column of the results file holds this run's"),
        (["--file", str(strangers), "--id", "customer_id"], "None of the 2 result rows"),
        (["--goal", "converted"], "--goal 'converted' is not an outcome"),
        (["--id", "customer_id"], "--id name columns of --file"),
        (["--outcomes", "Response", "--file", str(results)], "give one"),
        ([], None),  # the run folder is fine: the control case
    ]
    for extra, message in cases:
        status = main(["results", run, *extra, "--out", out])
        error = capsys.readouterr().err.strip()
        if message is None:
            assert status == 0 and error == ""
            continue
        assert status == 2, extra
        assert error.startswith("error: ") and message in error, (extra, error)
        assert "\n" not in error and "Traceback" not in error
    status = main(["results", str(tmp_path / "no_run"), "--out", out])
    error = capsys.readouterr().err.strip()
    assert status == 2 and "is not a finished run" in error and "\n" not in error


def test_a_table_without_outcome_columns_asks_for_them(
    tmp_path: Path, fake_embedder: FakeEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _run_folder(tmp_path, make_customers(), name="plain")
    assert main(["results", str(folder), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert "no past-campaign outcome columns" in error and "--outcomes" in error
    assert "--file" in error and "\n" not in error
    assert not (tmp_path / "out").exists()
