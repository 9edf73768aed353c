"""Which segments are valuable and which are at risk, from what a run folder holds.

Valuable (a segment customers should not leave): its mean on the spend-like columns
(``VALUE_WORDS`` in the column's label: spend, revenue, sales, amount, value, charges ...)
stands clearly above the table's, by the rule that lets a segment be named for a column
(``profile.traits.is_strong``: half a standard deviation, or 1.5 times the mean at a quarter
of one). Several spend columns (MntWines, MntMeatProducts ...) count as their mean z and the
ratio of their summed means. Income and prices are not spend: what customers earn or what
an item costs is not what they bring.

At risk: the first signal a table has, in this order:

1. a yes/no outcome whose yes is a loss (``predict.label_kind`` "risk": churned, exited,
   cancelled ...; or a complaint or dispute flag) with at least ``predict.MIN_POSITIVES``
   cases of each kind;
2. the share of negative feedback (``profiles.json``'s sentiment).

A segment is at risk when its rate is clearly above the table's: at least ``RISK_LIFT``
times it and ``RISK_SE`` standard errors above it, so that a small segment is not called at
risk by chance. Without any signal the list is empty and says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmenter.errors import PredictError
from segmenter.labels import DATE_FEATURE_SUFFIX, column_label
from segmenter.predict import MIN_POSITIVES, binary_label, label_kind
from segmenter.profile import SegmentProfile
from segmenter.profile.traits import NumericTrait, is_strong

VALUE_WORDS = (
    "spend spent revenue monetary sales amount value charge ltv clv profit balance 消费 金额 销售"
).split()
"""Word starts of a column label that says what a customer brings (``MonthlySpend``,
``MntWines`` = "Spend on wines", ``monetary`` = "Total spend", Telco ``TotalCharges``, bank
``Balance``); Chinese labels match when they contain one."""
COMPLAINT_WORDS = "complain disput 投诉 纠纷".split()
"""Word starts of a yes/no column whose yes is a complaint: a risk though not a loss."""
YES_VALUES = frozenset("yes y true t 1 是".split())
RISK_LIFT = 1.2
"""A segment is at risk when its churn (or negative-feedback) rate is at least 1.2 times the
table's (the lift at which the profile counts a category as a trait)..."""
RISK_SE = 2.0
"""...and at least two standard errors of a segment of its size above it: 27% churn in a
300-customer segment against 21.5% overall (2.3 standard errors) is at risk, 3 churners out
of 12 is not."""
_WORDS = re.compile(r"[a-z]+|[0-9]+|[^\x00-\x7f]+")


@dataclass(frozen=True)
class SegmentFlags:
    """The segments a rule picks out, and the rule in words."""

    ids: tuple[int, ...]
    rule: str
    """The rule as applied ("mean of Monthly spend clearly above the table's ..."); when no
    signal was found, why not."""
    found_signal: bool
    """Whether the table had anything to judge by (false: ``ids`` is empty for want of data)."""
    evidence: dict[int, float]
    """Per segment the figure judged (mean z, or rate)."""
    overridden: bool = False
    """The ids were given by the user."""

    def to_dict(self) -> dict[str, object]:
        return {
            "segment_ids": list(self.ids),
            "rule": self.rule,
            "found_signal": self.found_signal,
            "overridden": self.overridden,
            "evidence": {
                str(k): round(v, 4) if math.isfinite(v) else None  # JSON has no NaN
                for k, v in self.evidence.items()
            },
        }


def given(ids: Sequence[int], what: str) -> SegmentFlags:
    """Segments the user named (``--from`` / ``--to``)."""
    chosen = tuple(sorted({int(i) for i in ids}))
    return SegmentFlags(chosen, f"{what} given by the user", True, {}, overridden=True)


def _starts(label: str, starts: Sequence[str]) -> bool:
    words = _WORDS.findall(label.lower())
    return any(
        word.startswith(start) if start.isascii() else start in word
        for word in words
        for start in starts
    )


def value_columns(profiles: Sequence[SegmentProfile]) -> list[str]:
    """Numeric columns whose label reads as spend (``VALUE_WORDS``) and that vary (a
    constant ``Z_Revenue`` stands at the mean in every segment)."""
    found: dict[str, bool] = {}
    for profile in profiles:
        for trait in profile.numeric:
            if trait.column.endswith(DATE_FEATURE_SUFFIX):
                continue
            label = f"{trait.column} {trait.label or column_label(trait.column)}"
            if _starts(label, VALUE_WORDS):
                varies = math.isfinite(trait.z) and trait.z != 0.0
                found[trait.column] = found.get(trait.column, False) or varies
    return [column for column, varies in found.items() if varies]


