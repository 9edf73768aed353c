"""The local engine: the whole segmentation path, shared by the CLI and the pages.

``run_segmentation`` strings the stages together for the CLI and the Segments page. The
decisions both engines share live in modules of their own, which the Ray engine
(``distributed``) uses too: ``embed_stage`` (model choice, GPU check, fast features),
``feedback_stage`` (the sentiment plan), ``sampling`` (the rows each stage learns from),
``stage_columns`` (the columns each stage reads) and ``run_record`` (``run.json``);
``run_cache`` keeps recent runs and ``run_folder`` writes a run's folder. Their names that
callers imported from here are re-exported.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import UMAP_FIT_ROWS, Segmenter, cuda_in_use, make_segmenter
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embed_stage import (  # noqa: F401  (re-exported: callers found them here)
    CPU_BATCH_SIZE,
    GPU_BATCH_SIZE,
    FastTextModel,
    Progress,
    distinct_texts,
    embed_documents,
    embedding_note,
    fast_mode,
    fit_text_features,
    has_any_text,
    has_gpu,
    resolve_embedder_name,
    text_features,
)
from segmenter.embed_stage import no_progress as _no_progress
from segmenter.embedding import EmbeddingResult
from segmenter.export import SegmentationResult
from segmenter.feedback_stage import (  # noqa: F401
    NO_SENTIMENT,
    SENTIMENT_FULL_ROWS,
    feedback_stage,
    reader_vectors,
)
from segmenter.fusion import InputSelection, influence_record
from segmenter.ingest import (  # noqa: F401
    LoadedTable,
    PreparedTable,
    Schema,
    build_documents,
    prepare_columns,
    validate_for_segmentation,
)
from segmenter.labels import column_labels
from segmenter.offers import next_best_offers, offer_columns
from segmenter.profile import (
    SegmentProfile,
    TermCounts,
    count_terms,
    distances_to_centres,
    name_profiles,
    profile_segments,
)
from segmenter.run_cache import cached_run, clear_run_cache, remember_run, run_key  # noqa: F401
from segmenter.run_folder import SPACE_FILE, write_outputs  # noqa: F401
from segmenter.run_record import RunRecord, result_record
from segmenter.sampling import SENTIMENT_SAMPLE_ROWS  # noqa: F401
from segmenter.sentiment import FeedbackResult, reader_phrases, segment_feedback  # noqa: F401
from segmenter.stage_columns import feedback_columns, profiled_categories  # noqa: F401

UMAP_SECONDS_PER_ROW = 0.0034
"""Both UMAP fits on the 2-core benchmark machine: 34 s at 10k rows after the start-up
warm-up; above ``cluster.UMAP_FIT_ROWS`` rows UMAP sees only a sample of that size."""
PLACEMENT_SECONDS_PER_ROW = 0.00015
"""Placing the other rows and the KMeans sweep on 2 cores: 1M rows took about 150 s; on a
GPU machine with 16 cores, 20 s."""
GPU_PLACEMENT_SPEED_UP = 8


def reduction_estimate(n_rows: int) -> str:
    """A rough duration for the UMAP stage on this machine, for progress messages (measured
    on 2 cores, and on a GPU machine)."""
    fitted = min(n_rows, UMAP_FIT_ROWS)
    placement = PLACEMENT_SECONDS_PER_ROW * (n_rows - fitted)
    if cuda_in_use():
        placement /= GPU_PLACEMENT_SPEED_UP
    seconds = UMAP_SECONDS_PER_ROW * fitted + placement
    if seconds < 60:
        return "usually under a minute"
    return f"about {round(seconds / 60)} minutes for {n_rows:,} rows"


def fit_segmenter(
    embedding: EmbeddingResult | None,
    prepared: PreparedTable,
    config: ClusterConfig,
    features: np.ndarray | None = None,
) -> Segmenter:
    """Fuse, reduce and cluster: the fitted estimator holds labels and map coordinates.

    ``features`` replaces the embedding's vectors as the text block (see ``text_features``).
    """
    segmenter = make_segmenter(config)
    if embedding is None:
        return segmenter.fit(None, numeric=prepared.numeric, categorical=prepared.categorical)
    return segmenter.fit(
        embedding.vectors if features is None else features,
        embedding.has_text,
        numeric=prepared.numeric,
        categorical=prepared.categorical,
    )


def profile_inputs(
    frame: pd.DataFrame, schema: Schema, prepared: PreparedTable
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric and categorical columns to profile; label columns count as categories."""
    return prepared.numeric, profiled_categories(frame, schema, prepared.categorical)


