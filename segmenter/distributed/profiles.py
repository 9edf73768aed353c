"""Profiles from per-batch counts merged on the driver."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from segmenter.distributed.columns import (
    BATCH_ROWS,
    DISTANCE,
    DOC,
    FLAGS,
    HAS_DOC,
    LABEL,
    ROW,
    SCORE,
    SENTIMENT,
    Layout,
    one_cell,
    texts_at,
)
from segmenter.embedding.script import main_language
from segmenter.offers import ItemCounts, count_items, offers_from_counts
from segmenter.profile import (
    KEYWORD_SAMPLE_ROWS,
    N_EXAMPLES,
    SegmentProfile,
    _examples,
    _spread,
    class_tfidf_keywords,
    count_terms,
    keyword_lifts,
    profiles_from_summary,
    writer_shares,
)
from segmenter.sampling import sample_of
from segmenter.sentiment import (
    FeedbackCounts,
    count_feedback,
    feedback_from_counts,
)
from segmenter.summary import ProfileSummary, summarise

EXAMPLE_CANDIDATES = 20 * N_EXAMPLES
"""Texts nearest each centre kept per batch: enough for five distinct quotes after dropping
repeats."""


@dataclass(frozen=True)
class BatchCounts:
    """What the profiles need from a batch of rows; the batches' counts merge."""

    summary: ProfileSummary
    nearest: tuple[tuple[tuple[float, int, str], ...], ...]  # per segment: the quotes' candidates
    offers: tuple[ItemCounts, ...]
    feedback: FeedbackCounts | None
    sentiments: dict[str, int]  # for run.json, over all rows

    def merge(self, other: BatchCounts) -> BatchCounts:
        feedback = None
        if self.feedback is not None and other.feedback is not None:
            feedback = self.feedback.merge(other.feedback)
        return BatchCounts(
            summary=self.summary.merge(other.summary),
            nearest=tuple(
                tuple(sorted(a + b)[:EXAMPLE_CANDIDATES])
                for a, b in zip(self.nearest, other.nearest, strict=True)
            ),
            offers=tuple(a.merge(b) for a, b in zip(self.offers, other.offers, strict=True)),
            feedback=feedback,
            sentiments={
                k: self.sentiments.get(k, 0) + other.sentiments.get(k, 0)
                for k in {**self.sentiments, **other.sentiments}
            },
        )


def count_batch(
    batch: dict[str, np.ndarray], layout: Layout, n_segments: int, offer_columns: tuple[str, ...]
) -> dict[str, np.ndarray]:
    first_row = int(batch[ROW][0]) if len(batch[ROW]) else 0
    labels = np.asarray(batch[LABEL]).astype(np.int64)
    summary = summarise(
        labels,
        layout.numeric_frame(batch),
        layout.categorical_frame(batch, profiled=True),
        n_segments,
        first_row=first_row,
    )
    nearest = []
    for segment in range(n_segments):
        members = np.flatnonzero(labels == segment)
        order = members[np.lexsort((batch[ROW][members], batch[DISTANCE][members]))]
        nearest.append(
            tuple(
                (float(batch[DISTANCE][r]), int(batch[ROW][r]), str(batch[DOC][r]))
                for r in order[:EXAMPLE_CANDIDATES]
            )
        )
    original = layout.original_frame(batch)
    offers = tuple(
        count_items(column, original[column], labels, n_segments, first_row=first_row)
        for column in offer_columns
    )
    feedback = None
    sentiments: dict[str, int] = {}
    if SENTIMENT in batch:
        feedback = count_feedback(
            labels,
            np.asarray(batch[SENTIMENT], dtype=object),
            np.asarray(batch[SCORE], dtype=float),
            [str(f) for f in batch[FLAGS]],
            [str(d) for d in batch[DOC]],
            n_segments,
            first_row=first_row,
        )
        values, counts = np.unique(np.asarray(batch[SENTIMENT]).astype(str), return_counts=True)
        sentiments = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        sentiments["(urgent)"] = int(sum(1 for f in batch[FLAGS] if f))
    counted = BatchCounts(summary, tuple(nearest), offers, feedback, sentiments)
    return {"counts": one_cell(counted)}


