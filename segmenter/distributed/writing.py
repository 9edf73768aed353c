"""The run folder: ``segments.csv`` (or Parquet parts), ``space.npy`` and ``run.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.assign import fit_columns
from segmenter.cluster import make_segmenter
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.distributed.columns import (
    BATCH_ROWS,
    DISTANCE,
    FITS_POORLY,
    FLAGS,
    LABEL,
    ROW,
    SCORE,
    SENTIMENT,
    SPACE,
    Layout,
    X,
    Y,
)
from segmenter.distributed.fitting import SampleFit
from segmenter.distributed.reading import PartResult
from segmenter.export import SegmentationResult, results_frame, to_csv_bytes
from segmenter.ingest import Schema
from segmenter.profile import SegmentProfile
from segmenter.run_folder import SEGMENTS_FILE
from segmenter.run_record import RunRecord, result_record

CSV_MAX_ROWS = 1_000_000
"""Up to this many rows the export is one ``segments.csv``; above, Parquet parts in
``segments/`` (a CRM import or Spark reads either)."""


@dataclass(frozen=True)
class RayRun:
    """A finished run on Ray: where its files are and what it found."""

    out_dir: Path
    paths: dict[str, Path]
    profiles: tuple[SegmentProfile, ...]
    parts: tuple[PartResult, ...]
    rows: int
    timings: dict[str, float] = field(default_factory=dict)
    unsegmented: int = 0

    @property
    def failed_parts(self) -> tuple[PartResult, ...]:
        return tuple(p for p in self.parts if p.error is not None)


def export_batch(
    batch: dict[str, np.ndarray], layout: Layout, profiles: tuple[SegmentProfile, ...]
) -> pd.DataFrame:
    coords = np.column_stack([batch[X], batch[Y]]).astype(float)
    labels = np.asarray(batch[LABEL]).astype(int)
    extra = {}
    if SENTIMENT in batch:
        extra = {
            "sentiment": np.asarray(batch[SENTIMENT], dtype=object),
            "sentiment_score": np.asarray(batch[SCORE], dtype=float),
            "urgent_flags": np.asarray(batch[FLAGS], dtype=object),
        }
    if FITS_POORLY in batch:  # an assigned table: the fit check's columns
        extra.update(fit_columns(np.asarray(batch[DISTANCE]), np.asarray(batch[FITS_POORLY])))
    result = SegmentationResult(labels=labels, coords=coords, profiles=profiles, row_columns=extra)
    return results_frame(layout.original_frame(batch), result)


def write_space(rows: Any, target: Path, n_rows: int) -> Path:
    """Each row's clustering-space position into ``space.npy`` (as the local engine writes
    it), streamed batch by batch into the file."""
    out: Any = None  # a np.memmap once the width is known
    for batch in rows.select_columns([ROW, SPACE]).iter_batches(
        batch_format="numpy", batch_size=BATCH_ROWS
    ):
        space = np.asarray(batch[SPACE], dtype=np.float32)
        if out is None:
            out = np.lib.format.open_memmap(
                target, mode="w+", dtype=np.float32, shape=(n_rows, space.shape[1])
            )
        out[batch[ROW]] = space
    if out is not None:
        out.flush()
    return target


def write_segments(
    rows: Any,
    layout: Layout,
    profiles: tuple[SegmentProfile, ...],
    out_dir: Path,
    n_rows: int,
) -> Path:
    """The export, row for row in input order: one CSV, or Parquet parts above
    ``CSV_MAX_ROWS`` rows; streamed from the cluster batch by batch, never gathered."""
    if n_rows > CSV_MAX_ROWS:
        return _write_parquet_parts(rows, layout, profiles, out_dir / "segments")
    target = out_dir / SEGMENTS_FILE
    with target.open("wb") as handle:
        first = True
        for batch in rows.iter_batches(batch_format="numpy", batch_size=BATCH_ROWS):
            handle.write(to_csv_bytes(export_batch(batch, layout, profiles), header=first))
            first = False
    return target


PARQUET_PART_ROWS = 1_000_000
"""Rows per Parquet part of a large export."""


def _write_parquet_parts(
    rows: Any, layout: Layout, profiles: tuple[SegmentProfile, ...], target: Path
) -> Path:
    """``part-00000.parquet``, ``part-00001.parquet`` ... of ``PARQUET_PART_ROWS`` rows each, in
    input order: streamed batch by batch (never the whole table at once), so that a reader
    that takes the files in name order reads the rows in order."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    target.mkdir(parents=True, exist_ok=True)
    writer: Any = None
    schema: Any = None
    written = part = 0
    for batch in rows.iter_batches(batch_format="numpy", batch_size=BATCH_ROWS):
        table = pa.Table.from_pandas(export_batch(batch, layout, profiles), preserve_index=False)
        schema = schema or table.schema
        while table.num_rows:
            if writer is None:
                writer = pq.ParquetWriter(target / f"part-{part:05d}.parquet", schema)
            room = PARQUET_PART_ROWS - written
            writer.write_table(table.slice(0, room).cast(schema))
            written += min(room, table.num_rows)
            table = table.slice(room)
            if written == PARQUET_PART_ROWS:
                writer.close()
                writer, written, part = None, 0, part + 1
    if writer is not None:
        writer.close()
    return target


def run_record(
    run: RayRun,
    schema: Schema,
    embedder: str | None,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    fit: SampleFit,
    silhouette: float,
    remap: np.ndarray,
    ray: Any,
    address: str | None,
    *,
    source: Path,
    feedback: dict[str, Any] | None,
    labels: dict[str, str],
) -> RunRecord:
    """``run.json``: the local engine's record, with the engine, the cluster and each part
    (``remap``: KMeans label -> segment id; ``labels``: the columns' labels)."""
    from segmenter.embedding import get_embedder  # noqa: PLC0415

    resources = ray.cluster_resources()
    return RunRecord(
        engine={
            "name": "ray",
            "address": address or "local",
            "ray_version": ray.__version__,
            "cluster": {
                "cpus": resources.get("CPU", 0),
                "gpus": resources.get("GPU", 0),
                "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
            },
            "parts": [
                {"name": p.name, "rows": p.rows, "notes": list(p.notes), "error": p.error}
                for p in run.parts
            ],
        },
        input={
            "filename": source.name,
            "rows": run.rows,
            "columns": len(schema.columns),
            "notes": [f"{p.name}: {n}" for p in run.parts for n in p.notes],
        },
        schema=schema.to_dict(),
        embedding={
            "model_id": get_embedder(embedder).model_id if embedder else None,
            "requested": embed_config.model,
        },
        segmenter=make_segmenter(cluster_config).get_params(),
        result=result_record(
            n_segments=fit.choice.k,
            silhouette=silhouette,
            choice=fit.choice,
            reduction=fit.model.reduction.fitted.method,
            text_weight_applied=fit.model.fusion.text_weight,
            unsegmented_rows=run.unsegmented,
            influence=fit.influence(remap),
        ),
        seconds=RunRecord.seconds_of(run.timings),
        feedback=feedback,
        labels=labels,
    )
