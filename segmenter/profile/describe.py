"""Traits said in words: short phrases for names, statements for cards, prompts and checks."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from segmenter.labels import DATE_FEATURE_SUFFIX, column_label, inline, label_of
from segmenter.profile.traits import (
    STRONG_RATIO,
    CategoryTrait,
    NumericTrait,
    _ratio_applies,
    is_strong,
)

if TYPE_CHECKING:
    from segmenter.profile.segment_profile import SegmentProfile

CARD_TRAITS = 8
"""A card charts at most this many traits: the 6-8 that most set the segment apart."""
MIN_SHOWN_Z = 0.1
"""Traits closer to the table than this (in standard deviations) are not charted at all."""

GENERIC_VALUES = frozenset({"yes", "no", "true", "false", "0", "1", "y", "n", "none", "other"})
SPEND_PREFIXES = ("spend on ", "spending on ", "spent on ", "amount spent on ")
"""Labels that read "spend on wines" give "Spends 2.7x on wines"."""
COUNT_PREFIX = "number of "
"""Labels that read "number of web purchases" give "Many web purchases"."""
DIRECTION_WORDS: dict[str, tuple[str, str]] = {
    "age": ("Older", "Younger"),
    "year of birth": ("Younger", "Older"),  # born later: younger
    "tenure": ("Long tenure", "Short tenure"),
    "days since last purchase": ("Not bought lately", "Bought recently"),
}
"""Labels with their own words for above and below average."""
_BRACKET_END = re.compile(r"\s*[(\[][^()\[\]]*[)\]]$")
RATIO_WORDING = 1.15
"""A ratio closer to 1 than this is said as "higher" or "lower" ("1.0x the average" says
nothing)."""


@dataclass(frozen=True)
class TraitStatement:
    """One thing that sets a segment apart, said in words for a card, a prompt or a check.

    ``strength`` is signed, in standard deviations of the whole table (``z`` for a number;
    for a category, of a yes/no indicator of the value), so one chart ranks both kinds.
    """

    text: str
    strength: float
    kind: str  # "numeric" or "category"
    column: str
    strong: bool
    """Strong enough to name the segment (``is_strong``)."""


def _label(trait: NumericTrait | CategoryTrait, labels: Mapping[str, str] | None) -> str:
    if labels and (trait.column in labels or trait.column.endswith(DATE_FEATURE_SUFFIX)):
        return label_of(trait.column, labels)
    return trait.label or column_label(trait.column)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    digits = 1 if abs(value) >= 1 else 2
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if abs(value) >= 0.01 else "0"


def spend_object(label: str) -> str | None:
    """What a spend column is spent on ("Spend on wines" -> "wines"), or ``None``."""
    lowered = inline(label)
    for prefix in SPEND_PREFIXES:
        if lowered.startswith(prefix):
            return lowered[len(prefix) :]
    return None


def _nearly_none(trait: NumericTrait) -> bool:
    """Almost none in the segment of a count most customers have some of (kids at home)."""
    return _ratio_applies(trait) and trait.segment_mean < 0.1 <= 0.3 <= trait.overall_mean


def describe_numeric(trait: NumericTrait, labels: Mapping[str, str] | None = None) -> str:
    """A short phrase for a name: "High income", "Spends 2.7x on wines", "No kids at home",
    "More kids at home", "Few web purchases", "Older", "Later signup date" (a date column
    turned into days).

    >>> describe_numeric(NumericTrait("MntWines", 612.0, 227.0, 2.7, 1.4, "Spend on wines"))
    'Spends 2.7x on wines'
    """
    label = _label(trait, labels)
    up = trait.z > 0
    lowered = _BRACKET_END.sub("", inline(label)) or inline(label)  # "(months)" adds nothing
    if trait.column.endswith(DATE_FEATURE_SUFFIX):
        return f"{'Later' if up else 'Earlier'} {lowered}"
    if lowered in DIRECTION_WORDS:
        return DIRECTION_WORDS[lowered][0 if up else 1]
    spend = spend_object(label)
    if spend is not None and _ratio_applies(trait):
        if trait.lift >= STRONG_RATIO:
            return f"Spends {trait.lift:.1f}x on {spend}"
        return f"{'High' if up else 'Low'} spend on {spend}"
    if _nearly_none(trait):
        return f"No {lowered}"
    if lowered.startswith(COUNT_PREFIX):
        return f"{'Many' if up else 'Few'} {lowered[len(COUNT_PREFIX) :]}"
    first = lowered.split(" ", 1)[0]
    if len(first) > 3 and first.endswith("s") and not first.endswith(("ss", "us", "is")):
        return f"{'More' if up else 'Fewer'} {lowered}"  # a count: kids, orders, visits
    if _ratio_applies(trait) and 0 < trait.overall_mean < 1 and trait.segment_mean <= 1:
        return f"{label}: {trait.segment_mean:.0%}"  # a 0/1 column's mean is a share
    return f"{'High' if up else 'Low'} {lowered}"


def describe_category(trait: CategoryTrait, labels: Mapping[str, str] | None = None) -> str:
    """The value alone when it speaks for itself ("Premium"), else "label: value"."""
    value = trait.value.strip()
    if value.lower() in GENERIC_VALUES or value.lower().startswith("no ") or len(value) <= 2:
        return f"{_label(trait, labels)}: {value}"
    return value


def _is_year(label: str) -> bool:
    """A label that measures a calendar year ("Year of birth"): said as 1979, not 1,979,
    and as later or earlier, never as a multiple of the average."""
    return bool(re.search(r"\byear\b", inline(label))) and "years" not in inline(label)


def _numeric_statement(trait: NumericTrait, label: str) -> str:
    both = f"({_number(trait.segment_mean)} against {_number(trait.overall_mean)})"
    if _is_year(label) and 1000 <= abs(trait.overall_mean) < 10_000:
        later = "later" if trait.z > 0 else "earlier"
        return (
            f"{label}: {later} than average ({trait.segment_mean:.0f} against "
            f"{trait.overall_mean:.0f})"
        )
    if trait.column.endswith(DATE_FEATURE_SUFFIX):
        days = trait.segment_mean - trait.overall_mean
        later = "later" if days > 0 else "earlier"
        return f"{label}: {abs(days):,.0f} days {later} than average"
    spend = spend_object(label)
    ratio = trait.lift
    if _ratio_applies(trait) and ratio >= RATIO_WORDING:
        if spend is not None:
            return f"Spends {ratio:.1f}× the average on {spend} {both}"
        return f"{label}: {ratio:.1f}× the average {both}"
    if _ratio_applies(trait) and ratio <= 1.0 / RATIO_WORDING:
        if _nearly_none(trait):
            return (
                f"Almost no {inline(label)} ({_number(trait.segment_mean)} on average, "
                f"against {_number(trait.overall_mean)})"
            )
        if spend is not None:
            return f"Spends {1.0 - ratio:.0%} less than average on {spend} {both}"
        return f"{label}: {1.0 - ratio:.0%} below average {both}"
    return f"{label}: {'higher' if trait.z > 0 else 'lower'} than average {both}"


def describe_traits(
    profile: SegmentProfile,
    labels: Mapping[str, str] | None = None,
    *,
    limit: int = CARD_TRAITS,
) -> list[TraitStatement]:
    """The traits that most set a segment apart, strongest first, said in words.

    Numbers and over-represented categories are ranked together by ``|strength|``;
    traits nearer the table than ``MIN_SHOWN_Z`` are left out. ``labels`` overrides the
    labels the profile was made with.

    >>> [t.text for t in describe_traits(profile)][:2]
    ['Spends 2.7× the average on wines (612 against 227)',
     'Plan: Premium for 62%, against 28% overall']
    """
    statements = []
    for trait in profile.numeric:
        if math.isfinite(trait.z) and abs(trait.z) >= MIN_SHOWN_Z:
            label = _label(trait, labels)
            statements.append(
                TraitStatement(
                    _numeric_statement(trait, label),
                    float(trait.z),
                    "numeric",
                    trait.column,
                    is_strong(trait),
                )
            )
    for category in profile.categories:
        strength = category.strength
        if abs(strength) >= MIN_SHOWN_Z:
            statements.append(
                TraitStatement(
                    f"{_label(category, labels)}: {category.value} for "
                    f"{category.segment_share:.0%}, against {category.overall_share:.0%} overall",
                    float(strength),
                    "category",
                    category.column,
                    is_strong(category),
                )
            )
    statements.sort(key=lambda s: -abs(s.strength))
    return statements[:limit]
