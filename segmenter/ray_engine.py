"""The segmentation pipeline on a Ray cluster, for tables that outgrow one machine.

The stages are the local engine's; what changes is where rows live. Parts of the input are
read by Ray tasks with the local ingest rules, texts are embedded by a pool of actors that
each load the model once (one per GPU in half precision when the cluster has GPUs), and every
model the local engine fits is fitted on the driver from uniform samples of the rows
(``fusion.FIT_ROWS``, ``cluster.UMAP_FIT_ROWS``, ``cluster.KMEANS_FIT_ROWS``) and applied to all
rows in parallel batches. Profiles are merged from per-batch summaries; only one small
integer per row (the segment) comes back to the driver.

With the same data and seed the result is the local engine's: the samples are drawn from the
same row numbers with the same generators, so for tables of up to ``fusion.FIT_ROWS`` usable
rows every fitted model sees the same rows (adjusted Rand index 1.0). Above that, the choice
of k reads the fitted sample where the local engine reads every row.

Ray is an optional dependency (``requirements-ray.txt``); nothing else imports this module.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import (
    UNSEGMENTED,
    KChoice,
    choose_n_segments,
    fit_centres,
    fit_sampled_reduction,
    kmeans_rows,
    largest_first,
    sampled_silhouette,
    silhouette_rows,
    umap_sample_rows,
)
from segmenter.config import MIN_ROWS, ClusterConfig, EmbedConfig
from segmenter.embedding.registry import FAST_EMBEDDER
from segmenter.embedding.script import dominant_language_hint
from segmenter.errors import InputError, SchemaError, SegmenterError
from segmenter.export import (
    SegmentationResult,
    library_versions,
    profiles_json,
    results_frame,
    to_csv_bytes,
)
from segmenter.fusion import FusionModel, fit_fusion, fit_rows, usable_rows
from segmenter.ingest import (
    DateReading,
    Schema,
    build_documents,
    date_evidence,
    detect_schema,
    load_table,
    parse_dates,
    prepare_columns,
)
from segmenter.offers import ItemCounts, count_items, offer_columns, offers_from_counts
from segmenter.pipeline import SPACE_FILE, make_segmenter
from segmenter.profile import (
    KEYWORD_SAMPLE_ROWS,
    N_EXAMPLES,
    SegmentProfile,
    _examples,
    _spread,
    class_tfidf_keywords,
    count_terms,
    profiles_from_summary,
)
from segmenter.sentiment import (
    NO_TEXT,
    SENTIMENTS,
    FeedbackCounts,
    SentimentReader,
    SentimentSource,
    carried_note,
    carrier,
    classify_with_prototypes,
    count_feedback,
    feedback_from_counts,
    find_sentiment_source,
    prototype_phrases,
    prototype_reader,
    rating_reader,
    source_labels,
    urgent_flags,
)
from segmenter.summary import ProfileSummary, summarise

log = logging.getLogger(__name__)

PART_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")
SCHEMA_ROWS = 50_000
"""Column roles are detected on a uniform sample of at most this many rows (all of a smaller
table, so the roles are the local engine's)."""
CSV_MAX_ROWS = 1_000_000
"""Up to this many rows the export is one ``segments.csv``; above, Parquet parts in
``segments/`` (a CRM import or Spark reads either)."""
EXAMPLE_CANDIDATES = 20 * N_EXAMPLES
"""Texts nearest each centre kept per batch: enough for five distinct quotes after dropping
repeats."""
BATCH_ROWS = 4096
"""Rows per batch for the apply and summary passes."""

ROW = "__row"
DOC = "__doc"
ID = "__id"
VECTOR = "__vector"
HAS_TEXT = "__has_text"
LABEL = "__label"
X, Y = "__x", "__y"
DISTANCE = "__distance"
NUMERIC = "__num_"
CATEGORY = "__cat_"
ORIGINAL = "__orig_"
HAS_DOC = "__has_doc"
FEEDBACK_DOC = "__feedback_doc"
FEATURES = "__features"
SENTIMENT_VECTOR = "__sentiment_vector"
SENTIMENT_HAS_TEXT = "__sentiment_has_text"
SENTIMENT = "__sentiment"
SCORE = "__sentiment_score"
FLAGS = "__urgent_flags"
DROPPED_AFTER_APPLY = (VECTOR, FEATURES, SENTIMENT_VECTOR)
SPACE = "__space"


@dataclass(frozen=True)
class PartResult:
    """What reading one input part gave: its rows, or why it could not be read."""

    name: str
    rows: int = 0
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class RayRun:
    """A finished run on Ray: where its files are and what it found."""

    out_dir: Path
    paths: dict[str, Path]
    profiles: tuple[SegmentProfile, ...]
    parts: tuple[PartResult, ...]
    rows: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed_parts(self) -> tuple[PartResult, ...]:
        return tuple(p for p in self.parts if p.error is not None)


def list_parts(source: Path) -> list[Path]:
    """The files of an input: the file itself, or a folder's table files (sorted, so the row
    order is the parts' order).

    Raises:
        InputError: when there is no such file or the folder holds no table file.
    """
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise InputError(
            f"{source} does not exist: give a CSV or Parquet file or a folder of them."
        )
    parts = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in PART_SUFFIXES
    )
    if not parts:
        raise InputError(
            f"{source} holds no CSV, TSV, Excel or Parquet file: put the table's parts there."
        )
    return parts


