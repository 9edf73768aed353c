"""Fusion, UMAP and KMeans fitted on the driver from samples, applied to every batch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmenter.cluster import (
    UNSEGMENTED,
    KChoice,
    fit_centres,
    fit_sampled_reduction,
    kmeans_rows,
    make_segmenter,
    silhouette_rows,
    umap_sample_rows,
)
from segmenter.config import ClusterConfig
from segmenter.distributed.columns import (
    BATCH_ROWS,
    DISTANCE,
    DROPPED_AFTER_APPLY,
    HAS_TEXT,
    LABEL,
    ROW,
    SPACE,
    Layout,
    X,
    Y,
    gather,
    inputs_of,
    structured_columns,
)
from segmenter.errors import SchemaError
from segmenter.fusion import (
    FusionModel,
    driver_rows,
    fit_fusion,
    fit_rows,
    influence_record,
    segment_drivers,
    usable_rows,
)


@dataclass(frozen=True)
class FittedModel:
    """Everything fitted on the driver, applied to every batch by ``apply_batch``."""

    fusion: FusionModel
    reduction: Any  # cluster.SampledReduction
    usable_rows: np.ndarray  # row numbers of the usable rows, sorted
    centres: Any  # fitted KMeans
    remap: np.ndarray  # KMeans label -> segment id (largest first)
    text: bool
    layout: Layout


def apply_batch(batch: dict[str, np.ndarray], model: FittedModel) -> dict[str, np.ndarray]:
    """Segment, map position and distance to the segment's centre of each row of a batch."""
    n = len(batch[ROW])
    fused, usable = model.fusion.transform(*inputs_of(model.layout, batch, model.text))
    positions = np.searchsorted(model.usable_rows, batch[ROW][usable])
    placed = model.reduction.place(fused, positions)
    raw = model.centres.predict(placed.cluster_space) if len(fused) else np.zeros(0, int)
    labels = np.full(n, UNSEGMENTED, dtype=np.int16)
    labels[usable] = model.remap[raw]
    coords = np.full((n, placed.map_coords.shape[1]), np.nan, dtype=np.float32)
    coords[usable] = placed.map_coords
    distance = np.full(n, np.inf)
    if len(fused):
        centres = model.centres.cluster_centers_[raw]
        distance[usable] = np.linalg.norm(placed.cluster_space - centres, axis=1)
    space = np.full((n, placed.cluster_space.shape[1]), np.nan, dtype=np.float32)
    space[usable] = placed.cluster_space
    out = {k: v for k, v in batch.items() if k not in DROPPED_AFTER_APPLY}
    out[LABEL], out[X], out[Y], out[DISTANCE] = labels, coords[:, 0], coords[:, 1], distance
    out[SPACE] = space
    return out


def usable_row_numbers(rows: Any, layout: Layout, text: bool) -> np.ndarray:
    """Row numbers (sorted) of the rows that can be segmented: the draws are among these."""

    def usable(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        _, has_text, numeric, categorical = inputs_of(layout, batch, text)
        mask = usable_rows(has_text, numeric, categorical, len(batch[ROW]))
        return {ROW: batch[ROW][mask]}

    found = rows.select_columns([ROW, *([HAS_TEXT] if text else []), *structured_columns(layout)])
    pieces = found.map_batches(usable, batch_format="numpy", batch_size=BATCH_ROWS)
    numbers = [b[ROW] for b in pieces.iter_batches(batch_format="numpy", batch_size=None)]
    return np.sort(np.concatenate(numbers)) if numbers else np.zeros(0, np.int64)


@dataclass(frozen=True)
class SampleFit:
    """The driver's fit, with what the silhouette needs once the labels are ranked."""

    model: FittedModel
    choice: KChoice
    silhouette_space: np.ndarray
    timings: dict[str, float]
    driver_features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    """Fused features of a sample of the learnt rows, for each segment's drivers."""
    driver_space: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))

    def influence(self, remap: np.ndarray) -> dict[str, Any]:
        """``run.json``'s record of the inputs (``fusion.influence_record``), with the drivers
        of the segments as numbered by ``remap`` (KMeans label -> segment id)."""
        drivers = {}
        if len(self.driver_space):
            labels = remap[self.model.centres.predict(self.driver_space)]
            drivers = segment_drivers(self.driver_features, labels, self.model.fusion.blocks)
        return influence_record(self.model.fusion, drivers)


def fit_on_samples(embedded: Any, layout: Layout, text: bool, config: ClusterConfig) -> SampleFit:
    """Fusion, UMAP and KMeans fitted from uniform samples of the usable rows, drawn as the
    local engine draws them."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    usable_ids = usable_row_numbers(embedded, layout, text)
    n_usable = len(usable_ids)
    if n_usable == 0:
        raise SchemaError(
            "No row has text or a structured value to segment on: check the column roles."
        )
    seed = config.random_state
    learn = fit_rows(n_usable)
    umap_rows = umap_sample_rows(n_usable, seed)
    kmeans = kmeans_rows(n_usable, seed)
    silhouette = silhouette_rows(n_usable, config.silhouette_sample, seed)
    drawn = [learn, umap_rows, silhouette] + ([kmeans] if kmeans is not None else [])
    wanted = np.unique(np.concatenate(drawn)).astype(np.int64)
    columns = [ROW, *([layout.features, HAS_TEXT] if text else []), *structured_columns(layout)]
    sample = gather(embedded, usable_ids[wanted], columns)
    timings["gather"] = time.perf_counter() - start

    start = time.perf_counter()
    learn_rows = {c: v[np.searchsorted(wanted, learn)] for c, v in sample.items()}
    fusion = fit_fusion(
        *inputs_of(layout, learn_rows, text),
        text_weight=config.text_weight,
        segment_by=config.segment_by,
        exclude=config.exclude_columns,
        dates=config.segment_dates,
    )
    fused_sample, _ = fusion.transform(*inputs_of(layout, sample, text))
    timings["fuse"] = time.perf_counter() - start

    def fused_at(positions: np.ndarray) -> np.ndarray:
        return fused_sample[np.searchsorted(wanted, positions)]

    start = time.perf_counter()
    reduction = fit_sampled_reduction(
        fused_at(learn),
        fused_at(umap_rows),
        umap_rows,
        n_usable,
        cluster_dims=config.cluster_dims,
        map_dims=config.map_dims,
        n_neighbors=config.n_neighbors,
        random_state=seed,
    )
    timings["umap"] = time.perf_counter() - start

    def space_at(positions: np.ndarray) -> np.ndarray:
        return reduction.place(fused_at(positions), positions).cluster_space

    choice = make_segmenter(config).choose_k(lambda: space_at(learn), timings)
    if n_usable < choice.k:
        raise SchemaError(
            f"n_samples={n_usable} should be >= n_segments={choice.k}: choose fewer segments."
        )
    start = time.perf_counter()
    centres = fit_centres(
        space_at(np.arange(n_usable) if kmeans is None else kmeans), choice.k, seed
    )
    timings["kmeans"] = time.perf_counter() - start
    model = FittedModel(fusion, reduction, usable_ids, centres, np.arange(choice.k), text, layout)
    drivers_at = learn[driver_rows(len(learn), seed)]
    return SampleFit(
        model, choice, space_at(silhouette), timings, fused_at(drivers_at), space_at(drivers_at)
    )


def relabel(batch: dict[str, np.ndarray], remap: np.ndarray) -> dict[str, np.ndarray]:
    labels = batch[LABEL]
    segmented = labels >= 0
    labels = labels.copy()
    labels[segmented] = remap[labels[segmented]]
    batch[LABEL] = labels
    return batch
