"""Building the profiles of a segmentation: traits, keywords, quotes, language and a name."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from segmenter.embedding.script import LANGUAGE_SAMPLE_TEXTS, main_language
from segmenter.profile.keywords import (
    TermCounts,
    class_tfidf_keywords,
    count_terms,
    keyword_lifts,
    writer_shares,
)
from segmenter.profile.naming import name_profiles
from segmenter.profile.segment_profile import SegmentProfile
from segmenter.profile.traits import _category_traits, _numeric_traits
from segmenter.summary import ProfileSummary, summarise

N_EXAMPLES = 5
EXAMPLE_MAX_CHARS = 300
EXAMPLE_MIN_CHARS = 12


def _spread(rows: np.ndarray, limit: int = 2 * LANGUAGE_SAMPLE_TEXTS) -> np.ndarray:
    """At most about ``limit`` of ``rows``, evenly spaced (the language hint needs no more)."""
    return rows[:: max(1, len(rows) // limit)]


def _examples(
    docs: Sequence[str],
    members: np.ndarray,
    distances: np.ndarray | None,
) -> tuple[str, ...]:
    """Texts nearest the segment's centre, distinct, shortened for display.

    Texts of fewer than ``EXAMPLE_MIN_CHARS`` characters ("thanks", "ok") say nothing
    about a segment; they are used only when there are not enough longer ones.
    """
    order = members if distances is None else members[np.argsort(distances[members], kind="stable")]
    seen: set[str] = set()
    informative: list[str] = []
    terse: list[str] = []
    for row in order:
        text = " ".join(docs[row].split())
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        if len(text) > EXAMPLE_MAX_CHARS:
            text = text[: EXAMPLE_MAX_CHARS - 1].rstrip() + "…"
        (informative if len(text) >= EXAMPLE_MIN_CHARS else terse).append(text)
        if len(informative) == N_EXAMPLES:
            break
    return tuple((informative + terse)[:N_EXAMPLES])


def profile_segments(
    docs: Sequence[str],
    labels: np.ndarray,
    numeric: pd.DataFrame | None = None,
    categorical: pd.DataFrame | None = None,
    *,
    distances: np.ndarray | None = None,
    terms: TermCounts | None = None,
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> list[SegmentProfile]:
    """One profile per segment (labels >= 0), in segment order.

    Args:
        docs: one text per row ("" where none), as from ``build_documents``.
        labels: segment per row; negative labels (unsegmented rows) get no profile.
        numeric: numeric columns, one row per input row.
        categorical: categorical and label columns as text, one row per input row.
        distances: each row's distance to its segment's centre, for picking quotes.
        terms: ``count_terms(docs)``, when already computed.
        column_labels: every column's readable label (``labels.column_labels``); by
            default each column's ``column_label``.
        unnamed: columns that never name a segment (``Schema.label_columns``).
    """
    labels = np.asarray(labels)
    numeric = numeric if numeric is not None else pd.DataFrame(index=range(len(labels)))
    categorical = categorical if categorical is not None else pd.DataFrame(index=range(len(labels)))
    segments = sorted(int(s) for s in np.unique(labels) if s >= 0)
    summary = summarise(labels, numeric, categorical, segments[-1] + 1 if segments else 0)
    examples, languages = {}, {}
    for segment in segments:
        members = np.flatnonzero(labels == segment)
        examples[segment] = _examples(docs, members, distances)
        languages[segment] = main_language([docs[int(i)] for i in _spread(members) if docs[int(i)]])
    terms = terms if terms is not None else count_terms(docs)
    keywords = class_tfidf_keywords(docs, labels, terms=terms)
    return profiles_from_summary(
        summary,
        segments,
        keywords,
        examples,
        languages,
        keyword_lift=keyword_lifts(labels, keywords, terms),
        column_labels=column_labels,
        unnamed=unnamed,
        writer_share=writer_shares(labels, terms, segments),
    )


def profiles_from_summary(
    summary: ProfileSummary,
    segments: Sequence[int],
    keywords: dict[int, tuple[str, ...]],
    examples: dict[int, tuple[str, ...]],
    languages: dict[int, str],
    *,
    keyword_lift: Mapping[int, tuple[float, ...]] | None = None,
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
    writer_share: Mapping[int, float] | None = None,
) -> list[SegmentProfile]:
    """The profiles of ``segments`` from a table's summary and each segment's keywords,
    example texts and language (the parts that read texts, computed by the caller).

    Both engines build their profiles, names included, here; ``keyword_lift``,
    ``column_labels`` and ``unnamed`` are as in ``profile_segments``; ``writer_share`` as
    from ``writer_shares`` (empty or ``None`` when the table has no text).
    """
    profiles = []
    for segment in segments:
        size = int(summary.sizes[segment])
        profiles.append(
            SegmentProfile(
                segment_id=segment,
                name="",
                size=size,
                share=float(size / summary.rows),
                numeric=_numeric_traits(summary, segment, column_labels),
                categories=_category_traits(summary, segment, column_labels),
                keywords=keywords[segment],
                examples=examples[segment],
                language=languages[segment],
                keyword_lift=(keyword_lift or {}).get(segment, ()),
                writer_share=(writer_share or {}).get(segment),
            )
        )
    return name_profiles(profiles, column_labels, unnamed)


def distances_to_centres(space: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row to its segment's centre (inf for unsegmented rows)."""
    out = np.full(len(labels), np.inf)
    segmented = labels >= 0
    out[segmented] = np.linalg.norm(space[segmented] - centres[labels[segmented]], axis=1)
    return out