def _ray() -> Any:
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
    ray = _ray()
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


# --- reading ---------------------------------------------------------------------------------


def _read_part(path: str, columns: tuple[str, ...] | None) -> tuple[pd.DataFrame, PartResult]:
    name = Path(path).name
    try:
        loaded = load_table(Path(path), name)
    except InputError as err:
        return pd.DataFrame(), PartResult(name, error=str(err))
    frame = loaded.frame
    if columns is not None and tuple(frame.columns) != columns:
        return pd.DataFrame(), PartResult(
            name,
            error=(
                f"{name} has the columns {', '.join(map(str, frame.columns))} where the first "
                f"part has {', '.join(columns)}: export every part with the same header."
            ),
        )
    return frame, PartResult(name, rows=len(frame), notes=loaded.report.notes)


def read_parts(ray: Any, parts: list[Path]) -> tuple[list[Any], list[PartResult], tuple[str, ...]]:
    """Read every part in parallel (Ray retries a part whose worker dies); a part that cannot
    be read is reported with its name and the reason, and the others go on."""
    read = ray.remote(num_returns=2, max_retries=3)(_read_part)
    first_frame, first = ray.get(read.remote(str(parts[0]), None))
    frames = [ray.put(first_frame)]
    results = [first]
    columns = tuple(str(c) for c in first_frame.columns)
    refs = [read.remote(str(p), columns) for p in parts[1:]]
    for frame_ref, result_ref in refs:
        frames.append(frame_ref)
        results.append(ray.get(result_ref))
    if first.error is not None:
        raise InputError(f"The first part could not be read, so no header is known: {first.error}")
    kept = [frame for frame, result in zip(frames, results, strict=True) if result.error is None]
    return kept, results, columns


def _sample_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    return frame.iloc[positions]


def _date_evidence(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[bool, bool]]:
    return {c: date_evidence(frame[c].astype(str)) for c in columns}


def _earliest(frame: pd.DataFrame, readings: dict[str, bool]) -> dict[str, Any]:
    return {c: parse_dates(frame[c], dayfirst).min() for c, dayfirst in readings.items()}


def date_readings(ray: Any, frames: list[Any], schema: Schema) -> dict[str, DateReading]:
    """How each date column is read across all parts: day first only when no part says
    otherwise, days counted from the earliest date of any part."""
    columns = schema.date_columns
    if not columns:
        return {}
    evidence = ray.get([ray.remote(_date_evidence).remote(f, columns) for f in frames])
    dayfirst = {
        c: any(e[c][0] for e in evidence) and not any(e[c][1] for e in evidence) for c in columns
    }
    earliest = ray.get([ray.remote(_earliest).remote(f, dayfirst) for f in frames])
    readings = {}
    for column in columns:
        dates = [e[column] for e in earliest if not pd.isna(e[column])]
        readings[column] = DateReading(dayfirst[column], min(dates) if dates else None)
    return readings


@dataclass(frozen=True)
class Layout:
    """Where each input column lives in the distributed rows."""

    original: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    id_name: str
    features: str = VECTOR
    """The column the segmentation reads: the text vectors, or in the fast mode the static
    vectors joined with the table's topics."""

    def numeric_frame(self, batch: Mapping[str, np.ndarray]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: batch[f"{NUMERIC}{i}"] for i, name in enumerate(self.numeric)}, dtype="float64"
        ).reset_index(drop=True)

    def categorical_frame(self, batch: Mapping[str, np.ndarray]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: batch[f"{CATEGORY}{i}"] for i, name in enumerate(self.categorical)},
            dtype=object,
        ).reset_index(drop=True)

    def original_frame(self, batch: Mapping[str, np.ndarray]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: batch[f"{ORIGINAL}{i}"] for i, name in enumerate(self.original)}, dtype=object
        )


def _prepare_part(
    frame: pd.DataFrame,
    schema: Schema,
    readings: dict[str, DateReading],
    first_row: int,
    label_columns: tuple[str, ...],
    feedback_schema: Schema | None,
) -> pd.DataFrame:
    prepared = prepare_columns(frame, schema, dates=readings, first_row=first_row)
    docs = np.array(build_documents(frame, schema), dtype=object)
    feedback_docs = docs
    if feedback_schema is not None:
        feedback_docs = np.array(build_documents(frame, feedback_schema), dtype=object)
    categorical = prepared.categorical.copy()
    for column in label_columns:  # profiled as categories, as the local engine does
        categorical[column] = frame[column].astype(str).replace("", "(missing)")
    out = {
        ROW: np.arange(first_row, first_row + len(frame), dtype=np.int64),
        DOC: docs,
        HAS_DOC: np.array([bool(d.strip()) for d in docs]),
        FEEDBACK_DOC: feedback_docs,
        ID: prepared.ids.to_numpy(dtype=object),
    }
    for i, column in enumerate(prepared.numeric.columns):
        out[f"{NUMERIC}{i}"] = prepared.numeric[column].to_numpy(dtype=np.float64)
    for i, column in enumerate(categorical.columns):
        out[f"{CATEGORY}{i}"] = categorical[column].to_numpy(dtype=object)
    for i, column in enumerate(frame.columns):
        out[f"{ORIGINAL}{i}"] = frame[column].to_numpy(dtype=object)
    return pd.DataFrame(out)


# --- embedding -------------------------------------------------------------------------------