def profile_fitted(
    segmenter: Segmenter,
    docs: Sequence[str],
    frame: pd.DataFrame,
    schema: Schema,
    prepared: PreparedTable,
    feedback: FeedbackResult | None = None,
    terms: TermCounts | None = None,
    edited_labels: Mapping[str, str] | None = None,
) -> list[SegmentProfile]:
    """Profiles for the segments of a fitted Segmenter, with offers and feedback; names and
    cards use the columns' labels (``edited_labels``: the user's, over the defaults), and
    label columns being predicted never name a segment."""
    numeric, categorical = profile_inputs(frame, schema, prepared)
    space = np.full((len(frame), segmenter.reduction_.cluster_space.shape[1]), np.nan)
    space[segmenter.usable_] = segmenter.reduction_.cluster_space
    distances = distances_to_centres(space, segmenter.labels_, segmenter.assignment_.centers)
    profiles = profile_segments(
        docs,
        segmenter.labels_,
        numeric,
        categorical,
        distances=distances,
        terms=terms,
        column_labels=column_labels([c.name for c in schema.columns], edited_labels),
        unnamed=schema.label_columns,
    )
    columns = offer_columns([*schema.categorical_columns, *schema.text_columns])
    offers = next_best_offers(frame, segmenter.labels_, columns)
    moods = segment_feedback(segmenter.labels_, feedback, docs) if feedback is not None else {}
    return [
        replace(p, offers=offers.get(p.segment_id, ()), feedback=moods.get(p.segment_id))
        for p in profiles
    ]


@dataclass(frozen=True)
class SegmentationRun:
    """Everything a finished run produced, ready for the writers."""

    loaded: LoadedTable
    schema: Schema
    prepared: PreparedTable
    docs: list[str]
    embedding: EmbeddingResult | None
    embedder_name: str | None
    segmenter: Segmenter
    result: SegmentationResult
    embed_config: EmbedConfig
    cluster_config: ClusterConfig
    timings: dict[str, float] = field(default_factory=dict)
    feedback: FeedbackResult | None = None
    reused: bool = False
    """Whether this came from the run cache (the timings are those of the original run)."""
    terms: TermCounts | None = None
    """Word counts for the keywords, kept so that reclustering only regroups them."""
    opened_from: Path | None = None
    """The run folder this run was opened from (``runs.open_run``), when it was not computed
    in this process."""
    edited_labels: Mapping[str, str] = field(default_factory=dict)
    """Column labels the user edited (the others are ``labels.column_label``'s)."""
    text_model: FastTextModel | None = None
    """The fast mode's topics and alignment, which the saved model needs to place new rows."""
    identities: Mapping[str, Any] | None = None
    """Which earlier run's segment numbers and names this run kept (``identities``)."""

    @property
    def labels(self) -> dict[str, str]:
        """Every column's label, as names and cards use them."""
        return column_labels([c.name for c in self.schema.columns], self.edited_labels)

    @property
    def drivers(self) -> dict[int, list[tuple[str, float]]]:
        """Per segment, the inputs (``"text"`` and column names) that most set it apart, with
        each one's share (``fusion.segment_drivers``); from ``run.json`` for an opened run."""
        drivers: dict[int, list[tuple[str, float]]] = getattr(self.segmenter, "drivers_", {})
        if not drivers and self.opened_from is not None:
            recorded = self.parameters().get("result", {}).get("drivers", {})
            drivers = {int(k): [(str(n), float(v)) for n, v in d] for k, d in recorded.items()}
        return drivers

    def record(self) -> RunRecord:
        """Every setting, model id, finding and timing: ``run.json``. An opened run's is its
        folder's, with its current number of segments."""
        if self.opened_from is not None:
            opened = RunRecord.read(self.opened_from)
            extra = {k: v for k, v in opened.extra.items() if k != "library_versions"}
            extra["opened_from"] = str(self.opened_from)
            result = {**opened.result, "n_segments": self.segmenter.n_segments_}
            return replace(opened, result=result, extra=extra)
        return local_record(self)

    def parameters(self) -> dict[str, Any]:
        """``record()`` as a dict, for the JSON sidecar and the "Run details" panel."""
        return self.record().to_dict()


