"""``SegmentProfile``: what a marketer needs to know about one segment, and its JSON form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from segmenter.labels import column_label
from segmenter.offers import Offer
from segmenter.profile.traits import CategoryTrait, NumericTrait
from segmenter.sentiment import SegmentFeedback

_Record = TypeVar("_Record", "NumericTrait", "CategoryTrait", "Offer")


@dataclass(frozen=True)
class SegmentProfile:
    """What a marketer needs to know about one segment."""

    segment_id: int
    name: str
    size: int
    share: float
    numeric: tuple[NumericTrait, ...]
    categories: tuple[CategoryTrait, ...]
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    language: str = "other"
    """The segment's main language from its texts' script: "en", "zh", "ja", "ko" or "other"."""
    offers: tuple[Offer, ...] = ()
    """Next best offers: products, categories or plans held more than overall."""
    feedback: SegmentFeedback | None = None
    """Sentiment shares and urgent-risk feedback, when the table has text."""
    keyword_lift: tuple[float, ...] = ()
    """Per keyword: how much more often the segment uses it than all customers (empty in
    profiles written before lifts were kept)."""
    writer_share: float | None = None
    """Share of the segment's customers who wrote something (``None``: the table has no
    text, or the profile was written before this was kept)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as written to ``profiles.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProfile:
        """Rebuild a profile from ``to_dict`` output (``profiles.json``); nulls become NaN."""
        return cls(
            segment_id=int(data["segment_id"]),
            name=str(data["name"]),
            size=int(data["size"]),
            share=float(data["share"]),
            numeric=_records(NumericTrait, data.get("numeric", ())),
            categories=_records(CategoryTrait, data.get("categories", ())),
            keywords=tuple(str(k) for k in data.get("keywords", ())),
            examples=tuple(str(e) for e in data.get("examples", ())),
            language=str(data.get("language", "other")),
            offers=_records(Offer, data.get("offers", ())),
            feedback=SegmentFeedback.from_dict(data["feedback"]) if data.get("feedback") else None,
            keyword_lift=tuple(float(v) for v in data.get("keyword_lift", ())),
            writer_share=(
                float(data["writer_share"]) if data.get("writer_share") is not None else None
            ),
        )


def _records(kind: type[_Record], items: Sequence[dict[str, Any]]) -> tuple[_Record, ...]:
    """Frozen trait records from JSON: text fields stay text, numbers become floats
    (null, as ``profiles.json`` writes NaN, becomes NaN again)."""
    out = []
    for item in items:
        values: dict[str, Any] = {}
        for spec in fields(kind):
            if spec.name == "label":  # profiles.json written before labels: from the name
                values["label"] = str(item.get("label") or column_label(str(item["column"])))
                continue
            value = item[spec.name]
            if spec.name in ("column", "value"):
                values[spec.name] = str(value)
            else:
                values[spec.name] = math.nan if value is None else float(value)
        out.append(kind(**values))
    return tuple(out)
