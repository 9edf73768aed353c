"""Semantic search: find customers whose text is close in meaning to a query."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmenter.embedding import Embedder, EmbeddingResult

DEFAULT_MIN_SIMILARITY = 0.3
"""Cosine similarity below which a match is noise for MiniLM-sized models."""


@dataclass(frozen=True)
class SearchHits:
    """Rows that match a query, best first."""

    rows: np.ndarray  # row positions
    scores: np.ndarray  # cosine similarity, same order


def search_texts(
    query: str,
    embedding: EmbeddingResult,
    embedder: Embedder,
    *,
    top_k: int = 50,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> SearchHits:
    """The ``top_k`` rows most similar to ``query`` (rows without text never match).

    ``embedder`` must be the model that produced ``embedding``.
    """
    if not query.strip():
        return SearchHits(rows=np.array([], dtype=int), scores=np.array([], dtype=np.float32))
    query_vector = embedder.embed([query.strip()])[0]
    scores = embedding.vectors @ query_vector
    scores = np.where(embedding.has_text, scores, -np.inf)
    candidates = np.flatnonzero(scores >= min_similarity)
    best = candidates[np.argsort(-scores[candidates], kind="stable")][:top_k]
    return SearchHits(rows=best, scores=scores[best].astype(np.float32))
