"""What worked: response rates per segment, campaign and variant; variant comparisons; uplift.

Every figure carries the number of customers behind it. A cell with fewer than
``MIN_CUSTOMERS`` customers shows no rate, only a note saying so. A variant is called
better than another only when the difference survives a two-sided test at 5% after Holm's
correction over every comparison of its family (all customers, or the segments); a
non-significant comparison says whether the groups were big enough to find a difference
worth having (``UNDERPOWERED_LIFT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd

from segmenter.results.collect import CampaignResults
from segmenter.results.stats import ALPHA, difference, holm, wilson_interval

MIN_CUSTOMERS = 30
"""Fewer customers than this in a cell: no rate is shown (its interval would span most of
the scale, and one or two responses would swing it)."""
UNDERPOWERED_LIFT = 0.2
"""A comparison that cannot detect a 20% relative lift (say 10% → 12%) with 80% power is
underpowered: "no difference found" then says little."""
ALL_SEGMENTS = "all"
"""``segment_id`` of the rows about every customer together."""
ALL_CUSTOMERS = "All customers"
CONTROL = "control"

RATE_COLUMNS = (
    "outcome",
    "campaign",
    "variant",
    "segment_id",
    "segment_name",
    "customers",
    "responders",
    "rate",
    "ci_low",
    "ci_high",
    "lift",
    "value_per_customer",
    "note",
)
COMPARISON_COLUMNS = (
    "outcome",
    "campaign",
    "segment_id",
    "segment_name",
    "variant_a",
    "variant_b",
    "customers_a",
    "customers_b",
    "rate_a",
    "rate_b",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "detectable_difference",
    "verdict",
)
UPLIFT_COLUMNS = (
    "outcome",
    "campaign",
    "segment_id",
    "segment_name",
    "treated",
    "treated_rate",
    "control",
    "control_rate",
    "uplift",
    "ci_low",
    "ci_high",
    "p_value",
    "note",
)


def _segment_name(segment_id: object, names: Mapping[int, str]) -> str:
    if segment_id == ALL_SEGMENTS:
        return ALL_CUSTOMERS
    return names.get(int(segment_id), f"Segment {segment_id}")  # type: ignore[call-overload]


def _with_all(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows once per segment and once more as "all customers"."""
    everyone = frame.assign(segment_id=ALL_SEGMENTS)
    return pd.concat([everyone, frame.astype({"segment_id": object})], ignore_index=True)


