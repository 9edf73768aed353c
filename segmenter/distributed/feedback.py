"""Feedback sentiment and urgent flags on the cluster, by ``feedback_stage``'s plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from segmenter.config import EmbedConfig
from segmenter.distributed.columns import (
    BATCH_ROWS,
    FEEDBACK_DOC,
    FLAGS,
    HAS_TEXT,
    ORIGINAL,
    ROW,
    SCORE,
    SENTIMENT,
    SENTIMENT_HAS_TEXT,
    SENTIMENT_VECTOR,
    VECTOR,
    Layout,
    gather,
    numbers_where,
)
from segmenter.distributed.embedding import embed_rows
from segmenter.distributed.profiles import BatchCounts
from segmenter.errors import InputError
from segmenter.feedback_stage import plan_feedback_stage, read_sample, reader_vectors
from segmenter.ingest import Schema
from segmenter.sampling import sentiment_rows
from segmenter.sentiment import (
    NO_TEXT,
    SENTIMENTS,
    SentimentReader,
    SentimentSource,
    carried_note,
    carrier,
    find_sentiment_source,
    prototype_reader,
    rating_reader,
    source_labels,
    urgent_flags,
)
from segmenter.sentiment.feedback import feedback_record as sentiment_record


@dataclass(frozen=True)
class FeedbackPlan:
    """How every row's sentiment and urgent flags are read, learnt on the driver as the
    local engine's ``feedback_stage`` learns them; ``read_feedback`` applies it."""

    reader: SentimentReader
    vectors: str  # the column of vectors the reader reads
    has_text: str
    layout: Layout
    rating: SentimentSource | None = None  # rated rows keep their rating's sentiment
    sample_rows: np.ndarray | None = None  # rows the sentiment model read itself (sorted)
    sample_labels: np.ndarray | None = None
    sample_scores: np.ndarray | None = None


def read_feedback(batch: dict[str, np.ndarray], plan: FeedbackPlan) -> dict[str, np.ndarray]:
    """Sentiment, score and urgent flags of each row of a batch."""
    rated = None
    if plan.rating is not None:
        rated = source_labels(plan.layout.original_frame(batch), plan.rating).to_numpy()
    docs = [str(d) for d in batch[FEEDBACK_DOC]]
    result = plan.reader.read(
        np.asarray(batch[plan.vectors]),
        np.asarray(batch[plan.has_text], dtype=bool),
        rated,
        texts=docs,
    )
    labels, scores = result.labels.copy(), result.scores.copy()
    if plan.sample_rows is not None:
        assert plan.sample_labels is not None and plan.sample_scores is not None
        found = np.searchsorted(plan.sample_rows, batch[ROW])
        inside = found < len(plan.sample_rows)
        inside[inside] = plan.sample_rows[found[inside]] == batch[ROW][inside]
        labels[inside] = plan.sample_labels[found[inside]]
        scores[inside] = plan.sample_scores[found[inside]]
    batch[SENTIMENT] = labels
    batch[SCORE] = scores
    batch[FLAGS] = np.array(urgent_flags(docs, list(labels)), dtype=object)
    return batch


