"""The fast mode's last step: its features aligned with MiniLM on a sample of the table.

The static model and the table's topics (``lexical.py``) know which words a text uses, but
weigh their dimensions differently from MiniLM, which reads the words in context. MiniLM
embeds a sample of the table's own texts (each cut to its first ``TEACHER_TOKENS`` word
pieces, which costs a fraction of the full texts), a ridge regression learns the linear map
from the fast features to those vectors, and every row gets the mapped vector beside its
fast features. On Debian's package descriptions (``bench/compare.py``, 16 sections, k = 16,
two UMAP seeds) the fast mode's NMI went from 0.52 to 0.55-0.57 with 500-1,000 sampled
texts, against MiniLM's 0.61; with 100 sampled texts the map overfits and helps nothing,
hence ``TEACHER_MIN_TEXTS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmenter.embedding.base import l2_normalise
from segmenter.sampling import share_of_rows

TEACHER_TOKENS = 32
"""MiniLM reads this many word pieces of each sampled text: 1,000 Debian descriptions took
13 s on 2 cores at 32 (23 s at 64, 47 s at 128) and aligned as well as 500 whole texts."""
TEACHER_SHARE = 0.1
TEACHER_MAX_TEXTS = 1_000
TEACHER_MIN_TEXTS = 200
"""A tenth of the texts, at most 1,000 (about 13 s on 2 cores), and none below 200 sampled
texts (tables under 2,000 texts), where a 512-column map cannot be learnt reliably."""
ALIGNMENT_RIDGE = 0.3
"""Ridge penalty on unit-length rows: 0.1-0.3 scored alike at 300-1,000 texts, 3 lower."""


def teacher_rows(n_texts: int, random_state: int = 0) -> np.ndarray:
    """Positions (among the rows with text, sorted) whose texts MiniLM reads; empty when the
    table is too small to learn the alignment from."""
    return share_of_rows(n_texts, TEACHER_SHARE, TEACHER_MAX_TEXTS, TEACHER_MIN_TEXTS, random_state)


@dataclass(frozen=True)
class Alignment:
    """A linear map from the fast features to the teacher's vectors; ``transform`` joins
    each row's mapped vector to its fast features."""

    weights: np.ndarray  # (feature dims, teacher dims) float64

    def transform(self, features: np.ndarray) -> np.ndarray:
        """``(n, feature dims + teacher dims)`` float32: both halves at the same weight, unit
        rows stay unit rows, zero rows (no text) stay zero."""
        features = np.asarray(features, dtype=np.float32)
        # In float64, then rounded: a float32 product's last bits depend on how many rows
        # BLAS multiplies at once, and the Ray engine maps batches of another size.
        mapped = l2_normalise(features.astype(np.float64) @ self.weights)
        return np.hstack([features, mapped]) / np.float32(np.sqrt(2.0))


def fit_alignment(
    features: np.ndarray, teacher: np.ndarray, *, ridge: float = ALIGNMENT_RIDGE
) -> Alignment:
    """The ridge regression from ``features`` to ``teacher`` (rows paired)."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(teacher, dtype=np.float64)
    gram = x.T @ x + ridge * np.eye(x.shape[1])
    return Alignment(np.linalg.solve(gram, x.T @ y))