def _counts(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (
        frame.groupby(keys, sort=False)
        .agg(
            customers=("responded", "size"),
            responders=("responded", "sum"),
            value=("value", lambda v: v.sum(min_count=1)),
        )
        .reset_index()
    )


def response_rates(results: CampaignResults, names: Mapping[int, str]) -> pd.DataFrame:
    """Rates per outcome × campaign × segment, for every variant together ("" in
    ``variant``) and, where a campaign had several, per variant and for the control group.

    Lift is a cell's rate over all customers' rate for the same outcome, campaign and
    variant. Cells under ``MIN_CUSTOMERS`` show no rate, interval or lift, and say so.
    """
    frame = _with_all(results.frame)
    treated = frame[~frame["control"]]
    keys = ["outcome", "campaign", "segment_id"]
    combined = _counts(treated, keys).assign(variant="")
    parts = [combined]
    several = treated.groupby("campaign")["variant"].nunique()
    split = frame[frame["campaign"].isin(several[several > 1].index) | frame["control"]]
    if len(split):
        parts.append(_counts(split, [*keys, "variant"]))
    table = pd.concat(parts, ignore_index=True)
    table["rate"] = table["responders"] / table["customers"]
    low, high = wilson_interval(table["responders"].to_numpy(), table["customers"].to_numpy())
    table["ci_low"], table["ci_high"] = low, high
    overall = table[table["segment_id"] == ALL_SEGMENTS].set_index(
        ["outcome", "campaign", "variant"]
    )["rate"]
    base = table.set_index(["outcome", "campaign", "variant"]).index.map(overall.to_dict())
    table["lift"] = table["rate"] / np.where(np.asarray(base) > 0, base, np.nan)
    table["value_per_customer"] = table["value"] / table["customers"]
    small = table["customers"] < MIN_CUSTOMERS
    table.loc[small, ["rate", "ci_low", "ci_high", "lift"]] = np.nan
    table["note"] = np.where(
        small, [f"too few customers ({n}) for a rate" for n in table["customers"]], ""
    )
    table["segment_name"] = [_segment_name(s, names) for s in table["segment_id"]]
    order = {ALL_SEGMENTS: -1}
    table["_order"] = [order.get(s, s) for s in table["segment_id"]]
    table = table.sort_values(["outcome", "campaign", "_order", "variant"], kind="stable")
    return table[list(RATE_COLUMNS)].reset_index(drop=True)


def _verdict(row: pd.Series) -> str:
    if row["p_adjusted"] < ALPHA:
        better, worse = (
            (row["variant_b"], row["variant_a"])
            if row["difference"] > 0
            else (row["variant_a"], row["variant_b"])
        )
        return f"variant {better} responded more than variant {worse}"
    pooled = (row["rate_a"] * row["customers_a"] + row["rate_b"] * row["customers_b"]) / (
        row["customers_a"] + row["customers_b"]
    )
    if row["detectable_difference"] > UNDERPOWERED_LIFT * max(pooled, 0.01):
        return (
            "no clear difference, and too few customers to find one: only a difference of "
            f"{row['detectable_difference'] * 100:.1f} points or more would show"
        )
    return "no clear difference"


def compare_variants(results: CampaignResults, names: Mapping[int, str]) -> pd.DataFrame:
    """Every pair of variants within each outcome × campaign × segment (and all customers):
    rate B − rate A with Newcombe's interval, the score test's p-value, the Holm-adjusted
    p-value over every comparison in the table, the difference these sizes could detect,
    and a verdict in words that names a better variant only on evidence."""
    frame = _with_all(results.frame)
    treated = frame[~frame["control"]]
    counts = _counts(treated, ["outcome", "campaign", "segment_id", "variant"])
    rows = []
    for (outcome, campaign, segment_id), cell in counts.groupby(
        ["outcome", "campaign", "segment_id"], sort=False
    ):
        cell = cell.sort_values("variant", key=_variant_order)
        for (_, a), (_, b) in combinations(cell.iterrows(), 2):
            row = {
                "outcome": outcome,
                "campaign": campaign,
                "segment_id": segment_id,
                "segment_name": _segment_name(segment_id, names),
                "variant_a": a["variant"],
                "variant_b": b["variant"],
                "customers_a": int(a["customers"]),
                "customers_b": int(b["customers"]),
                "rate_a": a["responders"] / a["customers"],
                "rate_b": b["responders"] / b["customers"],
            }
            if min(a["customers"], b["customers"]) < MIN_CUSTOMERS:
                row.update(verdict="too few customers to compare")
            else:
                diff = difference(
                    int(a["responders"]),
                    int(a["customers"]),
                    int(b["responders"]),
                    int(b["customers"]),
                )
                row.update(
                    difference=diff.difference,
                    ci_low=diff.ci_low,
                    ci_high=diff.ci_high,
                    p_value=diff.p_value,
                    detectable_difference=diff.detectable,
                )
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    table["verdict"] = table["verdict"].astype(object)
    tested = table["p_value"].notna()
    # Two families: all customers together, and the segments. The all-customers row repeats
    # the segments' customers, so pooling it with them would count the same evidence twice
    # (with one segment in the results, its comparison is the all-customers one).
    everyone = (table["segment_id"] == ALL_SEGMENTS).to_numpy()
    for family in (tested & everyone, tested & ~everyone):
        table.loc[family, "p_adjusted"] = holm(table.loc[family, "p_value"].to_numpy())
    table.loc[tested, "verdict"] = table[tested].apply(_verdict, axis=1)
    return table


def _variant_order(variants: pd.Series) -> pd.Series:
    """1, 2, 10 in number order; names in text order."""
    numbers = pd.to_numeric(variants, errors="coerce")
    return numbers.fillna(np.inf).astype(float) + variants.rank(method="dense") * 1e-6


def uplift(results: CampaignResults, names: Mapping[int, str]) -> pd.DataFrame:
    """Treated minus control rate per outcome × campaign × segment, with Newcombe's
    interval and the score test's p-value. Empty when no customer was held out."""
    if not results.has_control:
        return pd.DataFrame(columns=list(UPLIFT_COLUMNS))
    frame = _with_all(results.frame)
    campaigns_with_control = frame.loc[frame["control"], "campaign"].unique()
    frame = frame[frame["campaign"].isin(campaigns_with_control)]
    counts = _counts(
        frame.assign(arm=frame["control"]), ["outcome", "campaign", "segment_id", "arm"]
    )
    rows = []
    for (outcome, campaign, segment_id), cell in counts.groupby(
        ["outcome", "campaign", "segment_id"], sort=False
    ):
        sizes = dict(zip(cell["arm"], cell["customers"].astype(int), strict=True))
        hits = dict(zip(cell["arm"], cell["responders"].astype(int), strict=True))
        treated, held = sizes.get(False, 0), sizes.get(True, 0)
        row: dict[str, object] = {
            "outcome": outcome,
            "campaign": campaign,
            "segment_id": segment_id,
            "segment_name": _segment_name(segment_id, names),
            "treated": treated,
            "control": held,
        }
        if min(treated, held) < MIN_CUSTOMERS:
            row["note"] = "too few treated or control customers for an uplift"
        else:
            diff = difference(hits[True], held, hits[False], treated)
            row.update(
                treated_rate=hits[False] / treated,
                control_rate=hits[True] / held,
                uplift=diff.difference,
                ci_low=diff.ci_low,
                ci_high=diff.ci_high,
                p_value=diff.p_value,
                note="" if diff.ci_low > 0 or diff.ci_high < 0 else "interval includes no uplift",
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(UPLIFT_COLUMNS))
