"""Segmentation: fuse text and structured features, reduce with UMAP, cluster with KMeans.

The stages are plain functions in their own modules (``fusion.fuse_features``,
``reduce.reduce_features``, ``k_choice.choose_n_segments``, ``kmeans.assign_segments``) so
the UI can cache each one; the ``Segmenter`` estimator here strings them together in
scikit-learn's manner. Their public names are re-exported here, where callers found them
before the stages had modules of their own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from segmenter.config import ClusterConfig, SegmentBy
from segmenter.fusion import (  # noqa: F401  (re-exported: the stages live together here)
    FusedFeatures,
    driver_rows,
    fit_rows,
    fuse_features,
    segment_drivers,
    usable_rows,
)
from segmenter.k_choice import MAX_SEGMENT_SHARE, KChoice, choose_n_segments  # noqa: F401
from segmenter.kmeans import (  # noqa: F401
    KMEANS_FIT_ROWS,
    KMEANS_N_INIT,
    Assignment,
    assign_segments,
    fit_centres,
    kmeans_rows,
    largest_first,
    largest_first_remap,
    sampled_silhouette,
    silhouette_rows,
)
from segmenter.reduce import (  # noqa: F401
    MIN_ROWS_FOR_UMAP,
    NEIGHBOURS_MAX,
    NEIGHBOURS_MIN,
    NEIGHBOURS_PER_ROWS,
    UMAP_EPOCHS,
    UMAP_FIT_ROWS,
    Reduction,
    SampledReduction,
    auto_neighbours,
    cuda_in_use,
    exact_neighbours,
    fit_reduction,
    fit_sampled_reduction,
    import_umap,
    nearest_sampled,
    reduce_features,
    umap_sample_rows,
    warm_up_reduction,
)

UNSEGMENTED = -1
"""Label of a row with no usable value at all (no text, every structured cell empty)."""


class Segmenter(BaseEstimator):
    """Fuse features -> UMAP -> KMeans, in scikit-learn's manner.

    Parameters are stored as given; ``fit`` learns ``labels_`` (one per input row,
    ``UNSEGMENTED`` where a row has no usable value), ``coords_`` (map coordinates,
    NaN for unsegmented rows), ``n_segments_``, ``k_choice_``, ``timings_``, ``fusion_``
    (the fitted ``FusionModel``: its ``factors`` say which discrete columns were bounded) and
    ``drivers_`` (per segment, the inputs that most set it apart, see ``segment_drivers``).

    Example:
        >>> seg = Segmenter(n_segments="auto", random_state=0).fit(X, has_text=mask)
        >>> seg.labels_[:5]
    """

    def __init__(
        self,
        n_segments: int | Literal["auto"] = "auto",
        *,
        k_min: int = 3,
        k_max: int = 10,
        text_weight: float = 0.6,
        cluster_dims: int = 5,
        map_dims: int = 2,
        n_neighbors: int | Literal["auto"] = "auto",
        min_segment_size: int = 10,
        silhouette_sample: int = 5000,
        random_state: int = 0,
        segment_by: SegmentBy = "both",
        exclude_columns: tuple[str, ...] = (),
        segment_dates: bool = False,
    ) -> None:
        self.n_segments = n_segments
        self.k_min = k_min
        self.k_max = k_max
        self.text_weight = text_weight
        self.cluster_dims = cluster_dims
        self.map_dims = map_dims
        self.n_neighbors = n_neighbors
        self.min_segment_size = min_segment_size
        self.silhouette_sample = silhouette_sample
        self.random_state = random_state
        self.segment_by = segment_by
        self.exclude_columns = exclude_columns
        self.segment_dates = segment_dates

    def fit(
        self,
        text_vectors: np.ndarray | None,
        has_text: np.ndarray | None = None,
        *,
        numeric: pd.DataFrame | None = None,
        categorical: pd.DataFrame | None = None,
    ) -> Segmenter:
        """Learn segments from text vectors and/or structured columns; returns ``self``."""
        if text_vectors is not None and has_text is None:
            has_text = np.linalg.norm(text_vectors, axis=1) > 0
        timings: dict[str, float] = {}
        start = time.perf_counter()
        fused = fuse_features(
            text_vectors,
            has_text,
            numeric,
            categorical,
            text_weight=self.text_weight,
            segment_by=self.segment_by,
            exclude=self.exclude_columns,
            dates=self.segment_dates,
        )
        timings["fuse"] = time.perf_counter() - start
        start = time.perf_counter()
        # Kept as a model that can place new rows (``assign``), as well as this table's.
        self.reduction_model_ = fit_reduction(
            fused.matrix,
            cluster_dims=self.cluster_dims,
            map_dims=self.map_dims,
            n_neighbors=self.n_neighbors,
            random_state=self.random_state,
        )
        self.reduction_ = self.reduction_model_.place(fused.matrix, np.arange(len(fused.matrix)))
        timings["umap"] = time.perf_counter() - start
        self.usable_ = fused.usable
        self.text_weight_ = fused.text_weight
        self.fusion_ = fused.model
        # Drivers are measured on a sample of the fused rows, kept so that a change of k
        # can measure them again without fusing anew.
        self.driver_positions_ = driver_rows(len(fused.matrix), self.random_state)
        self.driver_features_ = fused.matrix[self.driver_positions_]
        self.timings_ = timings
        space = self.reduction_.cluster_space
        self.k_choice_ = self.choose_k(lambda: space[fit_rows(len(space))], timings)
        return self.recluster(self.k_choice_.k)

    def choose_k(self, learn_space: Callable[[], np.ndarray], timings: dict[str, float]) -> KChoice:
        """The number of segments, for both engines: the user's, or ``choose_n_segments``
        on ``learn_space()``, the clustering space of the rows the fusion learnt from
        (``fusion.fit_rows``: all, up to 50,000), where the sweep and its sizes settle; the
        sweep's seconds go into ``timings["choose_k"]``."""
        if self.n_segments != "auto":
            return KChoice.fixed(int(self.n_segments))
        start = time.perf_counter()
        choice = choose_n_segments(
            learn_space(),
            k_min=self.k_min,
            k_max=self.k_max,
            min_segment_size=self.min_segment_size,
            random_state=self.random_state,
            silhouette_sample=self.silhouette_sample,
        )
        timings["choose_k"] = time.perf_counter() - start
        return choice

    def recluster(self, n_segments: int) -> Segmenter:
        """Re-run only KMeans with another number of segments (no re-embedding, no UMAP)."""
        start = time.perf_counter()
        assignment = assign_segments(
            self.reduction_.cluster_space,
            n_segments,
            random_state=self.random_state,
            silhouette_sample=self.silhouette_sample,
        )
        self.timings_["kmeans"] = time.perf_counter() - start
        self.assignment_ = assignment
        self.n_segments_ = n_segments
        self.labels_ = expand_to_rows(assignment.labels, self.usable_, fill=UNSEGMENTED)
        self.coords_ = expand_to_rows(self.reduction_.map_coords, self.usable_, fill=np.nan)
        fusion = getattr(self, "fusion_", None)  # None when rebuilt from a run folder
        self.drivers_ = {}
        if fusion is not None:
            self.drivers_ = segment_drivers(
                self.driver_features_, assignment.labels[self.driver_positions_], fusion.blocks
            )
        if min(assignment.sizes) < self.min_segment_size:
            warnings.warn(
                f"A segment has only {min(assignment.sizes)} customers, fewer than "
                f"min_segment_size={self.min_segment_size}: consider fewer segments.",
                UserWarning,
                stacklevel=2,
            )
        return self

    @property
    def silhouette_(self) -> float:
        """Silhouette of the current segmentation in cluster space (sampled)."""
        return self.assignment_.silhouette


def make_segmenter(config: ClusterConfig) -> Segmenter:
    """A Segmenter estimator with the settings of ``config`` (both engines record its
    ``get_params()``)."""
    return Segmenter(
        n_segments=config.n_segments,
        k_min=config.k_min,
        k_max=config.k_max,
        text_weight=config.text_weight,
        cluster_dims=config.cluster_dims,
        map_dims=config.map_dims,
        n_neighbors=config.n_neighbors,
        min_segment_size=config.min_segment_size,
        silhouette_sample=config.silhouette_sample,
        random_state=config.random_state,
        segment_by=config.segment_by,
        exclude_columns=config.exclude_columns,
        segment_dates=config.segment_dates,
    )


def expand_to_rows(values: np.ndarray, usable: np.ndarray, *, fill: Any) -> np.ndarray:
    """Place per-usable-row values back at their row positions, ``fill`` elsewhere."""
    shape = (len(usable),) + values.shape[1:]
    dtype = np.result_type(values.dtype, np.asarray(fill).dtype)
    out = np.full(shape, fill, dtype=dtype)
    out[usable] = values
    return out
