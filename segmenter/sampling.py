"""Which rows each stage learns from: every draw of both engines, in one place.

Both engines must learn each model from the same rows to give the same segments, so each
stage draws its rows here, by row count and seed alone (never from the data), and the Ray
engine gathers exactly those rows from the cluster. Each stage keeps the size it draws,
documented with the measurement behind it, beside the code that uses it:

============================  ==========================================  ===================
stage                          rows                                        size
============================  ==========================================  ===================
roles (Ray: ``schema_rows``)   uniform sample of the table                 ``SCHEMA_ROWS``
fusion, lexical topics, k      ``fusion.fit_rows``: uniform                ``fusion.FIT_ROWS``
drivers                        ``fusion.driver_rows``: uniform             ``fusion.DRIVER_ROWS``
UMAP                           ``reduce.umap_sample_rows``: uniform        ``UMAP_FIT_ROWS``
KMeans                         ``kmeans.kmeans_rows``: in draw order       ``KMEANS_FIT_ROWS``
silhouette                     ``kmeans.silhouette_rows``: scikit-learn's  the setting
fast mode's alignment          ``teacher.teacher_rows``: a share           ``TEACHER_*``
sentiment of a large table     ``sentiment_rows``                          ``SENTIMENT_SAMPLE_ROWS``
keywords                       ``profile.count_terms``                     ``KEYWORD_SAMPLE_ROWS``
============================  ==========================================  ===================

Positions are among the rows the stage sees (the usable rows, the rows with text); the
callers map them to row numbers.
"""

from __future__ import annotations

import numpy as np

SCHEMA_ROWS = 50_000
"""Column roles are detected on a uniform sample of at most this many rows (all of a smaller
table, so the Ray engine's roles are the local engine's)."""

SENTIMENT_SAMPLE_ROWS = 1_000
"""Rows with text whose sentiment the model reads on a large table (see
``feedback_stage.SENTIMENT_FULL_ROWS``); a classifier carries it to the rest. Reading them is
most of the stage at 100k rows. ``bench/sentiment_sample.py`` (5 draws each): the carried
rows agreed with human labels at 81.4% reading 1,000 rows and 81.6% reading 1,500 (Yelp and
Amazon, through the fast mode's vectors), 78.2% and 78.4% reading 1,000 and 2,000 (waimai,
through the Chinese fast mode's); 250 rows lose 2-5 points."""


def uniform_rows(n_rows: int, at_most: int, random_state: int = 0) -> np.ndarray:
    """Positions (sorted) of all ``n_rows`` rows, or of a uniform sample of ``at_most``."""
    if n_rows <= at_most:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, at_most, replace=False))


def sample_of(rows: np.ndarray, at_most: int, random_state: int = 0) -> np.ndarray:
    """``rows`` (row numbers, sorted), or a uniform sample of ``at_most`` of them (sorted)."""
    return np.asarray(rows)[uniform_rows(len(rows), at_most, random_state)]


def drawn_rows(n_rows: int, at_most: int, random_state: int) -> np.ndarray | None:
    """Positions in draw order (not sorted) of a uniform sample of ``at_most`` rows; None
    when there are no more rows than that (learn from all, in table order)."""
    if n_rows <= at_most:
        return None
    return np.random.default_rng(random_state).choice(n_rows, at_most, replace=False)


def permuted_rows(n_rows: int, at_most: int, random_state: int) -> np.ndarray:
    """The first ``at_most`` positions of a permutation: scikit-learn's own draw in
    ``silhouette_score(sample_size=...)``, so a sampled silhouette reads its rows."""
    return np.random.RandomState(random_state).permutation(n_rows)[:at_most]


def share_of_rows(
    n_rows: int, share: float, at_most: int, at_least: int, random_state: int = 0
) -> np.ndarray:
    """Positions (sorted) of ``share`` of the rows, at most ``at_most``; none when that is
    fewer than ``at_least`` (too few to learn from)."""
    wanted = min(at_most, int(n_rows * share))
    if wanted < at_least:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, wanted, replace=False))


def schema_rows(n_rows: int) -> np.ndarray:
    """Row numbers (sorted) the column roles are detected on."""
    return uniform_rows(n_rows, SCHEMA_ROWS)


def sentiment_rows(with_text: np.ndarray) -> np.ndarray:
    """The rows (sorted) a large table's sentiment is read on: ``SENTIMENT_SAMPLE_ROWS`` of
    ``with_text`` (the row numbers with text)."""
    return sample_of(with_text, SENTIMENT_SAMPLE_ROWS)
