"""The Campaign results page's pieces: the two ways results come in (the table's own
past-campaign columns, or an uploaded results file) and the tables it shows.

Everything computed lives in ``segmenter.results``; here the figures are only worded and
formatted (rates as percentages, intervals as "8.1–12.4%", lifts as "1.6×"), so the
formatting is tested without Streamlit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes
from segmenter.ingest import load_table
from segmenter.pipeline import SegmentationRun
from segmenter.predict import Prediction
from segmenter.results import (
    CampaignResults,
    ResultColumns,
    ResultsReport,
    TargetList,
    analyse,
    guess_result_columns,
    propose_outcome_columns,
    report_json,
    results_from_columns,
    results_from_file,
)
from segmenter.results.collect import TABLE_CAMPAIGN_OUTCOME
from segmenter.results.report import (
    COMPARISONS_FILE,
    RATES_FILE,
    REPORT_FILE,
    TARGETS_FILE,
    UNMATCHED_FILE,
    UPLIFT_FILE,
)
from segmenter.results.store import load_results, save_results
from segmenter.runs import campaign_folder
from segmenter.ui import state
from segmenter.ui.data import named_profiles
from segmenter.ui.widgets import plain
from segmenter.views import segment_names

FROM_TABLE = "Past-campaign columns in this table"
FROM_FILE = "Upload results"
NO_COLUMN = "(none)"
PREVIEW_CUSTOMERS = 50
"""Customers of the target list shown on the page; the download has all of them."""
MISSING = "—"
ALL_CONTACTED = "all contacted"
"""The rates table's variant for every contacted customer of a campaign together."""


def keep_results(run: SegmentationRun, results: CampaignResults) -> ResultsReport:
    """Measure ``results`` for this session and keep them with the run (``results.store``),
    so a reload, and the next drafting brief, still know what worked."""
    report = analyse(results, segment_names(named_profiles(run)))
    st.session_state[state.RESULTS_REPORT] = report
    st.session_state[state.RESULTS_RESTORED] = id(run)
    try:
        save_results(campaign_folder(run), results)
    except SegmenterError as error:
        st.warning(str(error))
    return report


def restore_results(run: SegmentationRun) -> None:
    """Once per run: bring back the results last read for it, measured under the names the
    segments have now."""
    if st.session_state.get(state.RESULTS_RESTORED) == id(run):
        return
    st.session_state[state.RESULTS_RESTORED] = id(run)
    if state.get(state.RESULTS_REPORT) is not None:
        return
    kept = load_results(campaign_folder(run), run_ids(run))
    if kept is not None:
        st.session_state[state.RESULTS_REPORT] = analyse(kept, segment_names(named_profiles(run)))


def run_ids(run: SegmentationRun) -> list[str]:
    """Each run row's customer ID as text (the row number where the table has no ID)."""
    return [str(i) for i in run.prepared.ids]


@st.cache_data(max_entries=4, show_spinner=False)
def _read_cached(content_hash: str, filename: str, _data: bytes) -> pd.DataFrame:
    return load_table(_data, filename).frame


def read_results(data: bytes, filename: str) -> pd.DataFrame:
    """An uploaded results file, every cell as text, cached by its content.

    Raises:
        InputError: as ``load_table`` does (empty, binary, undecodable …).
    """
    return _read_cached(hashlib.sha256(data).hexdigest(), filename, data)


def file_results(
    frame: pd.DataFrame, filename: str, run: SegmentationRun, columns: ResultColumns
) -> CampaignResults:
    """A results file joined to ``run``'s customers, named after the file (its stem is the
    campaign's name when the file has no campaign column).

    Raises:
        ResultsError: as ``results_from_file`` does.
    """
    return results_from_file(
        frame, run_ids(run), run.result.labels, columns, name=Path(filename).stem
    )


