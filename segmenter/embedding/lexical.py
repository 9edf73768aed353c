"""Topics learnt from a table's own words: TF-IDF reduced by truncated SVD (LSA).

The fast embedding mode joins these with the static model's vectors. A static model knows
general meaning but averages words with equal voice; LSA knows which words separate *this*
table's customers. Together they recover most of what MiniLM finds: on Debian's package
descriptions (5,141 texts in 16 sections, ``bench/compare.py``) NMI was 0.628 for MiniLM,
0.509 for the static model alone, and 0.588 for the static model with 256 LSA topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from segmenter.embedding.base import count_matrix, l2_normalise
from segmenter.fusion import fit_rows
from segmenter.sampling import uniform_rows

LEXICAL_DIMS = 256
SVD_FIT_ROWS = 20_000
"""The topics are learnt from a sample of this many texts and applied to all (the SVD's cost
grows with the rows; 20,000 texts settle the main directions of a vocabulary)."""
MIN_DOCUMENT_FREQUENCY = 2
MAX_DOCUMENT_SHARE = 0.5


@dataclass(frozen=True)
class LexicalModel:
    """A table's vocabulary (TF-IDF) and its main topics (truncated SVD), learnt once;
    ``transform`` gives any batch of texts its topic vector."""

    vectorizer: Any
    svd: Any

    @property
    def dims(self) -> int:
        return int(self.svd.n_components)

    def transform(self, texts: Sequence[str], has_text: np.ndarray) -> np.ndarray:
        """Unit-length topic vectors, ``(n, dims)`` float32; zero rows where there is no text."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        rows = np.flatnonzero(has_text)
        if len(rows):
            chosen = [texts[int(i)] for i in rows]
            if self.vectorizer.analyzer == "word":
                weights = tfidf_by_word(self.vectorizer, chosen)
            else:
                weights = self.vectorizer.transform(chosen)
            out[rows] = l2_normalise(self.svd.transform(weights).astype(np.float32))
        return out


def tfidf_by_word(vectorizer: Any, texts: Sequence[str]) -> Any:
    """``vectorizer.transform(texts)`` (a fitted word-unigram ``TfidfVectorizer``), with each
    distinct whitespace-separated word analysed once instead of every text in full.

    Its tokens never span whitespace and lower-casing is per character, so a text's terms
    are the terms of its words: the counts, and so the weights, are the vectorizer's own.
    At 100,000 reviews this is a second instead of four.
    """
    import scipy.sparse as sparse  # noqa: PLC0415 - with scikit-learn, already loaded

    words = [text.split() for text in texts]
    per_text = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    codes, distinct = pd.factorize(pd.Series(list(chain.from_iterable(words)), dtype=object))
    analyse, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    terms = [[vocabulary[t] for t in analyse(word) if t in vocabulary] for word in distinct]
    per_word = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    dtype = vectorizer.dtype
    word_terms = count_matrix(
        np.fromiter(chain.from_iterable(terms), dtype=np.int64), per_word, len(vocabulary), dtype
    )
    by_text = count_matrix(codes, per_text, len(terms), dtype)
    counts = sparse.csr_matrix(by_text @ word_terms, dtype=dtype)
    counts.sum_duplicates()
    counts.sort_indices()
    return vectorizer._tfidf.transform(counts, copy=False)  # noqa: SLF001 - transform's own step


def fit_lexical(
    texts: Sequence[str], *, dims: int = LEXICAL_DIMS, random_state: int = 0, by: str = "word"
) -> LexicalModel | None:
    """Learn the topics of ``texts`` (each with text): the vocabulary from all of them, the
    SVD from at most ``SVD_FIT_ROWS``. ``None`` when fewer than three texts or no term occurs
    in two. ``by="char"`` learns them from character 1-2-grams (``CHAR_NGRAMS``), for
    scripts written without spaces."""
    fitted = _fit_lexical(texts, dims, random_state, by)
    return fitted[0] if fitted else None


