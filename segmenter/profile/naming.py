"""Names: a short readable name per segment from its strong traits, distinct across segments."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from segmenter.labels import label_of
from segmenter.profile.describe import _BRACKET_END, _label, describe_category, describe_numeric
from segmenter.profile.segment_profile import SegmentProfile
from segmenter.profile.traits import RATIO_MIN_Z, CategoryTrait, NumericTrait, is_strong
from segmenter.script_ranges import HAN

MIN_KEYWORD_LIFT = 1.5
"""A keyword names a segment only when the segment uses it at least 1.5 times as often as
all customers (per word written): "dress" in every segment of a clothing-review table is
not what sets one apart."""
NAME_MAX_CHARS = 40
"""Names longer than this are cut to fit a legend, a tab and a chart axis."""
GENERIC_WORDS = frozenset(
    (
        "love loved loves like liked likes great good nice perfect best better bad awesome "
        "excellent amazing happy wonderful beautiful lovely fine okay pretty terrible worst poor "
        "horrible recommend recommended thanks thank really well just very much bit lot also "
        "get got would could one two ordered bought purchased "
        "不错 好吃 好评 差评 满意 喜欢 很好 非常 推荐 京东 淘宝 宝贝 东西 还行 一般 好用 "
        "挺好 可以 棒 好 差"
    ).split()
)
"""Praise, sentiment and filler words (and shop names) that say how a customer feels, not
what sets a segment apart: they may show among the keywords, never in a name."""
_CJK_SPACE = re.compile(f"(?<={HAN}) (?={HAN})")
"""The space between two Chinese words of a bigram keyword, dropped where a name shows it."""

FEW_WRITERS = 0.2
"""A segment where fewer than this share of customers wrote anything says so first in its
name ("No comments · Mortgage"): on a complaints export with sparse narratives, the
customers who wrote nothing can only be grouped by their columns, and a name such as
"Mortgage" alone would read as if the text had found them."""


def naming_keywords(
    keywords: Sequence[str],
    lifts: Sequence[float] = (),
    field_names: Iterable[str] = (),
) -> list[str]:
    """The keywords that may name a segment: distinctive (``MIN_KEYWORD_LIFT``, when the
    lifts are known), not praise or filler (``GENERIC_WORDS``), not a field's name."""
    fields_ = {" ".join(name.lower().split()) for name in field_names}
    chosen = []
    for position, keyword in enumerate(keywords):
        if position < len(lifts) and lifts[position] < MIN_KEYWORD_LIFT:
            continue
        words = keyword.lower().split()
        if keyword.lower() in fields_ or any(w in GENERIC_WORDS or w in fields_ for w in words):
            continue
        chosen.append(keyword)
    return chosen