def table_source(run: SegmentationRun) -> CampaignResults | None:
    """The table's own 0/1 campaign columns: proposed, confirmed by the user; the results
    once the button is clicked, else ``None``.

    Raises:
        ResultsError: a chosen column is not a yes/no column, or none is chosen.
    """
    frame = run.loaded.frame
    id_column = run.schema.id_column
    proposed = propose_outcome_columns(frame, exclude=[id_column] if id_column else [])
    if not proposed:
        st.info(
            "No column of this table looks like a past campaign's result (a 0/1 or yes/no "
            "column such as AcceptedCmp1, Response or converted). Upload the results instead."
        )
    chosen = st.multiselect(
        "Past-campaign columns (one campaign each)",
        [str(c) for c in frame.columns if c != id_column],
        default=proposed,
        key="results_columns",
    )
    st.caption(
        "Every customer with a value in a column counts as offered that campaign (a blank "
        "cell: not offered); 1, yes or true is a response."
    )
    if not st.button("Use these columns", type="primary", key="results_use_columns"):
        return None
    return results_from_columns(frame, run_ids(run), run.result.labels, chosen)


def _optional(box: Any, label: str, options: list[str], guess: str | None, key: str) -> str | None:
    choices = [NO_COLUMN, *options]
    picked = box.selectbox(label, choices, index=choices.index(guess or NO_COLUMN), key=key)
    return None if picked == NO_COLUMN else str(picked)


def file_source(run: SegmentationRun) -> CampaignResults | None:
    """An uploaded results file: its columns guessed, corrected by the user; the results
    once the button is clicked, else ``None``.

    Raises:
        SegmenterError: the file cannot be read, no column holds the run's IDs, or the
            chosen columns do not make results (``results_from_file``).
    """
    st.caption(
        "One row per customer and campaign, with the customer's ID and outcome columns "
        "(opened, clicked, converted as 0/1 or yes/no; revenue as an amount). The Export "
        "page's campaign plan CSV joins back directly: add the outcome columns to it. A "
        "variant of control, holdout or not contacted marks the control group."
    )
    upload = st.file_uploader(
        "Results file", type=["csv", "tsv", "txt", "xlsx", "parquet"], key="results_file"
    )
    if upload is None:
        return None
    data = upload.getvalue()
    frame = read_results(data, upload.name)
    guess = guess_result_columns(frame, run_ids(run))
    options = [str(c) for c in frame.columns]
    key = f"results_{hashlib.sha256(data).hexdigest()[:12]}"  # fresh choices per file
    boxes = st.columns(5)
    id_column = boxes[0].selectbox(
        "Customer ID", options, index=options.index(guess.id), key=f"{key}_id"
    )
    campaign = _optional(boxes[1], "Campaign (optional)", options, guess.campaign, f"{key}_cmp")
    variant = _optional(boxes[2], "Variant (optional)", options, guess.variant, f"{key}_var")
    channel = _optional(boxes[3], "Channel (optional)", options, guess.channel, f"{key}_chn")
    draft = _optional(boxes[4], "Draft ID (optional)", options, guess.draft_id, f"{key}_draft")
    outcomes = st.multiselect(
        "Outcome columns", options, default=list(guess.outcomes), key=f"{key}_outcomes"
    )
    if not st.button("Read these results", type="primary", key="results_use_file"):
        return None
    columns = ResultColumns(
        id=str(id_column),
        outcomes=tuple(outcomes),
        campaign=campaign,
        variant=variant,
        channel=channel,
        draft_id=draft,
    )
    return file_results(frame, upload.name, run, columns)


def show_read(results: CampaignResults) -> None:
    """What was read, its notes, and the result rows that match no customer (never dropped
    silently)."""
    st.write(plain(results.describe()))
    for note in results.notes:
        st.caption(plain(note))
    if len(results.unmatched):
        n = len(results.unmatched)
        st.warning(
            f"{n:,} result {'row matches' if n == 1 else 'rows match'} no customer of this run, "
            f"so no figure counts {'it' if n == 1 else 'them'}: check that the file's IDs are "
            "this table's."
        )
        with st.expander(f"The {n:,} unmatched {'row' if n == 1 else 'rows'}"):
            st.dataframe(results.unmatched, hide_index=True, key="results_unmatched")
            st.download_button(
                f"{UNMATCHED_FILE} ({n:,} rows)",
                to_csv_bytes(results.unmatched),
                file_name=UNMATCHED_FILE,
                mime="text/csv",
                key="results_unmatched_csv",
            )


