"""Feedback per row and per segment: sentiment and urgent flags together, the shares and
urgent quotes each segment profile shows, and counts that merge across batches (the Ray
engine counts each batch where it is)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmenter.errors import InputError
from segmenter.sentiment.reading import (
    NO_TEXT,
    SENTIMENTS,
    SentimentReader,
    SentimentResult,
    classify_text,
    find_sentiment_source,
    learn_from_labels,
    source_labels,
)
from segmenter.sentiment.urgent import urgent_flags


@dataclass(frozen=True)
class FeedbackResult:
    """Sentiment and urgent flags for every row, in input order."""

    sentiment: SentimentResult
    flags: tuple[str, ...]

    @property
    def urgent(self) -> np.ndarray:
        """(n,) bool: rows with at least one urgent flag."""
        return np.array([bool(f) for f in self.flags])

    def row_columns(self) -> dict[str, np.ndarray]:
        """The per-row columns the export adds."""
        return {
            "sentiment": self.sentiment.labels,
            "sentiment_score": self.sentiment.scores,
            "urgent_flags": np.array(self.flags, dtype=object),
        }

    def record(self) -> dict[str, Any]:
        """What ``run.json`` keeps about the sentiment model and the flags."""
        labels = self.sentiment.labels
        counts = {s: int((labels == s).sum()) for s in (*SENTIMENTS, NO_TEXT)}
        return feedback_record(self.sentiment, counts, int(self.urgent.sum()))


def feedback_record(
    reader: SentimentResult | SentimentReader, counts: Mapping[str, int], urgent_rows: int
) -> dict[str, Any]:
    """``run.json``'s ``feedback`` block, for both engines: how the sentiment was read, the
    rows per sentiment (``counts``) and the rows with an urgent flag."""
    return {
        "method": reader.source.method,
        "column": reader.source.column,
        "description": reader.source.describe(),
        "cv_accuracy": reader.cv_accuracy,
        "note": reader.note,
        "counts": {s: int(counts.get(s, 0)) for s in (*SENTIMENTS, NO_TEXT)},
        "urgent_rows": urgent_rows,
    }


N_URGENT_EXAMPLES = 3


@dataclass(frozen=True)
class SegmentFeedback:
    """How a segment feels: shares of its rows with text, and urgent examples."""

    rows_with_text: int
    share_negative: float
    share_neutral: float
    share_positive: float
    share_urgent: float
    urgent_topics: tuple[tuple[str, int], ...]
    """(topic, rows) for each topic flagged in the segment, most frequent first."""
    examples: tuple[str, ...]
    """Up to ``N_URGENT_EXAMPLES`` urgent quotes, most negative first."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (tuples become lists)."""
        return {
            "rows_with_text": self.rows_with_text,
            "share_negative": self.share_negative,
            "share_neutral": self.share_neutral,
            "share_positive": self.share_positive,
            "share_urgent": self.share_urgent,
            "urgent_topics": [list(pair) for pair in self.urgent_topics],
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentFeedback:
        """Rebuild from ``to_dict`` output."""
        return cls(
            rows_with_text=int(data["rows_with_text"]),
            share_negative=float(data["share_negative"]),
            share_neutral=float(data["share_neutral"]),
            share_positive=float(data["share_positive"]),
            share_urgent=float(data["share_urgent"]),
            urgent_topics=tuple((str(t), int(n)) for t, n in data.get("urgent_topics", ())),
            examples=tuple(str(e) for e in data.get("examples", ())),
        )


WRITERS_SAY_SO_BELOW = 0.9
"""When fewer than this share of a segment's customers wrote anything, its feedback line says
how many did: "83% negative" read from 90 texts of a 533-customer segment is about those 90,
not the segment (a complaints export leaves two narratives in three blank)."""


def describe_feedback(feedback: SegmentFeedback, segment_size: int | None = None) -> str:
    """One line on how a segment feels, for profiles and prompts; with ``segment_size``, it
    says how many customers the shares rest on when many of the segment wrote nothing.

    >>> describe_feedback(SegmentFeedback(10, 0.5, 0.3, 0.2, 0.1, (("refund", 1),), ()))
    '50% negative, 30% neutral, 20% positive; urgent 10% (refund: 1)'
    >>> describe_feedback(SegmentFeedback(10, 0.5, 0.3, 0.2, 0.0, (), ()), segment_size=40)
    '50% negative, 30% neutral, 20% positive, of the 10 customers (25%) who wrote something'
    """
    line = (
        f"{feedback.share_negative:.0%} negative, {feedback.share_neutral:.0%} "
        f"neutral, {feedback.share_positive:.0%} positive"
    )
    if segment_size and feedback.rows_with_text < WRITERS_SAY_SO_BELOW * segment_size:
        share = feedback.rows_with_text / segment_size
        line += f", of the {feedback.rows_with_text:,} customers ({share:.0%}) who wrote something"
    if feedback.urgent_topics:
        topics = ", ".join(f"{topic}: {count}" for topic, count in feedback.urgent_topics)
        line += f"; urgent {feedback.share_urgent:.0%} ({topics})"
    return line


URGENT_CANDIDATES = 10 * N_URGENT_EXAMPLES
"""Urgent texts kept per segment and batch, most negative first: enough for three distinct
quotes after repeats are dropped."""


@dataclass(frozen=True)
class FeedbackCounts:
    """Per segment: rows with text, rows of each sentiment, urgent rows, urgent topics and
    the most negative urgent texts. Counts of separate batches merge into the table's."""

    with_text: np.ndarray  # (n_segments,)
    sentiments: np.ndarray  # (n_segments, 3), in SENTIMENTS order
    urgent: np.ndarray  # (n_segments,)
    topics: tuple[dict[str, int], ...]
    candidates: tuple[tuple[tuple[float, int, str], ...], ...]  # (score, row, quote)

    def merge(self, other: FeedbackCounts) -> FeedbackCounts:
        return FeedbackCounts(
            with_text=self.with_text + other.with_text,
            sentiments=self.sentiments + other.sentiments,
            urgent=self.urgent + other.urgent,
            topics=tuple(
                {t: a.get(t, 0) + b.get(t, 0) for t in {**a, **b}}
                for a, b in zip(self.topics, other.topics, strict=True)
            ),
            candidates=tuple(
                tuple(sorted(a + b)[:URGENT_CANDIDATES])
                for a, b in zip(self.candidates, other.candidates, strict=True)
            ),
        )


def count_feedback(
    labels: np.ndarray,
    sentiments: np.ndarray,
    scores: np.ndarray,
    flags: Sequence[str],
    docs: Sequence[str],
    n_segments: int,
    *,
    first_row: int = 0,
    quote: int = 240,
) -> FeedbackCounts:
    """The feedback counts of a batch of rows (``first_row``: its first row's number)."""
    with_text = np.zeros(n_segments, dtype=np.int64)
    counts = np.zeros((n_segments, len(SENTIMENTS)), dtype=np.int64)
    urgent = np.zeros(n_segments, dtype=np.int64)
    topics: list[dict[str, int]] = []
    candidates: list[tuple[tuple[float, int, str], ...]] = []
    for segment in range(n_segments):
        rows = np.flatnonzero((labels == segment) & (sentiments != NO_TEXT))
        with_text[segment] = len(rows)
        for column, sentiment in enumerate(SENTIMENTS):
            counts[segment, column] = int((sentiments[rows] == sentiment).sum())
        flagged = [int(i) for i in rows if flags[int(i)]]
        urgent[segment] = len(flagged)
        found: dict[str, int] = {}
        for i in flagged:
            for topic in flags[i].split("; "):
                found[topic] = found.get(topic, 0) + 1
        topics.append(found)
        ranked = sorted((float(scores[i]), i + first_row, i) for i in flagged)
        quoted = [(score, row, " ".join(docs[i].split())[:quote]) for score, row, i in ranked]
        candidates.append(tuple(quoted[:URGENT_CANDIDATES]))
    return FeedbackCounts(with_text, counts, urgent, tuple(topics), tuple(candidates))


def feedback_from_counts(counts: FeedbackCounts) -> dict[int, SegmentFeedback]:
    """Per segment id: the share negative / neutral / positive / urgent among rows with text."""
    out: dict[int, SegmentFeedback] = {}
    for segment, n in enumerate(int(v) for v in counts.with_text):
        if n == 0:
            continue
        examples: list[str] = []
        for _, _, text in counts.candidates[segment]:
            if text and text not in examples:
                examples.append(text)
            if len(examples) == N_URGENT_EXAMPLES:
                break
        shares = counts.sentiments[segment] / n
        out[segment] = SegmentFeedback(
            rows_with_text=n,
            share_negative=round(float(shares[0]), 4),
            share_neutral=round(float(shares[1]), 4),
            share_positive=round(float(shares[2]), 4),
            share_urgent=round(int(counts.urgent[segment]) / n, 4),
            urgent_topics=tuple(
                sorted(counts.topics[segment].items(), key=lambda p: (-p[1], p[0]))
            ),
            examples=tuple(examples),
        )
    return out


def segment_feedback(
    labels: np.ndarray, feedback: FeedbackResult, docs: Sequence[str], quote: int = 240
) -> dict[int, SegmentFeedback]:
    """Per segment id: the share negative / neutral / positive / urgent among rows with text."""
    segments = [int(s) for s in np.unique(labels) if s >= 0]
    counts = count_feedback(
        np.asarray(labels),
        feedback.sentiment.labels,
        feedback.sentiment.scores,
        feedback.flags,
        docs,
        max(segments) + 1 if segments else 0,
        quote=quote,
    )
    return feedback_from_counts(counts)


def analyse_feedback(
    docs: Sequence[str],
    vectors: np.ndarray,
    has_text: np.ndarray,
    phrase_vectors: np.ndarray,
    frame: pd.DataFrame,
    candidate_columns: Sequence[str],
) -> FeedbackResult:
    """Sentiment and urgent flags for every row.

    Args:
        docs: each row's text.
        vectors: the rows' embeddings (the multilingual model in the app).
        has_text: (n,) bool, rows with text.
        phrase_vectors: ``reader_phrases()`` embedded with the same model.
        frame: the table, to look for a rating or sentiment column.
        candidate_columns: the columns that may hold one (not text, not IDs).
    """
    source = find_sentiment_source(frame, candidate_columns)
    result: SentimentResult | None = None
    note = ""
    if source.method == "rating":
        try:
            result = learn_from_labels(vectors, has_text, source_labels(frame, source), source)
        except InputError as error:
            note = f"{error} Sentiment is read from the text instead."
    if result is None:
        result = classify_text(docs, vectors, has_text, phrase_vectors)
        result = SentimentResult(result.labels, result.scores, result.source, None, note)
    return FeedbackResult(result, tuple(urgent_flags(docs, list(result.labels))))
