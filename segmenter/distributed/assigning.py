"""Saved segmentations on Ray: the model a Ray run leaves in its folder, and ``assign`` of a
new table (a file or a folder of parts) on the cluster.

The decisions are the local engine's (``assign``): the same checks, text features and
placement (``assign.place_fused``) run on every batch, so both engines place a row alike.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.assign import (
    UNSEGMENTED,
    assign_record,
    assigned_run_record,
    check_embedder,
    check_table,
    copy_model,
    place_fused,
)
from segmenter.config import EmbedConfig
from segmenter.distributed.columns import (
    BATCH_ROWS,
    DISTANCE,
    DROPPED_AFTER_APPLY,
    FEATURES,
    FITS_POORLY,
    ID,
    KNOWN,
    LABEL,
    ROW,
    SPACE,
    Layout,
    X,
    Y,
    gather,
    inputs_of,
)
from segmenter.distributed.embedding import add_fast_features, embed_rows
from segmenter.distributed.fitting import SampleFit
from segmenter.distributed.profiles import profile_rows, row_labels
from segmenter.distributed.reading import (
    list_parts,
    prepare_part,
    read_parts,
    schema_sample,
)
from segmenter.distributed.writing import write_segments, write_space
from segmenter.embed_stage import FastTextModel, Progress, no_progress
from segmenter.embedding import get_embedder
from segmenter.errors import InputError
from segmenter.export import profiles_json
from segmenter.ingest import IngestReport, LoadedTable, Schema
from segmenter.ingest.prepare import DateReading
from segmenter.labels import column_labels
from segmenter.offers import offer_columns
from segmenter.profile import SegmentProfile
from segmenter.run_folder import PROFILES_FILE, SPACE_FILE
from segmenter.saved_model import (
    SegmentationModel,
    centre_limits,
    content_digests,
    neighbour_limit,
    no_known_rows,
    read_model,
)
from segmenter.stage_columns import numeric_features


def saved_model(
    rows: Any,
    fit: SampleFit,
    remap: np.ndarray,
    labels: np.ndarray,
    schema: Schema,
    readings: dict[str, DateReading],
    embedder: str | None,
    text_model: FastTextModel | None,
    profiles: tuple[SegmentProfile, ...],
    source: Path,
) -> SegmentationModel:
    """The model a Ray run saves in its folder (``rows``: the applied rows, ``remap``:
    KMeans label -> segment id, ``labels``: every row's segment)."""
    model = fit.model
    reduction = model.reduction
    sample_rows = model.usable_rows[reduction.sample]
    ids = gather(rows, sample_rows, [ROW, ID])[ID] if len(sample_rows) else np.array([])
    raw = np.asarray(model.centres.cluster_centers_, dtype=np.float32)
    centres = np.empty_like(raw)
    centres[remap] = raw
    pieces = list(
        rows.select_columns([LABEL, DISTANCE]).iter_batches(batch_format="numpy", batch_size=None)
    )
    found = np.concatenate([p[LABEL] for p in pieces]).astype(np.int64)
    distances = np.concatenate([p[DISTANCE] for p in pieces])
    segmented = found >= 0
    k = len(centres)
    return SegmentationModel(
        schema=schema,
        dates=readings,
        embedder=embedder,
        embedder_model_id=get_embedder(embedder).model_id if embedder else None,
        text_model=text_model,
        fusion=model.fusion,
        reduction=reduction,
        sample_ids=tuple(str(i) for i in ids),
        centres=centres,
        segment_ids=tuple(range(k)),
        names={p.segment_id: p.name for p in profiles},
        sizes=tuple(int(s) for s in np.bincount(labels[labels >= 0], minlength=k)),
        centre_limits=centre_limits(distances[segmented], found[segmented], k),
        neighbour_limit=neighbour_limit(reduction),
        # Not kept on Ray: every row's digest would have to come back to the driver.
        known=no_known_rows(centres.shape[1], reduction.fitted.map_coords.shape[1]),
        made_by={"engine": "ray", "source": source.name, "rows": int(len(labels))},
    )


def place_batch(
    batch: dict[str, np.ndarray], model: SegmentationModel, layout: Layout, text: bool
) -> dict[str, np.ndarray]:
    """Segment, map position, distance and fit check of each row of a batch."""
    n = len(batch[ROW])
    fused, usable = model.fusion.transform(*inputs_of(layout, batch, text))
    placed = place_fused(model, fused, np.asarray(batch[ID], dtype=object)[usable])
    labels = np.full(n, UNSEGMENTED, dtype=np.int16)
    labels[usable] = placed.segments
    coords = np.full((n, placed.map_coords.shape[1]), np.nan, dtype=np.float32)
    coords[usable] = placed.map_coords
    space = np.full((n, placed.cluster_space.shape[1]), np.nan, dtype=np.float32)
    space[usable] = placed.cluster_space
    distance = np.full(n, np.inf)
    distance[usable] = placed.distance
    poorly = np.zeros(n, dtype=bool)
    poorly[usable] = placed.fits_poorly
    known = np.zeros(n, dtype=bool)
    known[usable] = placed.known
    # Unchanged customers of a local run keep their segment and place (``assign_table``).
    originals = layout.original_frame(batch)
    present = [c for c in model.used_columns if c in originals.columns]
    ids = pd.Series(np.asarray(batch[ID], dtype=object))
    found = model.known.find(content_digests(originals, ids, present))
    kept = np.flatnonzero(found >= 0)
    if len(kept):
        labels[kept] = model.known.segments[found[kept]]
        coords[kept] = model.known.coords[found[kept]]
        space[kept] = model.known.space[found[kept]]
        poorly[kept], known[kept] = False, True
        segmented = kept[labels[kept] >= 0]
        rows = np.searchsorted(model.segment_ids, labels[segmented])
        distance[kept] = np.inf
        distance[segmented] = np.linalg.norm(space[segmented] - model.centres[rows], axis=1)
    out = {k: v for k, v in batch.items() if k not in DROPPED_AFTER_APPLY}
    out[LABEL], out[X], out[Y], out[DISTANCE] = labels, coords[:, 0], coords[:, 1], distance
    out[SPACE], out[FITS_POORLY], out[KNOWN] = space, poorly, known
    return out


def assign_on_ray(
    source: Path,
    run_dir: Path,
    out_dir: Path,
    embed_config: EmbedConfig,
    *,
    address: str | None = None,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """``assign`` on a Ray cluster: every row of ``source`` (a file or a folder of parts)
    placed with the model saved in ``run_dir``; writes the same run folder as the local
    engine into ``out_dir`` and returns ``assign_record``'s summary (with ``paths``).

    Raises:
        InputError: as ``assign.assign_table`` (checked on a sample of the rows).
    """
    from segmenter.distributed.engine import connect  # noqa: PLC0415 - engine imports us

    model = read_model(run_dir)
    check_embedder(model)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    ray = connect(address)
    parts = list_parts(source)
    progress(f"Reading {len(parts)} part(s)", 0.0)
    frames, results, columns = read_parts(ray, parts)
    counts = [r.rows for r in results if r.error is None]
    n_rows = sum(counts)
    if n_rows == 0:
        raise InputError(f"No row of {source} could be read: check the file(s).")
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    sample = schema_sample(ray, frames, counts, offsets)
    report = IngestReport(
        filename=source.name,
        file_format="parts",
        encoding=None,
        delimiter=None,
        skipped_lines=0,
        n_rows=len(sample),
        n_columns=len(columns),
        duplicate_rows=0,
        renamed_columns=(),
        notes=(),
    )
    notes = [
        f"In a sample of {len(sample):,} rows: {n}"
        for n in check_table(LoadedTable(sample, report), model)
    ]
    present = set(columns)
    schema = Schema(tuple(c for c in model.schema.columns if c.name in present))
    layout = Layout(
        original=columns,
        numeric=tuple(numeric_features(schema)),
        categorical=tuple(schema.categorical_columns),
        id_name=schema.id_column or "row_number",
        labels=tuple(schema.label_columns),
    )
    prepare = ray.remote(max_retries=3)(prepare_part)
    dates = dict(model.dates)
    prepared = [
        prepare.remote(frame, schema, dates, int(offset), None)
        for frame, offset in zip(frames, offsets, strict=True)
    ]
    rows = ray.data.from_pandas_refs(prepared)
    timings["read"] = time.perf_counter() - start

    start = time.perf_counter()
    text = bool(model.embedder and model.fusion.text_dims and schema.text_columns)
    if text:
        assert model.embedder is not None
        progress(f"Embedding {n_rows:,} rows with {model.embedder} on the cluster", 0.2)
        rows = embed_rows(ray, rows, model.embedder, embed_config)
        if model.text_model is not None:
            rows = add_fast_features(rows, model.text_model)
            layout = replace(layout, features=FEATURES)
    else:
        rows = rows.materialize()
    timings["embed"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Placing every row on the saved map", 0.7)
    applied = rows.map_batches(
        place_batch,
        fn_kwargs={"model": model, "layout": layout, "text": text},
        batch_format="numpy",
        batch_size=BATCH_ROWS,
    ).materialize()
    labels, has_doc = row_labels(applied)
    flags = list(
        applied.select_columns([ROW, FITS_POORLY, KNOWN]).iter_batches(
            batch_format="numpy", batch_size=None
        )
    )
    order = np.argsort(np.concatenate([f[ROW] for f in flags]), kind="stable")
    poorly = np.concatenate([f[FITS_POORLY] for f in flags])[order].astype(bool)
    known = np.concatenate([f[KNOWN] for f in flags])[order].astype(bool)
    timings["place"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Profiling the segments of the new table", 0.9)
    offers = tuple(offer_columns([*schema.categorical_columns, *schema.text_columns]))
    readable = column_labels(c.name for c in model.schema.columns)
    numbers = max(model.segment_ids) + 1  # kept numbers may leave gaps: empty, dropped
    built, _ = profile_rows(
        applied, layout, labels, has_doc, numbers, offers, readable, schema.label_columns
    )
    profiles = tuple(
        replace(p, name=model.names.get(p.segment_id, p.name)) for p in built if p.size
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"segments": write_segments(applied, layout, profiles, out_dir, n_rows)}
    paths["profiles"] = out_dir / PROFILES_FILE
    paths["profiles"].write_text(profiles_json(profiles), encoding="utf-8")
    paths["space"] = write_space(applied, out_dir / SPACE_FILE, n_rows)
    paths["model"] = copy_model(run_dir, out_dir)
    timings["export"] = time.perf_counter() - start
    for part in results:
        if part.error is not None:
            notes.append(f"{part.name} was skipped: {part.error}")
    summary = assign_record(model, run_dir, labels, poorly, known, notes)
    input_record = {
        "filename": source.name,
        "rows": n_rows,
        "columns": len(columns),
        "notes": [f"{p.name}: {n}" for p in results for n in p.notes],
    }
    engine = {"name": "ray", "address": address or "local", "ray_version": ray.__version__}
    record = assigned_run_record(model, run_dir, input_record, timings, summary, engine)
    paths["run"] = record.write(out_dir)
    summary["paths"] = [str(p) for p in paths.values()]
    return summary
