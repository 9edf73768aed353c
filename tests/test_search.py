"""Hybrid search: a query's own words count beside its meaning; matches come as a table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from segmenter.embedding import EmbeddingResult
from segmenter.search import (
    KEYWORDS,
    SCORE,
    SIMILARITY,
    keyword_index,
    matches_frame,
    search_texts,
)
from tests.conftest import FakeEmbedder

FIT = [
    "This dress runs large, order a size down",
    "This top runs small, size up",
    "Lovely colour and soft fabric",
    "",
    "The jeans run small in the waist",
]


class LookupEmbedder:
    """An embedder that reads "runs large" as closest to the query "runs small", as
    embedding models do for texts of one topic (the case the keyword half exists for)."""

    model_id = "lookup"

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        query = rng.normal(size=8)
        query /= np.linalg.norm(query)
        other = rng.normal(size=8)
        other -= (other @ query) * query
        other /= np.linalg.norm(other)

        def towards(cos: float) -> np.ndarray:
            return cos * query + np.sqrt(1 - cos**2) * other

        self.vectors = {
            "runs small": query,
            FIT[0]: towards(0.95),
            FIT[1]: towards(0.80),
            FIT[2]: towards(0.10),
            FIT[3]: np.zeros(8),
            FIT[4]: towards(0.70),
        }

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def _embedding(docs: Sequence[str], embedder: object) -> EmbeddingResult:
    vectors = embedder.embed(list(docs))  # type: ignore[attr-defined]
    has_text = np.array([bool(d.strip()) for d in docs])
    return EmbeddingResult(vectors, has_text, "test", len(docs), 0)


def test_the_query_words_rank_runs_small_above_runs_large() -> None:
    embedder = LookupEmbedder()
    embedding = _embedding(FIT, embedder)
    index = keyword_index(FIT)
    meaning_only = search_texts(
        "runs small", keywords=index, embedding=embedding, embedder=embedder, keyword_weight=0
    )
    assert meaning_only.rows.tolist()[:2] == [0, 1]  # the embedding alone gets it wrong
    hybrid = search_texts("runs small", keywords=index, embedding=embedding, embedder=embedder)
    assert hybrid.rows[0] == 1  # "runs small" now above "runs large"
    assert set(hybrid.rows.tolist()) == {0, 1, 4}  # "fabric" shares no word and is at cos 0.1
    assert 3 not in hybrid.rows  # a row without text never matches
    assert hybrid.keywords[0] == pytest.approx(1.0)
    assert np.all(np.diff(hybrid.scores) <= 0)


def test_a_chinese_query_is_split_by_jieba() -> None:
    docs = ["衣服尺码偏大", "送餐太慢了，饭都凉了", "衣服尺码偏小，建议买大一号", "质量很好"]
    embedder = FakeEmbedder()  # every Chinese text lands on one direction: meaning cannot tell
    hits = search_texts(
        "尺码偏小",
        keywords=keyword_index(docs),
        embedding=_embedding(docs, embedder),
        embedder=embedder,
    )
    assert hits.rows[0] == 2
    assert hits.keywords[0] == pytest.approx(1.0)
    ranked = hits.rows.tolist()
    assert ranked.index(0) < ranked.index(1) or 1 not in ranked  # "尺码" alone beats no word


def test_without_vectors_search_uses_words_alone() -> None:
    hits = search_texts("small waist", keywords=keyword_index(FIT), embedding=None, embedder=None)
    assert hits.rows.tolist() == [4, 1]  # both words, then one
    assert np.isnan(hits.similarity).all()
    for nothing in ("", "zebra"):
        hits = search_texts(nothing, keywords=keyword_index(FIT), embedding=None, embedder=None)
        assert hits.rows.size == 0


def test_stop_words_alone_fall_back_to_meaning() -> None:
    docs = ["Courier lost my package", "Great price", "Support was helpful"]
    embedder = FakeEmbedder()
    hits = search_texts(
        "the delivery",  # "the" is a stop word; "delivery" is in no text
        keywords=keyword_index(docs),
        embedding=_embedding(docs, embedder),
        embedder=embedder,
    )
    assert hits.rows[0] == 0 and (hits.keywords == 0).all()


def test_an_index_of_texts_without_words_matches_nothing() -> None:
    index = keyword_index(["", "ok", "!!"])
    assert index.scores("ok").tolist() == [0, 0, 0]


def test_matches_are_listed_with_their_scores() -> None:
    embedder = LookupEmbedder()
    hits = search_texts(
        "runs small",
        keywords=keyword_index(FIT),
        embedding=_embedding(FIT, embedder),
        embedder=embedder,
    )
    ids = pd.Series([f"{i:03d}" for i in range(len(FIT))])
    frame = matches_frame(
        hits, ids=ids, id_name="customer_id", segment_names=["Fit"] * len(FIT), docs=FIT
    )
    assert list(frame.columns) == ["customer_id", "segment", "text", SCORE, SIMILARITY, KEYWORDS]
    assert frame.index.tolist() == hits.rows.tolist()
    assert frame["customer_id"].iloc[0] == "001" and frame["text"].iloc[0] == FIT[1]


@pytest.mark.model
def test_runs_small_with_the_bundled_model() -> None:
    from segmenter.embedding import get_embedder

    embedder = get_embedder("minilm")
    docs = [*FIT, "Sizing is true, fits as expected"]
    hits = search_texts(
        "runs small",
        keywords=keyword_index(docs),
        embedding=_embedding(docs, embedder),
        embedder=embedder,
    )
    ranked = hits.rows.tolist()
    assert ranked[0] == 1 and ranked.index(4) < ranked.index(0)
