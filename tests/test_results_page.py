"""AppTest of the Campaign results page over a segmented marketing-campaign table, and its
formatting helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import detect_schema, load_table
from segmenter.pipeline import SegmentationRun, run_segmentation
from segmenter.results import NO_CONTROL, ResultsReport, TargetList
from segmenter.ui import state
from segmenter.ui.results import (
    FROM_FILE,
    comparisons_table,
    interval,
    p_value,
    percent,
    points_interval,
    prediction_scores,
    rates_table,
    times,
)
from tests.conftest import FakeEmbedder
from tests.shapes import marketing_campaign
from tests.test_pages import page, with_run

RESULTS = "pages/7_Results.py"
PROPOSED = ["AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4", "AcceptedCmp5"]


@pytest.fixture(scope="module")
def campaign_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SegmentationRun]:
    """``marketing_campaign`` (300 customers, AcceptedCmp1..5 and Response) in 3 segments,
    segmented once for the module with the fake embedder and its own cache folder."""
    from segmenter.embedding import register_embedder, unregister_embedder

    folder = tmp_path_factory.mktemp("results_run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGMENTER_CACHE_DIR", str(folder / "cache"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        register_embedder("fake", FakeEmbedder, description="test embedder")
        try:
            loaded = load_table(marketing_campaign(300).to_csv(index=False).encode(), "mkt.csv")
            yield run_segmentation(
                loaded,
                detect_schema(loaded.frame),
                EmbedConfig(model="fake", sentiment_model="fake"),
                ClusterConfig(n_segments=3, random_state=0),
            )
        finally:
            unregister_embedder("fake")


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The page's table with ``column`` (AppTest does not give a plain table its key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, f"one table with {column!r} expected, found {len(found)}"
    frame: pd.DataFrame = found[0]
    return frame


def _downloads(at: AppTest) -> set[str]:
    return {str(button.key) for button in at.get("download_button")}


def _upload(at: AppTest, name: str, frame: pd.DataFrame) -> AppTest:
    at.run()
    at.radio(key="results_source").set_value(FROM_FILE).run()
    at.file_uploader[0].set_value((name, frame.to_csv(index=False).encode(), "text/csv"))
    return at.run()


def test_without_a_run_it_says_to_segment_first() -> None:
    at = page(RESULTS).run()
    assert not at.exception
    assert at.title[0].value == "Campaign results"
    assert "Find segments first" in at.info[0].value
    assert not at.radio  # nothing to read results into


def test_table_columns_give_rates_charts_and_targets(campaign_run: SegmentationRun) -> None:
    at = page(RESULTS, with_run(campaign_run)).run()
    assert not at.exception
    assert at.multiselect(key="results_columns").value == [*PROPOSED, "Response"]
    assert state.RESULTS_REPORT not in at.session_state  # nothing until confirmed
    at.button(key="results_use_columns").click().run()
    assert not at.exception
    report: ResultsReport = at.session_state[state.RESULTS_REPORT]
    assert report.results.campaigns == [*PROPOSED, "Response"]
    assert "300 customers in 6 campaigns from table columns" in at.markdown[0].value
    assert [c.key for c in at.get("plotly_chart")] == ["results_forest", "results_heatmap"]
    rates = _table(at, "Rate")
    assert rates["Segment"].iloc[0] == "All customers" and len(rates) == 4  # + 3 segments
    assert rates["Customers"].iloc[0] == 300
    assert all(re.fullmatch(r"\d+\.\d%", r) for r in rates["Rate"])
    assert all(re.fullmatch(r"\d+\.\d–\d+\.\d%", i) for i in rates["95% interval"])
    assert rates["Lift"].iloc[0] == "1.0×"
    assert NO_CONTROL in [info.value for info in at.info]
    assert not any("Variant comparison" in h.value for h in at.subheader)  # one version each
    targets: TargetList = at.session_state[state.RESULTS_TARGETS]
    assert targets.basis == "expected response" and len(targets.frame) == 300
    assert len(_table(at, "Contacts")) == 3  # the segment ranking
    first = _table(at, "Why this variant")  # the first 50 customers
    assert len(first) == 50 and first["Rank"].tolist() == list(range(1, 51))
    assert set(first["Segment"]) == {targets.segments["segment_name"].iloc[0]}  # the best
    assert _downloads(at) == {"results_targets_csv", "results_rates_csv", "results_json"}


def test_a_confirmed_report_is_dropped_by_a_new_run(campaign_run: SegmentationRun) -> None:
    at = page(RESULTS, with_run(campaign_run)).run()
    at.button(key="results_use_columns").click().run()
    assert state.RESULTS_REPORT in at.session_state
    assert state.RESULTS_REPORT in state.DOWNSTREAM[state.RUN]
    assert state.RESULTS_TARGETS in state.DOWNSTREAM[state.UPLOAD_FINGERPRINT]


def _spring_results(run: SegmentationRun) -> pd.DataFrame:
    """A campaign plan with outcomes: variants 1 and 2 and a control group, variant 2
    converting far more; two rows whose IDs are no customer of the run."""
    ids = [str(i) for i in run.prepared.ids]
    arm = np.array(["1", "1", "2", "2", "control"])[np.arange(len(ids)) % 5]
    rate = {"1": 0.10, "2": 0.40, "control": 0.05}
    draw = np.random.default_rng(0).random(len(ids))
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "campaign": "Spring sale",
            "variant": arm,
            "channel": "email",
            "converted": [int(d < rate[a]) for d, a in zip(draw, arm, strict=True)],
        }
    )
    strangers = frame.head(2).assign(customer_id=["X-1", "X-2"])
    return pd.concat([frame, strangers], ignore_index=True)


def test_uploaded_results_with_control_show_comparisons_and_uplift(
    campaign_run: SegmentationRun,
) -> None:
    at = _upload(page(RESULTS, with_run(campaign_run)), "spring.csv", _spring_results(campaign_run))
    assert not at.exception
    picked = {str(box.label): box.value for box in at.selectbox}
    assert picked["Customer ID"] == "customer_id"
    assert picked["Campaign (optional)"] == "campaign"
    assert picked["Variant (optional)"] == "variant"
    assert picked["Channel (optional)"] == "channel"
    assert at.multiselect[0].value == ["converted"]
    at.button(key="results_use_file").click().run()
    assert not at.exception
    assert at.session_state[state.RESULTS_REPORT].results.source == "spring"
    assert "2 result rows match no customer" in at.warning[0].value
    assert len(at.expander) == 1 and "2 unmatched" in at.expander[0].label
    assert at.expander[0].dataframe[0].value["customer_id"].tolist() == ["X-1", "X-2"]
    comparisons = _table(at, "Adjusted p (Holm)")
    everyone = comparisons[comparisons["Segment"] == "All customers"].iloc[0]
    assert (everyone["A"], everyone["B"]) == ("1", "2")
    assert everyone["Verdict"] == "variant 2 responded more than variant 1"
    assert everyone["B − A (points)"].startswith("+")
    assert any("Holm-adjusted p" in c.value for c in at.caption)
    uplift = _table(at, "Uplift (points)")
    assert uplift["Segment"].iloc[0] == "All customers" and uplift["Control"].iloc[0] == 60
    assert NO_CONTROL not in [info.value for info in at.info]
    assert at.session_state[state.RESULTS_TARGETS].basis == "uplift"
    assert {"results_comparisons_csv", "results_uplift_csv", "results_unmatched_csv"} <= _downloads(
        at
    )
    rates = _table(at, "Rate")
    assert rates["Variant"].tolist()[:4] == ["all contacted", "1", "2", "control"]


def test_a_results_file_matching_no_customer_is_an_error(campaign_run: SegmentationRun) -> None:
    strangers = pd.DataFrame(
        {"customer_id": [f"Z{i}" for i in range(40)], "converted": ["yes", "no"] * 20}
    )
    at = _upload(page(RESULTS, with_run(campaign_run)), "other.csv", strangers)
    assert not at.exception
    assert len(at.error) == 1
    assert "No column of the results file holds this run's customer IDs" in at.error[0].value
    assert "\n" not in at.error[0].value
    assert state.RESULTS_REPORT not in at.session_state


def test_formatting() -> None:
    assert percent(0.081) == "8.1%" and percent(float("nan")) == "—"
    assert interval(0.081, 0.124) == "8.1–12.4%"
    assert times(1.64) == "1.6×" and times(float("nan")) == "—"
    assert points_interval(-0.01, 0.052) == "−1.0 to +5.2"
    assert p_value(0.0004) == "<0.001" and p_value(0.0312) == "0.031"


def _rates(**cell: Any) -> pd.DataFrame:
    row = {
        "outcome": "responded",
        "campaign": "Spring",
        "variant": "",
        "segment_id": 0,
        "segment_name": "Students",
        "customers": 12,
        "responders": 3,
        "rate": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "lift": np.nan,
        "value_per_customer": np.nan,
        "note": "too few customers (12) for a rate",
    }
    return pd.DataFrame([{**row, **cell}])


def test_a_small_cell_shows_its_note_instead_of_a_rate() -> None:
    table = rates_table(_rates(), "responded", "Spring")
    assert table["Rate"].tolist() == ["too few customers (12) for a rate"]
    assert table["95% interval"].tolist() == ["—"] and "Variant" not in table.columns
    full = rates_table(
        _rates(customers=200, rate=0.1, ci_low=0.066, ci_high=0.149, lift=1.55, note=""),
        "responded",
        "Spring",
    )
    assert full[["Rate", "95% interval", "Lift"]].values.tolist() == [
        ["10.0%", "6.6–14.9%", "1.6×"]
    ]


def test_an_untested_comparison_shows_dashes() -> None:
    row = {
        "outcome": "converted",
        "campaign": "Spring",
        "segment_id": 0,
        "segment_name": "Students",
        "variant_a": "1",
        "variant_b": "2",
        "customers_a": 10,
        "customers_b": 12,
        "rate_a": 0.1,
        "rate_b": 0.25,
        "verdict": "too few customers to compare",
    }
    table = comparisons_table(
        pd.DataFrame([row]).reindex(
            columns=[*row, "difference", "ci_low", "ci_high", "p_value", "p_adjusted"]
        )
    )
    assert table.iloc[0]["B − A (points)"] == "—" and table.iloc[0]["Adjusted p (Holm)"] == "—"
    assert table.iloc[0]["Customers (A / B)"] == "10 / 12"


def _prediction(column: str) -> Any:
    return SimpleNamespace(cv=SimpleNamespace(label=SimpleNamespace(column=column)), risk=[0.5])


def test_prediction_scores_only_for_the_same_goal() -> None:
    assert prediction_scores(None, "converted", []) == (None, "")
    scores, caption = prediction_scores(_prediction("converted"), "converted", ["Spring"])
    assert scores == [0.5] and "converted score" in caption
    assert prediction_scores(_prediction("churned"), "converted", ["Spring"])[0] is None
    # Table columns: the outcome is "responded"; the label must be the one campaign's column.
    assert prediction_scores(_prediction("Response"), "responded", ["Response"])[0] == [0.5]
    both = ["Response", "AcceptedCmp1"]
    assert prediction_scores(_prediction("Response"), "responded", both)[0] is None