def local_record(run: SegmentationRun) -> RunRecord:
    """The record of a run of the local engine."""
    loaded, segmenter, embedding = run.loaded, run.segmenter, run.embedding
    return RunRecord(
        input={
            "filename": loaded.report.filename,
            "rows": loaded.report.n_rows,
            "columns": loaded.report.n_columns,
            "encoding": loaded.report.encoding,
            "delimiter": loaded.report.delimiter,
            "notes": list(loaded.report.notes),
        },
        schema=run.schema.to_dict(),
        embedding={
            "model_id": embedding.model_id if embedding else None,
            "requested": run.embed_config.model,
            "texts_embedded": embedding.n_computed if embedding else 0,
            "texts_from_cache": embedding.n_cached if embedding else 0,
        },
        segmenter=segmenter.get_params(),
        result=result_record(
            n_segments=segmenter.n_segments_,
            silhouette=segmenter.silhouette_,
            choice=segmenter.k_choice_,
            reduction=segmenter.reduction_.method,
            text_weight_applied=segmenter.text_weight_,
            unsegmented_rows=int((segmenter.labels_ < 0).sum()),
            influence=influence_record(
                getattr(segmenter, "fusion_", None), getattr(segmenter, "drivers_", {})
            ),
        ),
        feedback=run.feedback.record() if run.feedback is not None else None,
        seconds=RunRecord.seconds_of(run.timings),
        labels=run.labels,
        extra={"identities": dict(run.identities)} if run.identities else {},
    )


def run_segmentation(
    loaded: LoadedTable,
    schema: Schema,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    progress: Progress = _no_progress,
    edited_labels: Mapping[str, str] | None = None,
) -> SegmentationRun:
    """Prepare, embed, segment and profile one table; the same table with the same roles and
    settings again comes from an in-memory cache of the last ``RUN_CACHE_SIZE`` runs.
    ``edited_labels`` (column -> label) name the segments (``with_labels``).

    Raises:
        SegmenterError: on input that cannot be segmented, with a message for the user.
    """
    key = run_key(loaded, schema, embed_config, cluster_config)
    cached = cached_run(key)
    if cached is not None:
        progress("Same table and settings as a recent run: reusing it", 1.0)
        return with_labels(replace(cached, loaded=loaded, reused=True), edited_labels or {})
    run = _run_segmentation(loaded, schema, embed_config, cluster_config, progress)
    remember_run(key, run)
    return with_labels(run, edited_labels or {})


def with_labels(run: SegmentationRun, edited_labels: Mapping[str, str]) -> SegmentationRun:
    """The run with the user's column labels: profiles relabelled and renamed (the names
    come from the labels; nothing is recomputed but the names)."""
    edited = {str(k): str(v) for k, v in edited_labels.items() if str(v).strip()}
    if edited == dict(run.edited_labels):
        return run
    run = replace(run, edited_labels=edited)
    profiles = name_profiles(run.result.profiles, run.labels, run.schema.label_columns)
    return replace(run, result=replace(run.result, profiles=tuple(profiles)))


def check_selection(schema: Schema, config: ClusterConfig) -> None:
    """Fail before the slow stages when ``config.segment_by`` and ``config.exclude_columns``
    cannot be carried out on a table with these roles (the fusion checks again on the data).

    Raises:
        SchemaError: with what to change (a role, the setting, a column left out).
    """
    structured = [*schema.numeric_columns, *schema.date_columns, *schema.categorical_columns]
    selection = InputSelection(config.segment_by, config.exclude_columns, config.segment_dates)
    selection.check_names(bool(schema.text_columns), structured, schema.date_columns)


