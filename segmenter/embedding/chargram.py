"""A static model for any script: each text's character 1- and 2-grams, hashed, projected to
256 dimensions with a fixed sparse random projection.

The fast mode for Chinese and other non-Latin text. The multilingual model reads about 300
short texts a second on 2 cores (100,000 Chinese reviews: about 5 minutes); this reads tens
of thousands. It knows no meaning, only which characters a text shares with others, so the
pipeline joins it with topics learnt from the table's own characters (``lexical.py``) and
aligns both with the multilingual model on a sample of the table's texts (``teacher.py``),
as the English fast mode does with MiniLM. Nothing is learnt or downloaded: the hash and
the projection are fixed by their seed, so the same text gets the same vector everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segmenter.embedding.base import LazyEmbedder

CHARGRAM_MODEL_ID = "segmenter/char-1-2-grams-hashed-256"
CHARGRAM_DIMENSION = 256
CHARGRAM_FEATURES = 2**18
"""Hash buckets: the 1- and 2-grams of a table of Chinese reviews (tens of thousands)
rarely share one."""


class CharGramEmbedder(LazyEmbedder):
    """Hashed character 1-2-grams (TF-IDF-free, sublinear counts, unit length), projected."""

    worth_caching = False
    chunk_texts = 25_000

    def __init__(self) -> None:
        super().__init__(CHARGRAM_MODEL_ID, CHARGRAM_DIMENSION)

    def _load_model(self) -> Any:
        import scipy.sparse as sparse  # noqa: PLC0415 - with scikit-learn, loaded lazily
        from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415
        from sklearn.random_projection import SparseRandomProjection  # noqa: PLC0415

        hashing = HashingVectorizer(
            analyzer="char",
            ngram_range=(1, 2),
            n_features=CHARGRAM_FEATURES,
            alternate_sign=False,
            norm=None,
            dtype=np.float32,
        )
        projection = SparseRandomProjection(
            CHARGRAM_DIMENSION, dense_output=True, random_state=0
        ).fit(sparse.csr_matrix((1, CHARGRAM_FEATURES), dtype=np.float32))
        return hashing, projection

    def _encode(self, model: Any, texts: list[str], batch_size: int) -> np.ndarray:
        hashing, projection = model
        counts = hashing.transform(texts)
        counts.data = 1.0 + np.log(counts.data)  # sublinear: a repeated character, not ten
        return np.asarray(projection.transform(counts), dtype=np.float32)