def count_rows(
    rows: Any, layout: Layout, n_segments: int, offer_columns: tuple[str, ...]
) -> BatchCounts:
    """The table's counts, merged from every batch."""
    parts = rows.map_batches(
        count_batch,
        fn_kwargs={"layout": layout, "n_segments": n_segments, "offer_columns": offer_columns},
        batch_format="numpy",
        batch_size=BATCH_ROWS,
    )
    total: BatchCounts | None = None
    for batch in parts.iter_batches(batch_format="numpy", batch_size=None):
        for counted in batch["counts"]:
            total = counted if total is None else total.merge(counted)
    assert total is not None
    return total


def build_profiles(
    counts: BatchCounts,
    texts: dict[int, str],
    keyword_rows: np.ndarray,
    spread: dict[int, np.ndarray],
    labels: np.ndarray,
    n_segments: int,
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
    rows_with_text: int = 0,
) -> list[SegmentProfile]:
    """Profiles as the local engine makes them (``pipeline.profile_fitted``), from the
    table's merged counts and the texts of sampled rows (keywords, language);
    ``keyword_rows`` are drawn from ``rows_with_text`` rows with text."""
    terms = count_terms(texts, rows=keyword_rows, population=rows_with_text)
    keywords = class_tfidf_keywords([], labels, terms=terms)
    lifts = keyword_lifts(labels, keywords, terms)
    examples = {}
    languages = {}
    for segment in range(n_segments):
        candidates = counts.nearest[segment]
        candidate_docs = [text for _, _, text in candidates]
        examples[segment] = _examples(candidate_docs, np.arange(len(candidates)), None)
        languages[segment] = main_language(
            [texts[int(r)] for r in spread[segment] if texts.get(int(r))]
        )
    segments = range(n_segments)
    profiles = profiles_from_summary(
        counts.summary,
        segments,
        keywords,
        examples,
        languages,
        keyword_lift=lifts,
        column_labels=column_labels,
        unnamed=unnamed,
        writer_share=writer_shares(labels, terms, segments),
    )
    offers = offers_from_counts(counts.offers, segments)
    moods = feedback_from_counts(counts.feedback) if counts.feedback is not None else {}
    return [
        replace(p, offers=offers.get(p.segment_id, ()), feedback=moods.get(p.segment_id))
        for p in profiles
    ]


def profile_rows(
    rows: Any,
    layout: Layout,
    labels: np.ndarray,
    has_doc: np.ndarray,
    n_segments: int,
    offer_columns: tuple[str, ...],
    column_labels: Mapping[str, str] | None = None,
    unnamed: Collection[str] = (),
) -> tuple[list[SegmentProfile], BatchCounts]:
    """Count every batch, read the sampled texts, build the profiles (``column_labels``
    and ``unnamed`` as in ``profile.profile_segments``)."""
    counts = count_rows(rows, layout, n_segments, offer_columns)
    with_text = np.flatnonzero(has_doc)
    keyword_rows = sample_of(with_text, KEYWORD_SAMPLE_ROWS)  # profile.count_terms's rows
    spread = {s: _spread(np.flatnonzero(labels == s)) for s in range(n_segments)}
    wanted = np.unique(np.concatenate([keyword_rows, *spread.values()]).astype(np.int64))
    texts = texts_at(rows, wanted)
    built = build_profiles(
        counts,
        texts,
        keyword_rows,
        spread,
        labels,
        n_segments,
        column_labels,
        unnamed,
        rows_with_text=len(with_text),
    )
    return built, counts


def row_labels(rows: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every row's segment and whether it has text, in row order: one byte or two per row."""
    pieces = list(
        rows.select_columns([ROW, LABEL, HAS_DOC]).iter_batches(
            batch_format="numpy", batch_size=None
        )
    )
    numbers = np.concatenate([p[ROW] for p in pieces])
    order = np.argsort(numbers, kind="stable")
    labels = np.concatenate([p[LABEL] for p in pieces])[order].astype(np.int64)
    has_doc = np.concatenate([p[HAS_DOC] for p in pieces])[order].astype(bool)
    return labels, has_doc