def _run_segmentation(
    loaded: LoadedTable,
    schema: Schema,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    progress: Progress,
) -> SegmentationRun:
    frame = loaded.frame
    validate_for_segmentation(frame, schema)
    check_selection(schema, cluster_config)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    progress("Preparing columns", 0.0)
    prepared = prepare_columns(frame, schema)
    docs = build_documents(frame, schema)
    timings["prepare"] = time.perf_counter() - start

    start = time.perf_counter()
    name = resolve_embedder_name(docs, embed_config) if has_any_text(docs) else None
    embedding = embed_documents(docs, name, embed_config, progress) if name else None
    timings["embed"] = time.perf_counter() - start
    features = text_model = None
    if embedding is not None and fast_mode(name) is not None:
        start = time.perf_counter()
        progress("Learning topics from the table's own words", 0.0)
        features, text_model = fit_text_features(docs, embedding, embed_config, progress)
        timings["lexical"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Reading the sentiment of the feedback", 0.0)
    feedback = feedback_stage(docs, embedding, name, frame, schema, embed_config, progress)
    timings["sentiment"] = time.perf_counter() - start

    progress(f"Reducing and clustering: {reduction_estimate(len(frame))}", 0.5)
    segmenter = fit_segmenter(embedding, prepared, cluster_config, features)
    timings.update(segmenter.timings_)

    start = time.perf_counter()
    progress("Profiling segments", 0.0)
    terms = count_terms(docs)
    profiles = profile_fitted(segmenter, docs, frame, schema, prepared, feedback, terms)
    timings["profile"] = time.perf_counter() - start

    result = SegmentationResult(
        labels=segmenter.labels_,
        coords=segmenter.coords_,
        profiles=tuple(profiles),
        row_columns=feedback.row_columns() if feedback is not None else {},
    )
    return SegmentationRun(
        loaded=loaded,
        schema=schema,
        prepared=prepared,
        docs=docs,
        embedding=embedding,
        embedder_name=name,
        segmenter=segmenter,
        result=result,
        embed_config=embed_config,
        cluster_config=cluster_config,
        timings=timings,
        feedback=feedback,
        terms=terms,
        text_model=text_model,
    )


STAGE_NAMES = {
    "prepare": "Preparing columns",
    "embed": "Embedding text",
    "lexical": "Topics from the table's words, aligned with MiniLM",
    "sentiment": "Feedback sentiment",
    "fuse": "Joining text and columns",
    "umap": "Map and clustering space (UMAP)",
    "choose_k": "Choosing the number of segments",
    "kmeans": "Segments (KMeans)",
    "profile": "Profiles",
}


def run_details(run: SegmentationRun) -> pd.DataFrame:
    """Seconds per stage of a run, for the page's "Run details" panel and ``run.json``."""
    rows = [
        {"stage": STAGE_NAMES.get(stage, stage), "seconds": round(seconds, 1)}
        for stage, seconds in run.timings.items()
    ]
    rows.append({"stage": "Total", "seconds": round(sum(run.timings.values()), 1)})
    details = pd.DataFrame(rows)
    details["model"] = ""
    details.loc[details["stage"] == STAGE_NAMES["embed"], "model"] = run.embedder_name or ""
    return details


def recluster_run(run: SegmentationRun, n_segments: int) -> SegmentationRun:
    """The same run with another number of segments: KMeans and profiles only.

    The embedding and the UMAP projection are reused, so this takes about a second.
    """
    segmenter = copy.copy(run.segmenter)
    segmenter.timings_ = dict(run.segmenter.timings_)
    segmenter.recluster(n_segments)
    start = time.perf_counter()
    # A run opened from its folder has not counted its words yet: count once, keep them.
    terms = run.terms if run.terms is not None else count_terms(run.docs)
    profiles = profile_fitted(
        segmenter,
        run.docs,
        run.loaded.frame,
        run.schema,
        run.prepared,
        run.feedback,
        terms,
        run.edited_labels,
    )
    timings = dict(run.timings)
    timings["kmeans"] = segmenter.timings_["kmeans"]
    timings["profile"] = time.perf_counter() - start
    result = replace(
        run.result, labels=segmenter.labels_, coords=segmenter.coords_, profiles=tuple(profiles)
    )
    # A new number of segments is a new segmentation: the kept identities no longer hold.
    return replace(
        run, segmenter=segmenter, result=result, timings=timings, terms=terms, identities=None
    )