def valuable_segments(profiles: Sequence[SegmentProfile]) -> SegmentFlags:
    """The segments whose spend stands clearly above the table's (see the module text)."""
    columns = value_columns(profiles)
    if not columns:
        return SegmentFlags(
            (),
            "no spend, revenue or value column to tell valuable segments by: name them with "
            "--from (or pick them on the page)",
            False,
            {},
        )
    labels: dict[str, str] = {}
    chosen: list[int] = []
    evidence: dict[int, float] = {}
    for profile in profiles:
        traits = [t for t in profile.numeric if t.column in columns and math.isfinite(t.z)]
        if not traits:
            continue
        labels.update({t.column: t.label or column_label(t.column) for t in traits})
        segment_mean = sum(t.segment_mean for t in traits)
        overall_mean = sum(t.overall_mean for t in traits)
        combined = NumericTrait(
            column="spend",
            segment_mean=segment_mean,
            overall_mean=overall_mean,
            lift=segment_mean / overall_mean if overall_mean else math.nan,
            z=float(np.mean([t.z for t in traits])),
        )
        evidence[profile.segment_id] = combined.z
        if combined.z > 0 and is_strong(combined):
            chosen.append(profile.segment_id)
    names = ", ".join(labels[c] for c in columns if c in labels)
    return SegmentFlags(
        tuple(sorted(chosen)),
        f"mean of {names} clearly above the table's (half a standard deviation, or 1.5 "
        "times the mean)",
        True,
        evidence,
    )


def _clearly_above(rate: float, overall: float, n: int) -> bool:
    if n <= 0 or not 0.0 < overall < 1.0 or not math.isfinite(rate):
        return False
    standard_error = math.sqrt(overall * (1.0 - overall) / n)
    return rate >= RISK_LIFT * overall and rate - overall >= RISK_SE * standard_error


def _risk_columns(
    frame: pd.DataFrame, roles: Mapping[str, str]
) -> list[tuple[str, str, np.ndarray]]:
    """(column, its yes, 1 where yes / 0 where no / -1 unknown) for each usable loss-like
    outcome."""
    found = []
    for column, role in roles.items():
        if role not in ("label", "categorical", "numeric") or column not in frame.columns:
            continue
        values = frame[column].astype(str).str.strip()
        if values[values != ""].nunique() != 2:
            continue
        try:
            label = binary_label(frame, column)
        except PredictError:
            continue  # too few of one kind to say which segment has more
        if label.n_positive < MIN_POSITIVES:
            continue
        complaint = _starts(column, COMPLAINT_WORDS) and label.positive.lower() in YES_VALUES
        if label_kind(column, label.positive) == "risk" or complaint:
            found.append((column, label.positive, np.where(label.known, label.y, -1)))
    return found


def at_risk_segments(
    profiles: Sequence[SegmentProfile],
    frame: pd.DataFrame,
    labels: np.ndarray,
    roles: Mapping[str, str],
) -> SegmentFlags:
    """The segments clearly more at risk than the table (see the module text).

    Args:
        profiles: the run's profiles (for the negative-feedback shares).
        frame: the run's original columns, as text, one row per customer.
        labels: each row's segment (-1 unsegmented).
        roles: column -> role, as ``run.json``'s schema gives them.
    """
    labels = np.asarray(labels, dtype=int)
    outcomes = _risk_columns(frame, roles)
    if outcomes:
        chosen: set[int] = set()
        evidence: dict[int, float] = {}
        segmented = labels >= 0
        for _, _, y in outcomes:
            known = segmented & (y >= 0)
            overall = float(y[known].mean()) if known.any() else math.nan
            for profile in profiles:
                rows = known & (labels == profile.segment_id)
                rate = float(y[rows].mean()) if rows.any() else math.nan
                # The highest of the outcomes' rates; NaN where the segment has none.
                previous = evidence.get(profile.segment_id, math.nan)
                evidence[profile.segment_id] = float(np.fmax(previous, rate))
                if _clearly_above(rate, overall, int(rows.sum())):
                    chosen.add(profile.segment_id)
        names = " or ".join(f"{column} = {positive}" for column, positive, _ in outcomes)
        return SegmentFlags(
            tuple(sorted(chosen)),
            f"share of {names} at least {RISK_LIFT:g} times the table's and "
            f"{RISK_SE:g} standard errors above it",
            True,
            evidence,
        )
    feedback = [(p.segment_id, p.feedback) for p in profiles if p.feedback is not None]
    with_text = [(s, f) for s, f in feedback if f.rows_with_text > 0]
    if not with_text:
        return SegmentFlags(
            (),
            "no churn-like yes/no column and no feedback text to tell at-risk segments by: "
            "name them with --to (or pick them on the page)",
            False,
            {},
        )
    total = sum(f.rows_with_text for _, f in with_text)
    overall = sum(f.share_negative * f.rows_with_text for _, f in with_text) / total
    chosen_ids = tuple(
        sorted(
            s for s, f in with_text if _clearly_above(f.share_negative, overall, f.rows_with_text)
        )
    )
    return SegmentFlags(
        chosen_ids,
        f"share of negative feedback at least {RISK_LIFT:g} times the table's "
        f"({overall:.0%}) and {RISK_SE:g} standard errors above it",
        True,
        {s: f.share_negative for s, f in with_text},
    )
