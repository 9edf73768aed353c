"""KMeans: segment labels in the clustering space, renumbered so segment 0 is the largest.

Also the sampled silhouette both engines score a segmentation with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from segmenter.errors import SchemaError
from segmenter.sampling import drawn_rows, permuted_rows

KMEANS_N_INIT = 4
KMEANS_FIT_ROWS = 20_000
"""Above this many rows KMeans learns its centres from a sample and assigns every row to the
nearest: 5 centres' worth of dimensions settle long before 20k points, the sweep over k at
1M rows costs a fiftieth, and a change of k at 100k rows loses 0.2 s of k-means++ seeding."""


@dataclass(frozen=True)
class Assignment:
    """Segment labels for the usable rows, largest segment first."""

    labels: np.ndarray  # (n_usable,) int, 0..k-1
    centers: np.ndarray  # (k, cluster_dims) in cluster space
    silhouette: float
    sizes: tuple[int, ...] = field(default=())


def silhouette_rows(n_rows: int, sample: int, random_state: int) -> np.ndarray:
    """The rows a sampled silhouette reads: scikit-learn's own draw in ``silhouette_score``."""
    return permuted_rows(n_rows, sample, random_state)


def sampled_silhouette(space: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette of rows already drawn with ``silhouette_rows`` (NaN for one segment)."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(silhouette_score(space, labels))


def _silhouette(space: np.ndarray, labels: np.ndarray, sample: int, random_state: int) -> float:
    rows = silhouette_rows(len(labels), sample, random_state)
    return sampled_silhouette(space[rows], labels[rows])


def kmeans_rows(n_rows: int, random_state: int) -> np.ndarray | None:
    """Positions (in draw order) of the rows KMeans learns its centres from; None for all."""
    return drawn_rows(n_rows, KMEANS_FIT_ROWS, random_state)


def fit_centres(points: np.ndarray, n_segments: int, random_state: int) -> KMeans:
    """KMeans with ``n_segments`` clusters fitted on ``points`` (see ``kmeans_rows``)."""
    model = KMeans(n_clusters=n_segments, n_init=KMEANS_N_INIT, random_state=random_state)
    return model.fit(points)


def largest_first(counts: np.ndarray) -> np.ndarray:
    """The old labels in new order: segment 0 the largest, ties broken by the old label."""
    return np.array(sorted(range(len(counts)), key=lambda label: (-counts[label], label)))


def largest_first_remap(counts: np.ndarray) -> np.ndarray:
    """Old label -> new label, so that segment 0 is the largest (``largest_first``)."""
    remap = np.empty(len(counts), dtype=np.int16)
    remap[largest_first(counts)] = np.arange(len(counts))
    return remap


def assign_segments(
    cluster_space: np.ndarray,
    n_segments: int,
    *,
    random_state: int = 0,
    silhouette_sample: int = 5000,
) -> Assignment:
    """KMeans with ``n_segments`` clusters; labels renumbered so segment 0 is the largest.

    Raises:
        SchemaError: when there are fewer rows than segments.
    """
    n_rows = cluster_space.shape[0]
    if n_segments < 1:
        raise SchemaError(f"n_segments={n_segments} should be at least 1.")
    if n_rows < n_segments:
        raise SchemaError(
            f"n_samples={n_rows} should be >= n_segments={n_segments}: choose fewer segments."
        )
    learn = kmeans_rows(n_rows, random_state)
    model = fit_centres(
        cluster_space if learn is None else cluster_space[learn], n_segments, random_state
    )
    raw = model.labels_ if learn is None else model.predict(cluster_space)
    counts = np.bincount(raw, minlength=n_segments)
    order = largest_first(counts)
    labels = largest_first_remap(counts).astype(int)[raw]
    return Assignment(
        labels=labels,
        centers=model.cluster_centers_[order].astype(np.float32),
        silhouette=_silhouette(cluster_space, labels, silhouette_sample, random_state),
        sizes=tuple(int(c) for c in counts[order]),
    )
