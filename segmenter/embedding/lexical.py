"""Topics learnt from a table's own words: TF-IDF reduced by truncated SVD (LSA).

The fast embedding mode joins these with the static model's vectors. A static model knows
general meaning but averages words with equal voice; LSA knows which words separate *this*
table's customers. Together they recover most of what MiniLM finds: on Debian's package
descriptions (5,141 texts in 16 sections, ``bench/compare.py``) NMI was 0.628 for MiniLM,
0.509 for the static model alone, and 0.588 for the static model with 256 LSA topics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segmenter.embedding.base import l2_normalise

LEXICAL_DIMS = 256
SVD_FIT_ROWS = 20_000
"""The topics are learnt from a sample of this many texts and applied to all (the SVD's cost
grows with the rows; 20,000 texts settle the main directions of a vocabulary)."""
MIN_DOCUMENT_FREQUENCY = 2
MAX_DOCUMENT_SHARE = 0.5


def lexical_topics(
    texts: Sequence[str], has_text: np.ndarray, *, dims: int = LEXICAL_DIMS, random_state: int = 0
) -> np.ndarray:
    """Unit-length LSA vectors, ``(n, dims)`` float32; zero rows where there is no text.

    Fewer dimensions come back when the vocabulary is smaller than ``dims``; an empty
    array of width 0 when no word occurs in two texts.
    """
    from sklearn.decomposition import TruncatedSVD  # noqa: PLC0415 - only for large tables
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    rows = np.flatnonzero(has_text)
    out = np.zeros((len(texts), 0), dtype=np.float32)
    if len(rows) < 3:
        return out
    vectorizer = TfidfVectorizer(
        min_df=MIN_DOCUMENT_FREQUENCY,
        max_df=MAX_DOCUMENT_SHARE,
        sublinear_tf=True,
        stop_words="english",
        dtype=np.float32,
    )
    try:
        weights = vectorizer.fit_transform([texts[int(i)] for i in rows])
    except ValueError:  # no word left after the frequency limits
        return out
    width = min(dims, weights.shape[1] - 1, len(rows) - 1)
    if width < 1:
        return out
    svd = TruncatedSVD(width, random_state=random_state)
    if len(rows) > SVD_FIT_ROWS:
        sample = np.random.default_rng(random_state).choice(len(rows), SVD_FIT_ROWS, replace=False)
        topics = svd.fit(weights[np.sort(sample)]).transform(weights)
    else:
        topics = svd.fit_transform(weights)
    out = np.zeros((len(texts), width), dtype=np.float32)
    out[rows] = l2_normalise(topics.astype(np.float32))
    return out
