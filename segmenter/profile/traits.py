"""Traits: how a segment differs from the whole table, column by column (numeric means
and over-represented categories), and which differences are strong enough to name it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from segmenter.ingest.values import MISSING_CATEGORY
from segmenter.labels import DATE_FEATURE_SUFFIX, label_of
from segmenter.summary import ProfileSummary

N_CATEGORY_TRAITS = 5
MIN_CATEGORY_LIFT = 1.2
"""A category must be this much more common in the segment than overall to count as a trait."""
MIN_CATEGORY_SHARE = 0.10
"""...and hold at least this share of the segment, so rare values do not dominate."""
STRONG_Z = 0.5
"""A numeric mean this many of the table's standard deviations from the table's mean is a
strong trait, one that may name the segment (half a standard deviation: a difference a
marketer sees in the raw numbers; on the campaign-shaped test table the persona columns
reach 1-2, the columns independent of the persona stay under 0.2)."""
STRONG_RATIO = 1.5
"""...as is a mean at least 1.5 times the table's (or at most 1 / 1.5 = 0.67 of it) on a
column of amounts or counts, when it is also ``RATIO_MIN_Z`` away (skewed spend columns:
"spends 2.7x on wines" is strong even where the spread is wide)."""
RATIO_MIN_Z = 0.25
"""A ratio on a column with a huge spread (a few big spenders) says little: below this many
standard deviations a ratio alone does not make a trait strong."""
STRONG_CATEGORY_SHARE = 0.40
"""A category names a segment only when it holds at least 40% of it ("2n Cycle" at 13% of a
segment against 9% overall is a weak trait, not a name)..."""
STRONG_CATEGORY_LIFT = 1.5
"""...and is at least 1.5 times as common in the segment as overall."""


@dataclass(frozen=True)
class NumericTrait:
    """A numeric column's mean in the segment against the whole table."""

    column: str
    segment_mean: float
    overall_mean: float
    lift: float  # segment_mean / overall_mean (NaN when the overall mean is 0)
    z: float  # difference in overall standard deviations
    label: str = ""
    """The column's readable label (``labels.column_label``, or the user's)."""

    @property
    def strength(self) -> float:
        """How far the segment stands from everyone, in standard deviations (signed)."""
        return self.z


@dataclass(frozen=True)
class CategoryTrait:
    """A category that is over-represented in the segment."""

    column: str
    value: str
    segment_share: float
    overall_share: float
    lift: float
    label: str = ""
    """The column's readable label (``labels.column_label``, or the user's)."""

    @property
    def strength(self) -> float:
        """The share's distance from the overall share in standard deviations of a yes/no
        indicator of the value, so that categories and numbers rank on one scale."""
        spread = math.sqrt(self.overall_share * (1.0 - self.overall_share))
        return (self.segment_share - self.overall_share) / spread if spread > 0 else 0.0


def _numeric_traits(
    summary: ProfileSummary, segment: int, labels: Mapping[str, str] | None = None
) -> tuple[NumericTrait, ...]:
    moments = summary.numeric
    std = moments.std(0)
    traits = []
    for position, column in enumerate(summary.numeric_columns):
        if not moments.count[1 + segment, position]:
            continue
        overall = float(moments.mean[0, position]) if moments.count[0, position] else math.nan
        mean = float(moments.mean[1 + segment, position])
        spread = float(std[position])
        traits.append(
            NumericTrait(
                column=column,
                segment_mean=mean,
                overall_mean=overall,
                lift=mean / overall if overall else math.nan,
                z=(mean - overall) / spread if spread > 0 else 0.0,
                label=label_of(column, labels),
            )
        )
    return tuple(sorted(traits, key=lambda t: -abs(t.z)))


def _category_traits(
    summary: ProfileSummary, segment: int, labels: Mapping[str, str] | None = None
) -> tuple[CategoryTrait, ...]:
    traits = []
    for column in summary.categories:
        counts = column.counts[1 + segment]
        if not counts.sum():
            continue
        shares = counts / counts.sum()
        overall_shares = column.counts[0] / max(int(column.counts[0].sum()), 1)
        for index in np.argsort(-counts, kind="stable"):
            value, share = column.values[index], float(shares[index])
            if not counts[index] or value == MISSING_CATEGORY or share < MIN_CATEGORY_SHARE:
                continue
            overall = float(overall_shares[index])
            lift = share / overall
            if lift >= MIN_CATEGORY_LIFT:
                traits.append(
                    CategoryTrait(
                        column=column.column,
                        value=value,
                        segment_share=share,
                        overall_share=overall,
                        lift=lift,
                        label=label_of(column.column, labels),
                    )
                )
    ranked = sorted(traits, key=lambda t: -(t.lift - 1.0) * t.segment_share)
    return tuple(ranked[:N_CATEGORY_TRAITS])


def _ratio_applies(trait: NumericTrait) -> bool:
    """Whether "2.7x the average" means something: amounts and counts, not dates or scores
    that go below zero."""
    return (
        not trait.column.endswith(DATE_FEATURE_SUFFIX)
        and math.isfinite(trait.lift)
        and trait.overall_mean > 0
        and trait.segment_mean >= 0
    )


def is_strong(trait: NumericTrait | CategoryTrait) -> bool:
    """Whether a trait is clear enough to name a segment (``STRONG_Z``, ``STRONG_RATIO``,
    ``STRONG_CATEGORY_SHARE`` and ``STRONG_CATEGORY_LIFT``)."""
    if isinstance(trait, CategoryTrait):
        return trait.segment_share >= STRONG_CATEGORY_SHARE and trait.lift >= STRONG_CATEGORY_LIFT
    if not math.isfinite(trait.z):
        return False
    if abs(trait.z) >= STRONG_Z:
        return True
    far = trait.lift >= STRONG_RATIO or trait.lift <= 1.0 / STRONG_RATIO
    return _ratio_applies(trait) and far and abs(trait.z) >= RATIO_MIN_Z
