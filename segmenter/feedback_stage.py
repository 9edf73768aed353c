"""The feedback stage: sentiment and urgent flags for every row with text.

``plan_feedback_stage`` decides, for both engines, what is read and how: which texts, with
which vectors, and whether a large table is read from a sample. The local engine carries the
plan out here (``feedback_stage``); the Ray engine in ``distributed.feedback``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmenter.config import EmbedConfig
from segmenter.embed_stage import Progress, embed_documents, no_progress
from segmenter.embedding import EmbeddingResult, get_embedder
from segmenter.errors import InputError
from segmenter.ingest import Schema, build_documents
from segmenter.sampling import sentiment_rows
from segmenter.sentiment import (
    FeedbackResult,
    SentimentResult,
    analyse_feedback,
    carry_sentiment,
    classify_text,
    find_sentiment_source,
    learn_from_labels,
    reader_phrases,
    source_labels,
    urgent_flags,
)
from segmenter.stage_columns import feedback_columns, feedback_only_schema, sentiment_candidates

NO_SENTIMENT = "none"
SENTIMENT_FULL_ROWS = 5_000
"""Above this many rows with text, the sentiment reader reads a sample, not every row: the
multilingual model reads about 350 texts a second on 2 cores (5 minutes at 100k rows, 51 s
at 10k), and the lexicons 5,000-10,000 short texts a second (VADER is pure Python)."""


@dataclass(frozen=True)
class FeedbackStagePlan:
    """What the feedback stage reads and how, the same for both engines."""

    feedback_schema: Schema | None
    """The schema whose documents are the feedback texts, where they differ from the
    segmentation's (product lists left out); ``None``: the segmentation's documents."""
    candidates: tuple[str, ...]
    """Columns where a rating column is looked for."""
    reuse: bool
    """Read with the segmentation's vectors: they come from the sentiment model and cover the
    same texts; otherwise the texts are embedded with the sentiment model."""

    @staticmethod
    def sampled(n_with_text: int) -> bool:
        """Whether a table with this many rows with text is read from a sample: above
        ``SENTIMENT_FULL_ROWS``, a rating column is learnt on the segmentation's vectors, or
        the model reads ``sampling.sentiment_rows`` and a classifier on the segmentation's
        vectors carries it to the rest."""
        return n_with_text > SENTIMENT_FULL_ROWS


def plan_feedback_stage(
    schema: Schema, embedder_name: str | None, config: EmbedConfig
) -> FeedbackStagePlan | None:
    """The plan of the feedback stage; ``None`` when there is none (no text embedded, no
    feedback column, or ``config.sentiment_model`` is ``"none"``)."""
    columns = feedback_columns(schema)
    if embedder_name is None or not columns or config.sentiment_model == NO_SENTIMENT:
        return None
    return FeedbackStagePlan(
        feedback_schema=feedback_only_schema(schema),
        candidates=tuple(sentiment_candidates(schema)),
        reuse=embedder_name == config.sentiment_model and columns == schema.text_columns,
    )


_reader_vectors: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
_reader_lock = threading.Lock()


def reader_vectors(config: EmbedConfig) -> np.ndarray:
    """``reader_phrases()`` embedded with the sentiment model: once per process and model
    (the server does it at start, ``warm_up``), through the cache the first time."""
    model = get_embedder(config.sentiment_model)
    with _reader_lock:
        known = _reader_vectors.get(model)
        if known is None:
            phrases, _ = reader_phrases()
            embedded = embed_documents(phrases, config.sentiment_model, config)
            assert embedded is not None  # the phrases are not empty
            known = _reader_vectors[model] = embedded.vectors
    return known


def read_sample(
    plan: FeedbackStagePlan,
    docs: Sequence[str],
    segmentation_vectors: np.ndarray,
    config: EmbedConfig,
    progress: Progress = no_progress,
) -> SentimentResult:
    """The sentiment model's reading of the sampled rows' feedback ``docs`` (each with
    text), with their ``segmentation_vectors`` where the plan reuses them."""
    vectors = segmentation_vectors
    if not plan.reuse:
        embedded = embed_documents(docs, config.sentiment_model, config, progress)
        assert embedded is not None  # sampled rows have text
        vectors = embedded.vectors
    return classify_text(docs, vectors, np.ones(len(docs), dtype=bool), reader_vectors(config))


def feedback_stage(
    docs: Sequence[str],
    embedding: EmbeddingResult | None,
    embedder_name: str | None,
    frame: pd.DataFrame,
    schema: Schema,
    config: EmbedConfig,
    progress: Progress = no_progress,
) -> FeedbackResult | None:
    """Sentiment and urgent flags for every row with text, by ``plan_feedback_stage``
    (``None`` where it plans none)."""
    if embedding is None:
        return None
    plan = plan_feedback_stage(schema, embedder_name, config)
    if plan is None:
        return None
    if plan.feedback_schema is not None:
        docs = build_documents(frame, plan.feedback_schema)
    if plan.sampled(int(embedding.has_text.sum())):
        return _sampled_feedback(plan, docs, embedding, frame, config, progress)
    vectors = embedding
    if not plan.reuse:
        embedded = embed_documents(docs, config.sentiment_model, config, progress)
        if embedded is None:
            return None
        vectors = embedded
    return analyse_feedback(
        docs, vectors.vectors, vectors.has_text, reader_vectors(config), frame, plan.candidates
    )


def _sampled_feedback(
    plan: FeedbackStagePlan,
    docs: Sequence[str],
    embedding: EmbeddingResult,
    frame: pd.DataFrame,
    config: EmbedConfig,
    progress: Progress,
) -> FeedbackResult:
    """Sentiment of a large table: a rating column is learnt on the segmentation's vectors;
    otherwise a sample is read and ``carry_sentiment`` does the rest."""
    source = find_sentiment_source(frame, plan.candidates)
    if source.method == "rating":
        try:
            rated = learn_from_labels(
                embedding.vectors, embedding.has_text, source_labels(frame, source), source
            )
            return FeedbackResult(rated, tuple(urgent_flags(docs, list(rated.labels))))
        except InputError:
            pass  # too few of some rating: read a sample with the model, as without one
    rows = sentiment_rows(np.flatnonzero(embedding.has_text))
    sample = read_sample(plan, [docs[i] for i in rows], embedding.vectors[rows], config, progress)
    carried = carry_sentiment(sample, rows, embedding.vectors, embedding.has_text)
    return FeedbackResult(carried, tuple(urgent_flags(docs, list(carried.labels))))