class TextEmbedder:
    """A Ray Data actor: loads the embedding model once, then embeds batch after batch
    through the per-text cache."""

    def __init__(
        self,
        name: str,
        config: EmbedConfig,
        threads: int,
        source: str = DOC,
        target: str = VECTOR,
        has_text: str = HAS_TEXT,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch  # noqa: PLC0415

        from segmenter.embedding import get_embedder  # noqa: PLC0415

        if not torch.cuda.is_available():
            torch.set_num_threads(threads)
        self.name = name
        self.config = config
        self.source, self.target, self.has_text = source, target, has_text
        embedder = get_embedder(name)
        self.dimension = embedder.dimension
        embedder.embed(["load the weights now, once per actor"])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from segmenter.pipeline import embed_documents  # noqa: PLC0415

        docs = [str(d) for d in batch[self.source]]
        result = embed_documents(docs, self.name, self.config)
        if result is None:
            batch[self.target] = np.zeros((len(docs), self.dimension), dtype=np.float32)
            batch[self.has_text] = np.zeros(len(docs), dtype=bool)
        else:
            batch[self.target] = result.vectors.astype(np.float32)
            batch[self.has_text] = result.has_text.astype(bool)
        return batch


def embed_rows(
    ray: Any,
    rows: Any,
    name: str,
    config: EmbedConfig,
    columns: tuple[str, str, str] = (DOC, VECTOR, HAS_TEXT),
) -> Any:
    """Every row's text vector, from one actor per GPU or one per CPU core. Ray Data
    restarts an actor that dies and retries its batch (its defaults for actor pools)."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    batch = config.batch_size or (512 if gpus else 64)
    return rows.map_batches(
        TextEmbedder,
        fn_constructor_kwargs={
            "name": name,
            "config": config,
            "threads": 1,
            "source": columns[0],
            "target": columns[1],
            "has_text": columns[2],
        },
        batch_size=max(batch * 8, 512),
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=gpus or cpus),
        num_gpus=1 if gpus else None,
        num_cpus=None if gpus else 1,
    ).materialize()


# --- feedback ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackPlan:
    """How every row's sentiment and urgent flags are read, learnt on the driver as the
    local engine's ``pipeline.feedback_stage`` learns them; ``read_feedback`` applies it."""

    reader: SentimentReader
    vectors: str  # the column of vectors the reader reads
    has_text: str
    layout: Layout
    rating: SentimentSource | None = None  # rated rows keep their rating's sentiment
    sample_rows: np.ndarray | None = None  # rows the sentiment model read itself (sorted)
    sample_labels: np.ndarray | None = None
    sample_scores: np.ndarray | None = None


def read_feedback(batch: dict[str, np.ndarray], plan: FeedbackPlan) -> dict[str, np.ndarray]:
    """Sentiment, score and urgent flags of each row of a batch."""
    rated = None
    if plan.rating is not None:
        rated = source_labels(plan.layout.original_frame(batch), plan.rating).to_numpy()
    result = plan.reader.read(
        np.asarray(batch[plan.vectors]), np.asarray(batch[plan.has_text], dtype=bool), rated
    )
    labels, scores = result.labels.copy(), result.scores.copy()
    if plan.sample_rows is not None:
        assert plan.sample_labels is not None and plan.sample_scores is not None
        found = np.searchsorted(plan.sample_rows, batch[ROW])
        inside = found < len(plan.sample_rows)
        inside[inside] = plan.sample_rows[found[inside]] == batch[ROW][inside]
        labels[inside] = plan.sample_labels[found[inside]]
        scores[inside] = plan.sample_scores[found[inside]]
    batch[SENTIMENT] = labels
    batch[SCORE] = scores
    docs = [str(d) for d in batch[FEEDBACK_DOC]]
    batch[FLAGS] = np.array(urgent_flags(docs, list(labels)), dtype=object)
    return batch


def _rated_rows(
    rows: Any, layout: Layout, source: SentimentSource, vectors: str, has_text: str
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and sentiments of the rated rows with text (all of them: a rating column's
    classifier learns from every rated row, as the local engine's does)."""

    def rated(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        labels = source_labels(layout.original_frame(batch), source).to_numpy()
        keep = np.isin(labels, SENTIMENTS) & np.asarray(batch[has_text], dtype=bool)
        return {ROW: batch[ROW][keep], "v": batch[vectors][keep], "y": labels[keep].astype(str)}

    columns = [ROW, vectors, has_text, *(f"{ORIGINAL}{i}" for i in range(len(layout.original)))]
    found = rows.select_columns(columns).map_batches(
        rated, batch_format="numpy", batch_size=BATCH_ROWS
    )
    pieces = list(found.iter_batches(batch_format="numpy", batch_size=None))
    if not pieces:
        return np.zeros((0, 0), np.float32), np.zeros(0, dtype=object)
    order = np.argsort(np.concatenate([p[ROW] for p in pieces]), kind="stable")
    vectors_out = np.concatenate([p["v"] for p in pieces])[order]
    return vectors_out, np.concatenate([p["y"] for p in pieces])[order]


def _prototypes(config: EmbedConfig) -> np.ndarray:
    from segmenter.pipeline import embed_documents  # noqa: PLC0415

    phrases, _ = prototype_phrases()
    embedded = embed_documents(phrases, config.sentiment_model, config)
    assert embedded is not None  # the phrases are not empty
    return embedded.vectors


def _analysis_plan(
    rows: Any,
    layout: Layout,
    frame: pd.DataFrame,
    candidates: list[str],
    config: EmbedConfig,
    vectors: str,
    has_text: str,
) -> FeedbackPlan:
    """``sentiment.analyse_feedback``: the rating column's classifier, else the prototypes."""
    source = find_sentiment_source(frame, candidates)
    note = ""
    if source.method == "rating":
        try:
            known_vectors, known_labels = _rated_rows(rows, layout, source, vectors, has_text)
            reader = rating_reader(known_vectors, known_labels, source)
            return FeedbackPlan(reader, vectors, has_text, layout, rating=source)
        except InputError as error:
            note = f"{error} Sentiment uses the example phrases instead."
    reader = replace(prototype_reader(_prototypes(config)), note=note)
    return FeedbackPlan(reader, vectors, has_text, layout)


def plan_feedback(
    ray: Any,
    rows: Any,
    layout: Layout,
    schema: Schema,
    frame: pd.DataFrame,
    embedder: str | None,
    config: EmbedConfig,
) -> tuple[Any, FeedbackPlan | None]:
    """The local engine's choices (``pipeline.feedback_stage``): reuse the segmentation's
    vectors when they come from the sentiment model; else embed every feedback text with it,
    or, above ``SENTIMENT_FULL_ROWS`` rows with text, a sample that a classifier on the
    segmentation's vectors carries to the rest. ``frame`` (the roles' sample) is where a
    rating column is looked for."""
    from segmenter.pipeline import (  # noqa: PLC0415
        NO_SENTIMENT,
        SENTIMENT_FULL_ROWS,
        SENTIMENT_SAMPLE_ROWS,
        embed_documents,
        feedback_columns,
    )

    columns = feedback_columns(schema)
    if embedder is None or not columns or config.sentiment_model == NO_SENTIMENT:
        return rows, None
    candidates = [*schema.numeric_columns, *schema.categorical_columns, *schema.label_columns]
    if embedder == config.sentiment_model and columns == schema.text_columns:
        return rows, _analysis_plan(rows, layout, frame, candidates, config, VECTOR, HAS_TEXT)
    with_text = _numbers_where(rows, HAS_TEXT)
    if len(with_text) <= SENTIMENT_FULL_ROWS:
        rows = embed_rows(
            ray,
            rows,
            config.sentiment_model,
            config,
            (FEEDBACK_DOC, SENTIMENT_VECTOR, SENTIMENT_HAS_TEXT),
        )
        plan = _analysis_plan(
            rows, layout, frame, candidates, config, SENTIMENT_VECTOR, SENTIMENT_HAS_TEXT
        )
        return rows, plan
    source = find_sentiment_source(frame, candidates)
    if source.method == "rating":
        try:
            known_vectors, known_labels = _rated_rows(rows, layout, source, VECTOR, HAS_TEXT)
            reader = rating_reader(known_vectors, known_labels, source)
            return rows, FeedbackPlan(reader, VECTOR, HAS_TEXT, layout, rating=source)
        except InputError:
            pass  # too few of some rating: read a sample with the model, as without one
    rng = np.random.default_rng(0)
    chosen = np.sort(
        rng.choice(with_text, min(SENTIMENT_SAMPLE_ROWS, len(with_text)), replace=False)
    )
    sample = gather(rows, chosen, [ROW, FEEDBACK_DOC, VECTOR])
    embedded = embed_documents(
        [str(d) for d in sample[FEEDBACK_DOC]], config.sentiment_model, config
    )
    assert embedded is not None  # sampled rows have text
    read = classify_with_prototypes(embedded.vectors, embedded.has_text, _prototypes(config))
    reader = carrier(read, np.asarray(sample[VECTOR]))
    n_read = int((read.labels != NO_TEXT).sum())
    reader = replace(reader, note=carried_note(n_read, len(with_text), reader))
    plan = FeedbackPlan(
        reader,
        VECTOR,
        HAS_TEXT,
        layout,
        sample_rows=chosen,
        sample_labels=read.labels,
        sample_scores=read.scores,
    )
    return rows, plan


def _numbers_where(rows: Any, flag: str) -> np.ndarray:
    """Row numbers (sorted) where a boolean column is true."""
    pieces = list(
        rows.select_columns([ROW, flag]).iter_batches(batch_format="numpy", batch_size=None)
    )
    numbers = [p[ROW][np.asarray(p[flag], dtype=bool)] for p in pieces]
    return np.sort(np.concatenate(numbers)) if numbers else np.zeros(0, np.int64)


# --- fitting on samples ----------------------------------------------------------------------


def _columns(rows: Any) -> list[str]:
    return list(rows.schema().names)


def gather(rows: Any, wanted: np.ndarray, columns: list[str]) -> dict[str, np.ndarray]:
    """The rows numbered ``wanted`` (in that order), with ``columns`` only."""
    ids = np.unique(wanted)

    def select(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keep = np.isin(batch[ROW], ids)
        return {c: batch[c][keep] for c in columns}

    found = rows.map_batches(select, batch_format="numpy", batch_size=BATCH_ROWS)
    pieces = list(found.iter_batches(batch_format="numpy", batch_size=None))
    merged = {
        c: np.concatenate([p[c] for p in pieces]) if pieces else np.array([]) for c in columns
    }
    order = np.searchsorted(merged[ROW], wanted)
    return {c: v[order] for c, v in merged.items()}


def _inputs(layout: Layout, batch: Mapping[str, np.ndarray], text: bool) -> tuple[Any, ...]:
    vectors = np.asarray(batch[layout.features]) if text and layout.features in batch else None
    has_text = np.asarray(batch[HAS_TEXT], dtype=bool) if text else None
    numeric = layout.numeric_frame(batch) if layout.numeric else None
    categorical = layout.categorical_frame(batch) if layout.categorical else None
    return vectors, has_text, numeric, categorical


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
    fused, usable = model.fusion.transform(*_inputs(model.layout, batch, model.text))
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
        _, has_text, numeric, categorical = _inputs(layout, batch, text)
        mask = usable_rows(has_text, numeric, categorical, len(batch[ROW]))
        return {ROW: batch[ROW][mask]}

    found = rows.select_columns([ROW, *([HAS_TEXT] if text else []), *_structured(layout)])
    pieces = found.map_batches(usable, batch_format="numpy", batch_size=BATCH_ROWS)
    numbers = [b[ROW] for b in pieces.iter_batches(batch_format="numpy", batch_size=None)]
    return np.sort(np.concatenate(numbers)) if numbers else np.zeros(0, np.int64)


def _structured(layout: Layout) -> list[str]:
    return [f"{NUMERIC}{i}" for i in range(len(layout.numeric))] + [
        f"{CATEGORY}{i}" for i in range(len(layout.categorical))
    ]


@dataclass(frozen=True)
class SampleFit:
    """The driver's fit, with what the silhouette needs once the labels are ranked."""

    model: FittedModel
    choice: KChoice
    silhouette_space: np.ndarray
    timings: dict[str, float]


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
    columns = [ROW, *([layout.features, HAS_TEXT] if text else []), *_structured(layout)]
    sample = gather(embedded, usable_ids[wanted], columns)
    timings["gather"] = time.perf_counter() - start

    start = time.perf_counter()
    learn_rows = {c: v[np.searchsorted(wanted, learn)] for c, v in sample.items()}
    fusion = fit_fusion(*_inputs(layout, learn_rows, text), text_weight=config.text_weight)
    fused_sample, _ = fusion.transform(*_inputs(layout, sample, text))
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

    choice = KChoice(
        k=int(config.n_segments) if config.n_segments != "auto" else 0,
        silhouettes={},
        smallest_segment={},
        reason="set by the user",
    )
    if config.n_segments == "auto":
        start = time.perf_counter()
        choice = choose_n_segments(
            space_at(learn),
            k_min=config.k_min,
            k_max=config.k_max,
            min_segment_size=config.min_segment_size,
            random_state=seed,
            silhouette_sample=config.silhouette_sample,
        )
        timings["choose_k"] = time.perf_counter() - start
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
    return SampleFit(model, choice, space_at(silhouette), timings)


# --- applying, profiling, writing ------------------------------------------------------------


def _relabel(batch: dict[str, np.ndarray], remap: np.ndarray) -> dict[str, np.ndarray]:
    labels = batch[LABEL]
    segmented = labels >= 0
    labels = labels.copy()
    labels[segmented] = remap[labels[segmented]]
    batch[LABEL] = labels
    return batch


@dataclass(frozen=True)
class BatchCounts:
    """What the profiles need from a batch of rows; the batches' counts merge."""

    summary: ProfileSummary
    nearest: tuple[tuple[tuple[float, int, str], ...], ...]  # per segment: the quotes' candidates
    offers: tuple[ItemCounts, ...]
    feedback: FeedbackCounts | None
    sentiments: dict[str, int]  # for run.json, over all rows

    def merge(self, other: BatchCounts) -> BatchCounts:
        feedback = None
        if self.feedback is not None and other.feedback is not None:
            feedback = self.feedback.merge(other.feedback)
        return BatchCounts(
            summary=self.summary.merge(other.summary),
            nearest=tuple(
                tuple(sorted(a + b)[:EXAMPLE_CANDIDATES])
                for a, b in zip(self.nearest, other.nearest, strict=True)
            ),
            offers=tuple(a.merge(b) for a, b in zip(self.offers, other.offers, strict=True)),
            feedback=feedback,
            sentiments={
                k: self.sentiments.get(k, 0) + other.sentiments.get(k, 0)
                for k in {**self.sentiments, **other.sentiments}
            },
        )


def _count_batch(
    batch: dict[str, np.ndarray], layout: Layout, n_segments: int, offer_columns: tuple[str, ...]
) -> dict[str, np.ndarray]:
    first_row = int(batch[ROW][0]) if len(batch[ROW]) else 0
    labels = np.asarray(batch[LABEL]).astype(np.int64)
    summary = summarise(
        labels,
        layout.numeric_frame(batch),
        layout.categorical_frame(batch),
        n_segments,
        first_row=first_row,
    )
    nearest = []
    for segment in range(n_segments):
        members = np.flatnonzero(labels == segment)
        order = members[np.lexsort((batch[ROW][members], batch[DISTANCE][members]))]
        nearest.append(
            tuple(
                (float(batch[DISTANCE][r]), int(batch[ROW][r]), str(batch[DOC][r]))
                for r in order[:EXAMPLE_CANDIDATES]
            )
        )
    original = layout.original_frame(batch)
    offers = tuple(
        count_items(column, original[column], labels, n_segments, first_row=first_row)
        for column in offer_columns
    )
    feedback = None
    sentiments: dict[str, int] = {}
    if SENTIMENT in batch:
        feedback = count_feedback(
            labels,
            np.asarray(batch[SENTIMENT], dtype=object),
            np.asarray(batch[SCORE], dtype=float),
            [str(f) for f in batch[FLAGS]],
            [str(d) for d in batch[DOC]],
            n_segments,
            first_row=first_row,
        )
        values, counts = np.unique(np.asarray(batch[SENTIMENT]).astype(str), return_counts=True)
        sentiments = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        sentiments["(urgent)"] = int(sum(1 for f in batch[FLAGS] if f))
    counted = BatchCounts(summary, tuple(nearest), offers, feedback, sentiments)
    return {"counts": _one(counted)}


def _one(value: object) -> np.ndarray:
    """A one-element object column (``np.array([value])`` would unpack nested lists)."""
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def count_rows(
    rows: Any, layout: Layout, n_segments: int, offer_columns: tuple[str, ...]
) -> BatchCounts:
    """The table's counts, merged from every batch."""
    parts = rows.map_batches(
        _count_batch,
        fn_kwargs={"layout": layout, "n_segments": n_segments, "offer_columns": offer_columns},
        batch_format="numpy",
        batch_size=BATCH_ROWS,
    )
    total: BatchCounts | None = None
    for batch in parts.iter_batches(batch_format="numpy", batch_size=None):
        for counted in batch["counts"]:
            total = counted if total is None else total.merge(counted)
    assert total is not None
    return total


def _texts_at(rows: Any, numbers: np.ndarray) -> dict[int, str]:
    if not len(numbers):
        return {}
    found = gather(rows, numbers, [ROW, DOC])
    return {int(r): str(d) for r, d in zip(found[ROW], found[DOC], strict=True)}


def build_profiles(
    counts: BatchCounts,
    texts: dict[int, str],
    keyword_rows: np.ndarray,
    spread: dict[int, np.ndarray],
    labels: np.ndarray,
    n_segments: int,
) -> list[SegmentProfile]:
    """Profiles as the local engine makes them (``pipeline.profile_fitted``), from the
    table's merged counts and the texts of sampled rows (keywords, language)."""
    terms = count_terms(texts, rows=keyword_rows)
    keywords = class_tfidf_keywords([], labels, terms=terms)
    examples = {}
    languages = {}
    for segment in range(n_segments):
        candidates = counts.nearest[segment]
        candidate_docs = [text for _, _, text in candidates]
        examples[segment] = _examples(candidate_docs, np.arange(len(candidates)), None)
        languages[segment] = dominant_language_hint(
            [texts[int(r)] for r in spread[segment] if texts.get(int(r))]
        )
    segments = range(n_segments)
    profiles = profiles_from_summary(counts.summary, segments, keywords, examples, languages)
    offers = offers_from_counts(counts.offers, segments)
    moods = feedback_from_counts(counts.feedback) if counts.feedback is not None else {}
    return [
        replace(p, offers=offers.get(p.segment_id, ()), feedback=moods.get(p.segment_id))
        for p in profiles
    ]


def profile_rows(
    rows: Any,
    layout: Layout,
    labels: np.ndarray,
    has_doc: np.ndarray,
    n_segments: int,
    offer_columns: tuple[str, ...],
) -> tuple[list[SegmentProfile], BatchCounts]:
    """Count every batch, read the sampled texts, build the profiles."""
    counts = count_rows(rows, layout, n_segments, offer_columns)
    with_text = np.flatnonzero(has_doc)
    keyword_rows = with_text
    if len(with_text) > KEYWORD_SAMPLE_ROWS:
        rng = np.random.default_rng(0)
        keyword_rows = np.sort(rng.choice(with_text, KEYWORD_SAMPLE_ROWS, replace=False))
    spread = {s: _spread(np.flatnonzero(labels == s)) for s in range(n_segments)}
    wanted = np.unique(np.concatenate([keyword_rows, *spread.values()]).astype(np.int64))
    texts = _texts_at(rows, wanted)
    return build_profiles(counts, texts, keyword_rows, spread, labels, n_segments), counts


def _row_columns(rows: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every row's segment and whether it has text, in row order: one byte or two per row."""
    pieces = list(
        rows.select_columns([ROW, LABEL, HAS_DOC]).iter_batches(
            batch_format="numpy", batch_size=None
        )
    )
    numbers = np.concatenate([p[ROW] for p in pieces])
    order = np.argsort(numbers, kind="stable")
    labels = np.concatenate([p[LABEL] for p in pieces])[order].astype(np.int64)
    has_doc = np.concatenate([p[HAS_DOC] for p in pieces])[order].astype(bool)
    return labels, has_doc


def _export_batch(
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
    ``CSV_MAX_ROWS`` rows (written by the workers, never gathered here)."""
    if n_rows > CSV_MAX_ROWS:
        target = out_dir / "segments"
        rows.map_batches(
            _export_batch,
            fn_kwargs={"layout": layout, "profiles": profiles},
            batch_format="numpy",
            batch_size=BATCH_ROWS,
        ).write_parquet(str(target))
        return target
    target = out_dir / "segments.csv"
    with target.open("wb") as handle:
        first = True
        for batch in rows.iter_batches(batch_format="numpy", batch_size=BATCH_ROWS):
            handle.write(to_csv_bytes(_export_batch(batch, layout, profiles), header=first))
            first = False
    return target


Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def segment_on_ray(
    source: Path,
    out_dir: Path,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    *,
    address: str | None = None,
    progress: Progress = _quiet,
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
    progress(f"Reading {len(parts)} part(s)")
    frames, results, columns = read_parts(ray, parts)
    counts = [r.rows for r in results if r.error is None]
    n_rows = sum(counts)
    if n_rows < MIN_ROWS:
        raise SchemaError(
            f"The table has only {n_rows} readable rows: segmentation needs at least "
            f"{MIN_ROWS} customers; upload a larger table."
        )
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    sample_frame = _schema_sample(ray, frames, counts, offsets)
    schema = detect_schema(sample_frame)
    readings = date_readings(ray, frames, schema)
    layout = Layout(
        original=columns,
        numeric=(
            *schema.numeric_columns,
            *(f"{c} (days)" for c in schema.date_columns),
        ),
        categorical=(*schema.categorical_columns, *schema.label_columns),
        id_name=schema.id_column or "row_number",
    )
    prepare = ray.remote(max_retries=3)(_prepare_part)
    labels = tuple(schema.label_columns)
    feedback_schema = _feedback_schema(schema)
    prepared = [
        prepare.remote(frame, schema, readings, int(offset), labels, feedback_schema)
        for frame, offset in zip(frames, offsets, strict=True)
    ]
    rows = ray.data.from_pandas_refs(prepared)
    timings["read"] = time.perf_counter() - start

    start = time.perf_counter()
    text = bool(schema.text_columns)
    name = _embedder_name(ray, rows, embed_config, n_rows) if text else None
    if name is not None:
        progress(f"Embedding {n_rows:,} rows with {name} on the cluster")
        rows = embed_rows(ray, rows, name, embed_config)
    else:
        rows = rows.materialize()
    timings["embed"] = time.perf_counter() - start
    if name == FAST_EMBEDDER:
        start = time.perf_counter()
        progress("Learning topics from the table's own words")
        rows = add_table_topics(rows)
        layout = replace(layout, features=FEATURES)
        timings["lexical"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Reading the sentiment of the feedback")
    rows, feedback = plan_feedback(ray, rows, layout, schema, sample_frame, name, embed_config)
    if feedback is not None:
        rows = rows.map_batches(
            read_feedback,
            fn_kwargs={"plan": feedback},
            batch_format="numpy",
            batch_size=BATCH_ROWS,
        ).materialize()
    timings["sentiment"] = time.perf_counter() - start

    progress("Fitting on samples of the rows")
    fit = fit_on_samples(rows, layout, text, cluster_config)
    timings.update(fit.timings)

    start = time.perf_counter()
    progress("Placing and segmenting every row")
    applied = rows.map_batches(
        apply_batch, fn_kwargs={"model": fit.model}, batch_format="numpy", batch_size=BATCH_ROWS
    ).materialize()
    raw, has_doc = _row_columns(applied)
    k = fit.choice.k
    counts_by_label = np.bincount(raw[raw >= 0], minlength=k)
    order = largest_first(counts_by_label)
    remap = np.empty(k, dtype=np.int16)
    remap[order] = np.arange(k)
    segmented = raw >= 0
    labels_all = raw.copy()
    labels_all[segmented] = remap[raw[segmented]]
    final = applied.map_batches(
        _relabel, fn_kwargs={"remap": remap}, batch_format="numpy", batch_size=BATCH_ROWS
    ).materialize()
    silhouette_labels = remap[fit.model.centres.predict(fit.silhouette_space)]
    silhouette = sampled_silhouette(fit.silhouette_space, silhouette_labels)
    timings["apply"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Profiling segments")
    offers = tuple(offer_columns([*schema.categorical_columns, *schema.text_columns]))
    built, counted = profile_rows(final, layout, labels_all, has_doc, k, offers)
    profiles = tuple(built)
    timings["profile"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Writing the results")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"segments": write_segments(final, layout, profiles, out_dir, n_rows)}
    paths["profiles"] = out_dir / "profiles.json"
    paths["profiles"].write_text(profiles_json(profiles), encoding="utf-8")
    paths["space"] = write_space(final, out_dir / SPACE_FILE, n_rows)
    timings["export"] = time.perf_counter() - start
    run = RayRun(out_dir, paths, profiles, tuple(results), n_rows, timings)
    record = _run_record(
        run, schema, name, embed_config, cluster_config, fit, silhouette, address, ray, labels_all
    )
    record["feedback"] = _feedback_record(feedback, counted)
    paths["run"] = out_dir / "run.json"
    paths["run"].write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return replace(run, paths=paths)


def _schema_sample(
    ray: Any, frames: list[Any], counts: list[int], offsets: np.ndarray
) -> pd.DataFrame:
    """A uniform sample of at most ``SCHEMA_ROWS`` rows in table order (all of a small table)."""
    total = sum(counts)
    chosen = np.arange(total)
    if total > SCHEMA_ROWS:
        chosen = np.sort(np.random.default_rng(0).choice(total, SCHEMA_ROWS, replace=False))
    pick = ray.remote(_sample_rows)
    pieces = []
    for frame, offset, count in zip(frames, offsets, counts, strict=True):
        inside = chosen[(chosen >= offset) & (chosen < offset + count)] - offset
        if len(inside):
            pieces.append(pick.remote(frame, inside))
    return pd.concat(ray.get(pieces), ignore_index=True)


def _embedder_name(ray: Any, rows: Any, config: EmbedConfig, n_rows: int) -> str:
    """The model the local engine would pick (``pipeline.resolve_embedder_name``), judged on
    a sample of the texts: the fast static mode on a cluster without GPUs when the table has
    at least ``config.fast_min_texts`` distinct texts (estimated from the sample)."""
    from segmenter.embedding.script import choose_embedder_name  # noqa: PLC0415
    from segmenter.pipeline import DEFAULT_EMBEDDER, FAST_EMBEDDER, distinct_texts  # noqa: PLC0415

    sample = [str(r[DOC]) for r in rows.select_columns([DOC]).limit(SCHEMA_ROWS).take_all()]
    name = choose_embedder_name(sample) if config.model == "auto" else config.model
    if name != DEFAULT_EMBEDDER or config.mode == "accurate":
        return name
    distinct = distinct_texts(sample) * max(1.0, n_rows / max(len(sample), 1))
    gpus = ray.cluster_resources().get("GPU", 0)
    if config.mode == "fast" or (
        config.model == "auto" and distinct >= config.fast_min_texts and not gpus
    ):
        return FAST_EMBEDDER
    return name


def _with_topics(batch: dict[str, np.ndarray], topics: Any) -> dict[str, np.ndarray]:
    docs = [str(d) for d in batch[DOC]]
    extra = topics.transform(docs, np.asarray(batch[HAS_TEXT], dtype=bool))
    joined = np.hstack([batch[VECTOR], extra]) / np.float32(np.sqrt(2.0))
    batch[FEATURES] = joined.astype(np.float32)
    return batch


def add_table_topics(rows: Any) -> Any:
    """The fast mode's second half (``pipeline.text_features``): topics learnt from the
    table's own words, from a uniform sample of at most ``fusion.FIT_ROWS`` texts (all of a
    smaller table), joined to every row's static vector."""
    from segmenter.embedding.lexical import fit_lexical  # noqa: PLC0415

    pieces = list(
        rows.select_columns([ROW, HAS_TEXT]).iter_batches(batch_format="numpy", batch_size=None)
    )
    numbers = np.concatenate([p[ROW][p[HAS_TEXT].astype(bool)] for p in pieces])
    numbers = np.sort(numbers)
    chosen = numbers[fit_rows(len(numbers))]
    texts = _texts_at(rows, chosen)
    topics = fit_lexical([texts[int(r)] for r in chosen])
    if topics is None:
        return rows
    return rows.map_batches(
        _with_topics, fn_kwargs={"topics": topics}, batch_format="numpy", batch_size=BATCH_ROWS
    ).materialize()


def _feedback_schema(schema: Schema) -> Schema | None:
    """The schema whose documents are the feedback texts, when they differ from the
    segmentation's (``pipeline.feedback_columns`` leaves product lists out)."""
    from segmenter.pipeline import feedback_columns  # noqa: PLC0415

    columns = feedback_columns(schema)
    if columns == schema.text_columns:
        return None
    return schema.with_roles({c: "ignored" for c in schema.text_columns if c not in columns})


def _feedback_record(plan: FeedbackPlan | None, counts: BatchCounts) -> dict[str, Any] | None:
    """``FeedbackResult.record`` from the merged counts."""
    if plan is None:
        return None
    reader = plan.reader
    return {
        "method": reader.source.method,
        "column": reader.source.column,
        "description": reader.source.describe(),
        "cv_accuracy": reader.cv_accuracy,
        "note": reader.note,
        "counts": {s: counts.sentiments.get(s, 0) for s in (*SENTIMENTS, NO_TEXT)},
        "urgent_rows": counts.sentiments.get("(urgent)", 0),
    }


def _run_record(
    run: RayRun,
    schema: Schema,
    embedder: str | None,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    fit: SampleFit,
    silhouette: float,
    address: str | None,
    ray: Any,
    labels: np.ndarray,
) -> dict[str, Any]:
    """``run.json``: the local engine's fields, with the engine, the cluster and each part."""
    from segmenter.embedding import get_embedder  # noqa: PLC0415

    resources = ray.cluster_resources()
    choice = fit.choice
    return {
        "engine": {
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
        "input": {
            "filename": str(run.out_dir.name),
            "rows": run.rows,
            "columns": len(schema.columns),
            "notes": [f"{p.name}: {n}" for p in run.parts for n in p.notes],
        },
        "schema": schema.to_dict(),
        "embedding": {
            "model_id": get_embedder(embedder).model_id if embedder else None,
            "requested": embed_config.model,
        },
        "segmenter": make_segmenter(cluster_config).get_params(),
        "result": {
            "n_segments": choice.k,
            "silhouette": silhouette,
            "k_choice": {
                "k": choice.k,
                "reason": choice.reason,
                "silhouettes": choice.silhouettes,
                "smallest_segment": choice.smallest_segment,
                "largest_share": choice.largest_share,
            },
            "reduction": fit.model.reduction.fitted.method,
            "text_weight_applied": fit.model.fusion.text_weight,
            "unsegmented_rows": int((labels < 0).sum()),
        },
        "seconds": {stage: round(seconds, 3) for stage, seconds in run.timings.items()},
        "library_versions": library_versions(),
    }