def _rated_rows(
    rows: Any, layout: Layout, source: SentimentSource, vectors: str, has_text: str
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and sentiments of the rated rows with text (all of them: a rating column's
    classifier learns from every rated row, as the local engine's does)."""

    def rated(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        labels = source_labels(layout.original_frame(batch), source).to_numpy()
        keep = np.isin(labels, SENTIMENTS) & np.asarray(batch[has_text], dtype=bool)
        return {ROW: batch[ROW][keep], "v": batch[vectors][keep], "y": labels[keep].astype(str)}

    columns = [ROW, vectors, has_text, *(f"{ORIGINAL}{i}" for i in range(len(layout.original)))]
    found = rows.select_columns(columns).map_batches(
        rated, batch_format="numpy", batch_size=BATCH_ROWS
    )
    pieces = list(found.iter_batches(batch_format="numpy", batch_size=None))
    if not pieces:
        return np.zeros((0, 0), np.float32), np.zeros(0, dtype=object)
    order = np.argsort(np.concatenate([p[ROW] for p in pieces]), kind="stable")
    vectors_out = np.concatenate([p["v"] for p in pieces])[order]
    return vectors_out, np.concatenate([p["y"] for p in pieces])[order]


def _analysis_plan(
    rows: Any,
    layout: Layout,
    frame: pd.DataFrame,
    candidates: Sequence[str],
    config: EmbedConfig,
    vectors: str,
    has_text: str,
) -> FeedbackPlan:
    """``sentiment.analyse_feedback``: the rating column's classifier, else the prototypes."""
    source = find_sentiment_source(frame, candidates)
    note = ""
    if source.method == "rating":
        try:
            known_vectors, known_labels = _rated_rows(rows, layout, source, vectors, has_text)
            reader = rating_reader(known_vectors, known_labels, source)
            return FeedbackPlan(reader, vectors, has_text, layout, rating=source)
        except InputError as error:
            note = f"{error} Sentiment is read from the text instead."
    reader = replace(prototype_reader(reader_vectors(config)), note=note)
    return FeedbackPlan(reader, vectors, has_text, layout)


def plan_feedback(
    ray: Any,
    rows: Any,
    layout: Layout,
    schema: Schema,
    frame: pd.DataFrame,
    embedder: str | None,
    config: EmbedConfig,
) -> tuple[Any, FeedbackPlan | None]:
    """How each batch's feedback is read (``read_feedback``), by the local engine's plan
    (``feedback_stage.plan_feedback_stage``): with the segmentation's vectors where they come
    from the sentiment model, else with every feedback text embedded with it; a large table
    by a rating column's classifier, or by a sample the model reads and a classifier carries.
    ``frame`` (the roles' sample) is where a rating column is looked for."""
    stage = plan_feedback_stage(schema, embedder, config)
    if stage is None:
        return rows, None
    with_text = numbers_where(rows, HAS_TEXT)
    if not stage.sampled(len(with_text)):
        if stage.reuse:
            plan = _analysis_plan(rows, layout, frame, stage.candidates, config, VECTOR, HAS_TEXT)
            return rows, plan
        columns = (FEEDBACK_DOC, SENTIMENT_VECTOR, SENTIMENT_HAS_TEXT)
        rows = embed_rows(ray, rows, config.sentiment_model, config, columns)
        plan = _analysis_plan(
            rows, layout, frame, stage.candidates, config, SENTIMENT_VECTOR, SENTIMENT_HAS_TEXT
        )
        return rows, plan
    source = find_sentiment_source(frame, stage.candidates)
    if source.method == "rating":
        try:
            known_vectors, known_labels = _rated_rows(rows, layout, source, VECTOR, HAS_TEXT)
            reader = rating_reader(known_vectors, known_labels, source)
            return rows, FeedbackPlan(reader, VECTOR, HAS_TEXT, layout, rating=source)
        except InputError:
            pass  # too few of some rating: read a sample with the model, as without one
    chosen = sentiment_rows(with_text)
    sample = gather(rows, chosen, [ROW, FEEDBACK_DOC, VECTOR])
    sample_docs = [str(d) for d in sample[FEEDBACK_DOC]]
    read = read_sample(stage, sample_docs, np.asarray(sample[VECTOR]), config)
    reader = carrier(read, np.asarray(sample[VECTOR]))
    n_read = int((read.labels != NO_TEXT).sum())
    reader = replace(reader, note=carried_note(n_read, len(with_text), reader))
    plan = FeedbackPlan(
        reader,
        VECTOR,
        HAS_TEXT,
        layout,
        sample_rows=chosen,
        sample_labels=read.labels,
        sample_scores=read.scores,
    )
    return rows, plan


def feedback_record(plan: FeedbackPlan | None, counts: BatchCounts) -> dict[str, Any] | None:
    """``FeedbackResult.record`` from the merged counts."""
    if plan is None:
        return None
    urgent = counts.sentiments.get("(urgent)", 0)
    return sentiment_record(plan.reader, counts.sentiments, urgent)