def _fit(parts: Sequence[str], joiner: str) -> str:
    """Parts joined, the last ones dropped until the name fits ``NAME_MAX_CHARS``."""
    parts = list(parts)
    while len(parts) > 1 and len(joiner.join(parts)) > NAME_MAX_CHARS:
        parts.pop()
    name = joiner.join(parts)
    if len(name) > NAME_MAX_CHARS:
        name = name[: NAME_MAX_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,&·") + "…"
    return name


def name_candidates(
    keywords: Sequence[str],
    numeric: Sequence[NumericTrait],
    categories: Sequence[CategoryTrait],
    segment_id: int,
    *,
    keyword_lift: Sequence[float] = (),
    unnamed: Collection[str] = (),
    field_names: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    writer_share: float | None = None,
) -> list[str]:
    """Names for a segment from its strong traits only, best first: the first is its name,
    the others (one more trait each) tell it apart from a segment with the same first.

    Columns in ``unnamed`` (labels being predicted, such as a 0/1 response) never name a
    segment. Without a strong trait the name says so: "Mixed group 3". A segment where
    fewer than ``FEW_WRITERS`` of the customers (``writer_share``) wrote anything says so
    first: "No comments · Mortgage".
    """
    if writer_share is not None and writer_share < FEW_WRITERS:
        rest = name_candidates(
            keywords,
            numeric,
            categories,
            segment_id,
            keyword_lift=keyword_lift,
            unnamed=unnamed,
            field_names=field_names,
            labels=labels,
        )
        said = "No comments" if writer_share == 0 else "Few comments"
        if rest[0].startswith("Mixed group"):
            return [f"{said}, mixed group {segment_id}"]
        return [_fit([said, *name.split(", ")], ", ").replace(", ", " · ", 1) for name in rest]
    words = naming_keywords(keywords, keyword_lift, field_names)[:2]
    every: list[NumericTrait | CategoryTrait] = [*numeric, *categories]
    usable = sorted(
        (t for t in every if t.column not in unnamed and math.isfinite(t.strength)),
        key=lambda t: -abs(t.strength),
    )
    phrases = _phrases([t for t in usable if is_strong(t)], labels)
    # Clear but weaker traits only tell apart two segments whose strong traits read alike.
    moderate = [t for t in usable if not is_strong(t) and abs(t.strength) >= RATIO_MIN_Z]
    extras = [p for p in _phrases(moderate, labels, first=not phrases) if p not in phrases]
    candidates: list[str] = []
    if words:
        shown = [_CJK_SPACE.sub("", w) for w in words]  # 包装 破损 -> 包装破损
        heads = [" & ".join(shown[:n]) for n in range(len(shown), 0, -1)]
        heads = [h[0].upper() + h[1:] for h in heads]

        def with_tail(tail: str) -> str:
            # The second keyword gives way before a strong trait does.
            for head in heads:
                if not tail or len(f"{head} · {tail}") <= NAME_MAX_CHARS:
                    return _fit([head, tail] if tail else [head], " · ")
            return _fit([heads[-1], tail], " · ")

        for extra in range(1 if phrases else 0, min(len(phrases), 2) + 1):
            candidates.append(with_tail(", ".join(phrases[:extra])))
        candidates += [with_tail(", ".join([*phrases[:1], e])) for e in extras[:3]]
    elif phrases:
        for n in range(min(len(phrases), 2), min(len(phrases), 3) + 1):
            candidates.append(_fit(phrases[:n], ", "))
        candidates += [_fit([*phrases[:2], e], ", ") for e in extras[:3]]
    if not candidates:
        return [f"Mixed group {segment_id}"]
    unique: list[str] = []
    for candidate in candidates:
        if candidate not in unique:
            unique.append(candidate)
    return unique


def _phrases(
    traits: Sequence[NumericTrait | CategoryTrait],
    labels: Mapping[str, str] | None,
    *,
    first: bool = True,
) -> list[str]:
    """Name phrases of ``traits`` in order, without repeats; our own opening words ("High",
    "Spends") are lower-cased after the first phrase of a name."""
    phrases: list[str] = []
    measured: set[str] = set()
    for trait in traits:
        if isinstance(trait, CategoryTrait):
            phrase = describe_category(trait, labels)
        else:
            said = _measured_words(_label(trait, labels))
            if said & measured:
                continue  # "Low frequency score, low frequency" says one thing twice
            measured |= said
            phrase = describe_numeric(trait, labels)
            if phrases or not first:
                phrase = phrase[0].lower() + phrase[1:]
        if phrase.casefold() not in {p.casefold() for p in phrases}:
            phrases.append(phrase)
    return phrases


MEASURE_WORDS = frozenset(
    "number of score total average avg amount count on spend the in at per a an".split()
)
"""Words of a numeric label that say how, not what, it measures: "Frequency score (1-5)"
and "Frequency" measure the same thing, "Spend on wines" and "Spend on fruits" do not."""


def _measured_words(label: str) -> set[str]:
    """What a numeric label measures, as lower-case words (units in brackets dropped)."""
    words = re.findall(r"[^\W\d_]+", _BRACKET_END.sub("", label).lower())
    return set(words) - MEASURE_WORDS


def name_segment(
    keywords: Sequence[str],
    numeric: Sequence[NumericTrait],
    categories: Sequence[CategoryTrait],
    segment_id: int,
    **options: Any,
) -> str:
    """A short readable name from the segment's strong traits (``name_candidates``).

    >>> name_segment(["late delivery", "parcel"], [], [], 0)
    'Late delivery & parcel'
    """
    return name_candidates(keywords, numeric, categories, segment_id, **options)[0]


def name_profiles(
    profiles: Sequence[SegmentProfile],
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> list[SegmentProfile]:
    """Every profile named from its strong traits, with the traits' labels set from
    ``column_labels`` (when given); names are distinct across segments.

    A segment whose best name another segment already has takes its next candidate (one
    more trait); when none is free, a number: "High income (2)".
    """
    field_names = [*(column_labels or {}).keys(), *(column_labels or {}).values()]
    taken: set[frozenset[str]] = set()
    out = []
    for profile in profiles:
        if column_labels is not None:
            profile = relabel(profile, column_labels)
        candidates = name_candidates(
            profile.keywords,
            profile.numeric,
            profile.categories,
            profile.segment_id,
            keyword_lift=profile.keyword_lift,
            unnamed=unnamed,
            field_names=field_names,
            writer_share=profile.writer_share,
        )
        name = next((c for c in candidates if _name_key(c) not in taken), "")
        if not name:
            count = 2
            while _name_key(f"{candidates[0]} ({count})") in taken:
                count += 1
            name = f"{candidates[0]} ({count})"
        taken.add(_name_key(name))
        out.append(_with_name(profile, name))
    return out


_NAME_PARTS = re.compile(r" & | · |, ")


def _name_key(name: str) -> frozenset[str]:
    """A name's parts, in any order: "Usual size & ordered" and "Ordered & usual size" are
    one name to a reader."""
    return frozenset(part.strip() for part in _NAME_PARTS.split(name.casefold()))


def relabel(profile: SegmentProfile, column_labels: Mapping[str, str]) -> SegmentProfile:
    """The profile with its traits' labels taken from ``column_labels`` (name unchanged)."""
    return replace(
        profile,
        numeric=tuple(replace(t, label=label_of(t.column, column_labels)) for t in profile.numeric),
        categories=tuple(
            replace(t, label=label_of(t.column, column_labels)) for t in profile.categories
        ),
    )


def _with_name(profile: SegmentProfile, name: str) -> SegmentProfile:
    return replace(profile, name=name)


def rename_segments(
    profiles: Sequence[SegmentProfile], names: dict[int, str]
) -> list[SegmentProfile]:
    """Apply user-edited names; blank names keep the generated one."""
    return [
        _with_name(p, names[p.segment_id].strip()) if names.get(p.segment_id, "").strip() else p
        for p in profiles
    ]