def percent(value: float) -> str:
    """``0.081`` -> ``"8.1%"``; a missing value -> ``"—"``."""
    return MISSING if _missing(value) else f"{value * 100:.1f}%"


def interval(low: float, high: float) -> str:
    """A 95% interval of rates: ``"8.1–12.4%"``."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def times(lift: float) -> str:
    """A lift: ``1.6`` -> ``"1.6×"``."""
    return MISSING if _missing(lift) else f"{lift:.1f}×"


def points(value: float) -> str:
    """A difference of rates in percentage points: ``0.021`` -> ``"+2.1"``."""
    return MISSING if _missing(value) else f"{value * 100:+.1f}"


def points_interval(low: float, high: float) -> str:
    """A 95% interval of a difference, in points: ``"−1.0 to +5.2"``."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"{points(low)} to {points(high)}".replace("-", "−")


def p_value(value: float) -> str:
    """``0.0004`` -> ``"<0.001"``, ``0.0312`` -> ``"0.031"``."""
    if _missing(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def rates_table(rates: pd.DataFrame, outcome: str, campaign: str) -> pd.DataFrame:
    """One campaign's rates per segment (and variant), formatted; a cell with too few
    customers shows its note in place of the rate."""
    cell = rates[(rates["outcome"] == outcome) & (rates["campaign"] == campaign)]
    table = pd.DataFrame(
        {
            "Segment": cell["segment_name"],
            "Variant": cell["variant"].replace("", ALL_CONTACTED),
            "Customers": cell["customers"].astype(int),
            "Responded": cell["responders"].astype(int),
            "Rate": [
                note if note else percent(rate)
                for rate, note in zip(cell["rate"], cell["note"], strict=True)
            ],
            "95% interval": [
                interval(lo, hi) for lo, hi in zip(cell["ci_low"], cell["ci_high"], strict=True)
            ],
            "Lift": [times(v) for v in cell["lift"]],
        }
    )
    if cell["value_per_customer"].notna().any():
        table["Value per customer"] = cell["value_per_customer"].round(2)
    if (cell["variant"] == "").all():
        table = table.drop(columns="Variant")
    return table.reset_index(drop=True)


def comparisons_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Every variant comparison, formatted: rates, B − A in points with its interval, the
    p-value before and after Holm's correction, and the verdict in words."""
    return pd.DataFrame(
        {
            "Outcome": comparisons["outcome"],
            "Campaign": comparisons["campaign"],
            "Segment": comparisons["segment_name"],
            "A": comparisons["variant_a"],
            "B": comparisons["variant_b"],
            "Customers (A / B)": [
                f"{a:,} / {b:,}"
                for a, b in zip(comparisons["customers_a"], comparisons["customers_b"], strict=True)
            ],
            "Rate A": [percent(v) for v in comparisons["rate_a"]],
            "Rate B": [percent(v) for v in comparisons["rate_b"]],
            "B − A (points)": [points(v) for v in comparisons["difference"]],
            "95% interval (points)": [
                points_interval(lo, hi)
                for lo, hi in zip(comparisons["ci_low"], comparisons["ci_high"], strict=True)
            ],
            "p": [p_value(v) for v in comparisons["p_value"]],
            "Adjusted p (Holm)": [p_value(v) for v in comparisons["p_adjusted"]],
            "Verdict": comparisons["verdict"],
        }
    ).reset_index(drop=True)


def uplift_table(uplift: pd.DataFrame) -> pd.DataFrame:
    """Treated against control per campaign and segment, formatted."""
    return pd.DataFrame(
        {
            "Outcome": uplift["outcome"],
            "Campaign": uplift["campaign"],
            "Segment": uplift["segment_name"],
            "Contacted": uplift["treated"].astype(int),
            "Contacted rate": [percent(v) for v in uplift["treated_rate"]],
            "Control": uplift["control"].astype(int),
            "Control rate": [percent(v) for v in uplift["control_rate"]],
            "Uplift (points)": [points(v) for v in uplift["uplift"]],
            "95% interval (points)": [
                points_interval(lo, hi)
                for lo, hi in zip(uplift["ci_low"], uplift["ci_high"], strict=True)
            ],
            "p": [p_value(v) for v in uplift["p_value"]],
            "Note": uplift["note"].fillna(""),
        }
    ).reset_index(drop=True)


def segment_ranking(targets: TargetList) -> pd.DataFrame:
    """The target list's segments in rank order, formatted."""
    segments = targets.segments
    table = pd.DataFrame(
        {
            "Rank": segments["segment_rank"].astype(int),
            "Segment": segments["segment_name"],
            "Contacts": segments["contacts"].astype(int),
            "Responses": segments["responses"].astype(int),
            "Expected response": [percent(v) for v in segments["expected_response"]],
        }
    )
    if targets.basis == "uplift":
        table["Expected uplift (points)"] = [points(v) for v in segments["expected_uplift"]]
    return table.reset_index(drop=True)


def customer_preview(targets: TargetList, n: int = PREVIEW_CUSTOMERS) -> pd.DataFrame:
    """The first ``n`` customers of the target list, formatted (the download has every
    customer and column, unformatted)."""
    head = targets.frame.head(n)
    table = pd.DataFrame(
        {
            "Rank": head["rank"],
            "Customer": head["customer_id"],
            "Segment": head["segment_name"],
            "Expected response": [percent(v) for v in head["expected_response"]],
        }
    )
    if targets.basis == "uplift":
        table["Expected uplift (points)"] = [points(v) for v in head["expected_uplift"]]
    if head["predicted_probability"].notna().any():
        table["Predicted"] = [percent(v) for v in head["predicted_probability"]]
    table["Channel"] = head["recommended_channel"]
    table["Variant"] = head["recommended_variant"]
    table["Why this variant"] = head["evidence"]
    return table.reset_index(drop=True)


def campaigns_for(results: CampaignResults, outcome: str) -> list[str]:
    """The campaigns that measured ``outcome``, in the order read."""
    frame = results.frame
    return list(dict.fromkeys(frame.loc[frame["outcome"] == outcome, "campaign"]))


def prediction_scores(
    prediction: Prediction | None, outcome: str, campaigns: Sequence[str]
) -> tuple[np.ndarray | None, str]:
    """The Predict page's scores, with a caption, when its model predicts this goal: its
    label column is the outcome (a results file's outcome column), or, for the table's own
    campaign columns (outcome "responded"), the one campaign learnt from. Else
    ``(None, "")``: a model of another label would order customers by the wrong thing."""
    if prediction is None:
        return None, ""
    column = prediction.cv.label.column
    same = column == outcome or (
        outcome == TABLE_CAMPAIGN_OUTCOME and len(campaigns) == 1 and campaigns[0] == column
    )
    if not same:
        return None, ""
    return (
        prediction.risk,
        f"Within each segment, customers are ordered by the Predict page's {column} score.",
    )


def result_downloads(report: ResultsReport, targets: TargetList) -> None:
    """Download buttons: the target list, rates, comparisons and uplift (where there are
    any) as CSV, and everything as one JSON document (``report_json``)."""
    files = {TARGETS_FILE: targets.frame, RATES_FILE: report.rates}
    for name, table in ((COMPARISONS_FILE, report.comparisons), (UPLIFT_FILE, report.uplift)):
        if len(table):
            files[name] = table
    buttons = st.columns(len(files) + 1)
    for box, (name, frame) in zip(buttons, files.items(), strict=False):
        box.download_button(
            f"{name} ({len(frame):,} rows)",
            to_csv_bytes(frame),
            file_name=name,
            mime="text/csv",
            type="primary" if name == TARGETS_FILE else "secondary",
            key=f"results_{name.removesuffix('.csv')}_csv",
        )
    buttons[-1].download_button(
        "Everything (JSON)",
        report_json(report, targets),
        file_name=REPORT_FILE,
        mime="application/json",
        key="results_json",
    )
