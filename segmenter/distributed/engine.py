"""The segmentation pipeline on a Ray cluster, for tables that outgrow one machine.

The stages are the local engine's; what changes is where rows live. Parts of the input are
read by Ray tasks with the local ingest rules, texts are embedded by a pool of actors that
each load the model once (one per GPU in half precision when the cluster has GPUs), and every
model the local engine fits is fitted on the driver from uniform samples of the rows
(``fusion.FIT_ROWS``, ``cluster.UMAP_FIT_ROWS``, ``cluster.KMEANS_FIT_ROWS``) and applied to all
rows in parallel batches. Profiles are merged from per-batch summaries; only one small
integer per row (the segment) comes back to the driver.

With the same data and seed the result is the local engine's: both take every decision from
the same functions (``embed_stage``, ``feedback_stage``, ``stage_columns``, ``run_record``)
and learn every model from the same rows (``sampling``) (adjusted Rand index 1.0 in the
tests, at 10k rows and on a campaign-response table without text; the local engine, too,
learns from samples above ``fusion.FIT_ROWS`` usable rows). What can still differ is
rounding in batch-wise arithmetic, which moves rows that lie on a border between segments.

Ray is an optional dependency (``requirements-ray.txt``); nothing else imports this package."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from segmenter.config import MIN_ROWS, ClusterConfig, EmbedConfig
from segmenter.distributed.assigning import saved_model
from segmenter.distributed.columns import BATCH_ROWS, FEATURES, Layout
from segmenter.distributed.embedding import add_table_topics, choose_model, embed_rows
from segmenter.distributed.feedback import feedback_record, plan_feedback, read_feedback
from segmenter.distributed.fitting import apply_batch, fit_on_samples, relabel
from segmenter.distributed.profiles import profile_rows, row_labels
from segmenter.distributed.reading import (
    date_readings,
    list_parts,
    prepare_part,
    read_parts,
    schema_sample,
)
from segmenter.distributed.writing import RayRun, run_record, write_segments, write_space
from segmenter.embed_stage import Progress, fast_mode, no_progress
from segmenter.errors import SchemaError, SegmenterError
from segmenter.export import profiles_json
from segmenter.ingest import detect_schema
from segmenter.kmeans import largest_first_remap, sampled_silhouette
from segmenter.labels import column_labels
from segmenter.offers import offer_columns
from segmenter.run_folder import PROFILES_FILE, SPACE_FILE
from segmenter.saved_model import MODEL_DIR, write_model
from segmenter.stage_columns import feedback_only_schema, numeric_features


def import_ray() -> Any:
    try:
        import ray  # noqa: PLC0415
    except ImportError:
        raise SegmenterError(
            "The Ray engine needs Ray: pip install -r requirements-ray.txt -c constraints.txt "
            "(or run without --engine ray)."
        ) from None
    return ray


def connect(address: str | None) -> Any:
    """Join the Ray cluster at ``address`` ("auto": the one this machine belongs to; None: a
    cluster started in this process, or the one already joined)."""
    ray = import_ray()
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if address:
            # Workers on other machines import the package from here, not from their disk.
            import segmenter  # noqa: PLC0415

            kwargs["runtime_env"] = {
                "py_modules": [str(Path(segmenter.__file__).parent)],
                "env_vars": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
            }
        ray.init(address=address, **kwargs)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return ray


def segment_on_ray(
    source: Path,
    out_dir: Path,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    *,
    address: str | None = None,
    progress: Progress = no_progress,
) -> RayRun:
    """Read, embed, segment, profile and export ``source`` (a file or a folder of parts) on
    the Ray cluster at ``address``; writes ``segments.csv`` (or ``segments/`` Parquet parts),
    ``profiles.json`` and ``run.json`` into ``out_dir``.

    Raises:
        SegmenterError: on input that cannot be segmented, with a message for the user.
    """
    timings: dict[str, float] = {}
    ray = connect(address)
    parts = list_parts(source)

    start = time.perf_counter()
    progress(f"Reading {len(parts)} part(s)", 0.0)
    frames, results, columns = read_parts(ray, parts)
    counts = [r.rows for r in results if r.error is None]
    n_rows = sum(counts)
    if n_rows < MIN_ROWS:
        raise SchemaError(
            f"The table has only {n_rows} readable rows: segmentation needs at least "
            f"{MIN_ROWS} customers; upload a larger table."
        )
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    sample_frame = schema_sample(ray, frames, counts, offsets)
    schema = detect_schema(sample_frame)
    readings = date_readings(ray, frames, schema)
    layout = Layout(
        original=columns,
        numeric=tuple(numeric_features(schema)),
        categorical=tuple(schema.categorical_columns),
        id_name=schema.id_column or "row_number",
        labels=tuple(schema.label_columns),
    )
    prepare = ray.remote(max_retries=3)(prepare_part)
    feedback_schema = feedback_only_schema(schema)
    prepared = [
        prepare.remote(frame, schema, readings, int(offset), feedback_schema)
        for frame, offset in zip(frames, offsets, strict=True)
    ]
    rows = ray.data.from_pandas_refs(prepared)
    timings["read"] = time.perf_counter() - start

    start = time.perf_counter()
    text = bool(schema.text_columns)
    name = choose_model(ray, rows, embed_config, n_rows) if text else None
    if name is not None:
        progress(f"Embedding {n_rows:,} rows with {name} on the cluster", 0.1)
        rows = embed_rows(ray, rows, name, embed_config)
    else:
        rows = rows.materialize()
    timings["embed"] = time.perf_counter() - start
    text_model = None
    if fast_mode(name) is not None:
        start = time.perf_counter()
        progress("Learning topics from the table's own words", 0.4)
        rows, text_model = add_table_topics(rows, embed_config, fast_mode(name))
        layout = replace(layout, features=FEATURES)
        timings["lexical"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Reading the sentiment of the feedback", 0.5)
    rows, feedback = plan_feedback(ray, rows, layout, schema, sample_frame, name, embed_config)
    if feedback is not None:
        rows = rows.map_batches(
            read_feedback,
            fn_kwargs={"plan": feedback},
            batch_format="numpy",
            batch_size=BATCH_ROWS,
        ).materialize()
    timings["sentiment"] = time.perf_counter() - start

    progress("Fitting on samples of the rows", 0.6)
    fit = fit_on_samples(rows, layout, text, cluster_config)
    timings.update(fit.timings)

    start = time.perf_counter()
    progress("Placing and segmenting every row", 0.75)
    applied = rows.map_batches(
        apply_batch, fn_kwargs={"model": fit.model}, batch_format="numpy", batch_size=BATCH_ROWS
    ).materialize()
    raw, has_doc = row_labels(applied)
    k = fit.choice.k
    remap = largest_first_remap(np.bincount(raw[raw >= 0], minlength=k))
    segmented = raw >= 0
    labels_all = raw.copy()
    labels_all[segmented] = remap[raw[segmented]]
    final = applied.map_batches(
        relabel, fn_kwargs={"remap": remap}, batch_format="numpy", batch_size=BATCH_ROWS
    ).materialize()
    silhouette_labels = remap[fit.model.centres.predict(fit.silhouette_space)]
    silhouette = sampled_silhouette(fit.silhouette_space, silhouette_labels)
    timings["apply"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Profiling segments", 0.9)
    offers = tuple(offer_columns([*schema.categorical_columns, *schema.text_columns]))
    readable = column_labels(c.name for c in schema.columns)
    built, counted = profile_rows(
        final, layout, labels_all, has_doc, k, offers, readable, schema.label_columns
    )
    profiles = tuple(built)
    timings["profile"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Writing the results", 0.95)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"segments": write_segments(final, layout, profiles, out_dir, n_rows)}
    paths["profiles"] = out_dir / PROFILES_FILE
    paths["profiles"].write_text(profiles_json(profiles), encoding="utf-8")
    paths["space"] = write_space(final, out_dir / SPACE_FILE, n_rows)
    saved = saved_model(
        final, fit, remap, labels_all, schema, readings, name, text_model, profiles, source
    )
    paths["model"] = write_model(saved, out_dir / MODEL_DIR)
    timings["export"] = time.perf_counter() - start
    unsegmented = int((labels_all < 0).sum())
    run = RayRun(out_dir, paths, profiles, tuple(results), n_rows, timings, unsegmented)
    record = run_record(
        run,
        schema,
        name,
        embed_config,
        cluster_config,
        fit,
        silhouette,
        remap,
        ray,
        address,
        source=source,
        feedback=feedback_record(feedback, counted),
        labels=readable,
    )
    paths["run"] = record.write(out_dir)
    return replace(run, paths=paths)
