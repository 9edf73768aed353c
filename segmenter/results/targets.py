"""Who to contact next: segments ranked by expected response (or by uplift when customers
were held out), customers ranked within them, with the channel and variant that did best.

A segment's expected response is its observed rate shrunk toward the overall rate
(``stats.shrunk_rate``), so a small segment with a lucky month does not top the list. When
the Predict page has a model for the same outcome, customers within a segment are ordered
by their predicted probability. With a control group the ranking is by uplift (treated
minus control, both shrunk): who responds *because* they were contacted, not who would
have bought anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmenter.results.collect import CampaignResults
from segmenter.results.rates import compare_variants
from segmenter.results.stats import shrunk_rate

TARGET_COLUMNS = (
    "customer_id",
    "segment_id",
    "segment_name",
    "expected_response",
    "expected_uplift",
    "predicted_probability",
    "rank",
    "segment_rank",
    "recommended_channel",
    "recommended_variant",
    "recommended_draft_id",
    "evidence",
)


@dataclass(frozen=True)
class TargetList:
    """The ranked customers and how the ranking was made."""

    frame: pd.DataFrame
    basis: str
    """"uplift" or "expected response"."""
    segments: pd.DataFrame
    """One row per segment: contacts, responses, expected response (and uplift), rank."""
    note: str


@dataclass(frozen=True)
class _Recommendation:
    channel: str
    variant: str
    draft_id: str
    evidence: str


def _recommend(chosen: pd.DataFrame, comparisons: pd.DataFrame, segment_id: int) -> _Recommendation:
    """The variant with the best shrunk rate in this segment, and whether a test backs it."""
    treated = chosen[(chosen["segment_id"] == segment_id) & ~chosen["control"]]
    if treated.empty:
        return _Recommendation("", "", "", "no results for this segment")
    channels = treated.groupby("channel")["responded"].agg(["sum", "size"])
    channels = channels[channels.index != ""]
    channel = ""
    if len(channels):
        overall = channels["sum"].sum() / channels["size"].sum()
        channel = str(
            channels.index[int(np.argmax(shrunk_rate(channels["sum"], channels["size"], overall)))]
        )
    variants = treated.groupby(["variant", "draft_id"])["responded"].agg(["sum", "size"])
    if len(variants) < 2:
        only = variants.index[0] if len(variants) else ("", "")
        return _Recommendation(channel, str(only[0]), str(only[1]), "one version sent")
    overall = variants["sum"].sum() / variants["size"].sum()
    shrunk = shrunk_rate(variants["sum"].to_numpy(), variants["size"].to_numpy(), overall)
    best = variants.index[int(np.argmax(shrunk))]
    variant, draft_id = str(best[0]), str(best[1])
    mine = comparisons[
        (comparisons["segment_id"] == segment_id)
        & ((comparisons["variant_a"] == variant) | (comparisons["variant_b"] == variant))
    ]
    wins = mine["verdict"].fillna("").str.startswith(f"variant {variant} responded more")
    if len(mine) and wins.all():
        return _Recommendation(
            channel, variant, draft_id, "responded more than the others (tested)"
        )
    return _Recommendation(
        channel, variant, draft_id, "best so far, but no clear difference from the others"
    )


def target_list(
    results: CampaignResults,
    ids: Sequence[str],
    labels: np.ndarray,
    names: Mapping[int, str],
    *,
    outcome: str,
    campaigns: Sequence[str] = (),
    scores: np.ndarray | None = None,
) -> TargetList:
    """Every segmented customer, ranked for the next campaign aimed at ``outcome``.

    Args:
        results: what earlier campaigns gave.
        ids, labels: each run row's customer ID and segment.
        names: segment names.
        outcome: the goal ("converted", "responded" …).
        campaigns: the campaigns to learn from (all of them when empty).
        scores: each row's predicted probability of ``outcome`` from the Predict page's
            model, to order customers within a segment; ``None`` keeps table order.
    """
    chosen = results.frame[results.frame["outcome"] == outcome]
    if campaigns:
        chosen = chosen[chosen["campaign"].isin(campaigns)]
    label_array = np.asarray(labels, dtype=int)
    treated = chosen[~chosen["control"]]
    held = chosen[chosen["control"]]
    segment_ids = sorted(int(s) for s in np.unique(label_array) if s >= 0)
    per_segment = pd.DataFrame({"segment_id": segment_ids})
    t = treated.groupby("segment_id")["responded"].agg(["sum", "size"])
    # Contacts, not customers: a customer offered three campaigns counts three times.
    per_segment["contacts"] = per_segment["segment_id"].map(t["size"]).fillna(0).astype(int)
    per_segment["responses"] = per_segment["segment_id"].map(t["sum"]).fillna(0).astype(int)
    overall = treated["responded"].mean() if len(treated) else 0.0
    per_segment["expected_response"] = shrunk_rate(
        per_segment["responses"], per_segment["contacts"], float(overall)
    )
    basis = "expected response"
    note = (
        "No control group in these results: uplift cannot be estimated, so segments are "
        "ranked by expected response (which includes customers who would have responded "
        "anyway)."
    )
    per_segment["expected_uplift"] = np.nan
    if len(held):
        c = held.groupby("segment_id")["responded"].agg(["sum", "size"])
        control_customers = per_segment["segment_id"].map(c["size"]).fillna(0)
        control_rate = shrunk_rate(
            per_segment["segment_id"].map(c["sum"]).fillna(0),
            control_customers,
            float(held["responded"].mean()),
        )
        per_segment["control_contacts"] = control_customers.astype(int)
        per_segment["expected_uplift"] = per_segment["expected_response"] - control_rate
        basis = "uplift"
        note = (
            "Ranked by uplift: the segment's response when contacted minus its control "
            "group's, both pulled toward the overall rates when a segment is small."
        )
    missing = int((per_segment["contacts"] == 0).sum())
    if missing:
        # Shrinkage gives them the overall rate: a placeholder, not something learnt.
        note += (
            f" {missing} of {len(per_segment)} segments had no customers in these results: "
            "they come after the segments with results, at the overall rate, which says "
            "nothing about them."
        )
    key = "expected_uplift" if basis == "uplift" else "expected_response"
    # Segments with results first: a segment without any gets the overall rate, and in a
    # tie it must not outrank one whose rate was measured (the walk ranked an unmeasured
    # segment first).
    per_segment["_measured"] = per_segment["contacts"] > 0
    per_segment = per_segment.sort_values(
        ["_measured", key], ascending=[False, False], kind="stable"
    ).drop(columns="_measured")
    per_segment["segment_rank"] = np.arange(1, len(per_segment) + 1)
    per_segment["segment_name"] = [names.get(s, f"Segment {s}") for s in per_segment["segment_id"]]
    comparisons = (
        compare_variants(CampaignResults(chosen, results.source), names)
        if len(chosen)
        else pd.DataFrame(columns=["segment_id", "variant_a", "variant_b", "verdict"])
    )
    advice = {s: _recommend(chosen, comparisons, s) for s in segment_ids}

    rows = np.flatnonzero(label_array >= 0)
    frame = pd.DataFrame(
        {
            "customer_id": [str(ids[int(r)]) for r in rows],
            "segment_id": label_array[rows],
        }
    )
    by_segment = per_segment.set_index("segment_id")
    for column in ("segment_name", "expected_response", "expected_uplift", "segment_rank"):
        frame[column] = frame["segment_id"].map(by_segment[column])
    frame["predicted_probability"] = (
        np.asarray(scores, dtype=float)[rows] if scores is not None else np.nan
    )
    order_keys = ["segment_rank", "predicted_probability"]
    frame["_row"] = rows
    frame = frame.sort_values(
        [*order_keys, "_row"], ascending=[True, False, True], kind="stable", na_position="last"
    )
    frame["rank"] = np.arange(1, len(frame) + 1)
    for column in ("channel", "variant", "draft_id", "evidence"):
        target = "evidence" if column == "evidence" else f"recommended_{column}"
        frame[target] = frame["segment_id"].map({s: getattr(a, column) for s, a in advice.items()})
    return TargetList(
        frame=frame[list(TARGET_COLUMNS)].reset_index(drop=True),
        basis=basis,
        segments=per_segment.reset_index(drop=True),
        note=note,
    )