CHAR_NGRAMS = (1, 2)
"""Chinese words are mostly one or two characters; 1-2-grams of the characters stand in for
the words a segmenter would find, without one."""


def tfidf_vectorizer(by: str = "word", ngram_range: tuple[int, int] = CHAR_NGRAMS) -> Any:
    """The unfitted TF-IDF vectorizer of the topics, by words (English stop words left out)
    or by character n-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    if by == "char":
        return TfidfVectorizer(
            analyzer="char",
            ngram_range=ngram_range,
            min_df=MIN_DOCUMENT_FREQUENCY,
            max_df=MAX_DOCUMENT_SHARE,
            sublinear_tf=True,
            dtype=np.float32,
        )
    return TfidfVectorizer(
        min_df=MIN_DOCUMENT_FREQUENCY,
        max_df=MAX_DOCUMENT_SHARE,
        sublinear_tf=True,
        stop_words="english",
        dtype=np.float32,
    )


def _fit_lexical(
    texts: Sequence[str], dims: int, random_state: int, by: str = "word"
) -> tuple[LexicalModel, Any] | None:
    from sklearn.decomposition import TruncatedSVD  # noqa: PLC0415 - only for large tables

    if len(texts) < 3:
        return None
    vectorizer = tfidf_vectorizer(by)
    try:
        weights = vectorizer.fit_transform(texts)
    except ValueError:  # no word left after the frequency limits
        return None
    # ``transform`` gives sorted column indices, ``fit_transform`` does not, and the SVD's
    # sums then round differently: sorted, a table's topics are the same whether learnt
    # here or applied later in batches (the Ray engine), to the last bit.
    weights.sort_indices()
    width = min(dims, weights.shape[1] - 1, len(texts) - 1)
    if width < 1:
        return None
    svd = TruncatedSVD(width, random_state=random_state)
    svd.fit(weights[uniform_rows(len(texts), SVD_FIT_ROWS, random_state)])
    return LexicalModel(vectorizer, svd), weights


def lexical_topics(
    texts: Sequence[str], has_text: np.ndarray, *, dims: int = LEXICAL_DIMS, random_state: int = 0
) -> np.ndarray:
    """Unit-length LSA vectors, ``(n, dims)`` float32; zero rows where there is no text.

    The vocabulary and topics are learnt from at most ``fusion.FIT_ROWS`` texts (a uniform
    sample; the Ray engine draws the same one) and applied to all. Fewer dimensions come back
    when the vocabulary is smaller than ``dims``; an empty array of width 0 when no word
    occurs in two texts.
    """
    return fit_table_topics(texts, has_text, dims=dims, random_state=random_state)[0]


def fit_table_topics(
    texts: Sequence[str],
    has_text: np.ndarray,
    *,
    dims: int = LEXICAL_DIMS,
    random_state: int = 0,
    by: str = "word",
) -> tuple[np.ndarray, LexicalModel | None]:
    """``lexical_topics`` and the model that gives any other texts theirs (``None`` when no
    word occurs in two texts)."""
    rows = np.flatnonzero(has_text)
    learn = rows[fit_rows(len(rows))]
    if len(learn) < len(rows):  # a large table: learn from a sample, apply to all
        model = fit_lexical(
            [texts[int(i)] for i in learn], dims=dims, random_state=random_state, by=by
        )
        if model is None:
            return np.zeros((len(texts), 0), dtype=np.float32), None
        return model.transform(texts, has_text), model
    fitted = _fit_lexical([texts[int(i)] for i in rows], dims, random_state, by)
    if fitted is None:
        return np.zeros((len(texts), 0), dtype=np.float32), None
    model, weights = fitted  # the texts' weights, already computed while learning
    out = np.zeros((len(texts), model.dims), dtype=np.float32)
    out[rows] = l2_normalise(model.svd.transform(weights).astype(np.float32))
    return out, model
