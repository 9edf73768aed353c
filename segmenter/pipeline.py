"""The whole segmentation path as stage functions, shared by the CLI and the pages.

``run_segmentation`` strings the stages together for the CLI; the pages call the
same stage functions one by one through cached wrappers in ``segmenter.ui``.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import Segmenter
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import (
    EmbeddingCache,
    EmbeddingResult,
    choose_embedder_name,
    embed_texts,
    get_embedder,
)
from segmenter.export import (
    SegmentationResult,
    profiles_json,
    results_frame,
    run_sidecar,
    to_csv_bytes,
)
from segmenter.ingest import (
    LoadedTable,
    PreparedTable,
    Role,
    Schema,
    build_documents,
    prepare_columns,
    validate_for_segmentation,
)
from segmenter.offers import next_best_offers, offer_columns
from segmenter.profile import SegmentProfile, distances_to_centres, profile_segments
from segmenter.sentiment import (
    FeedbackResult,
    analyse_feedback,
    prototype_phrases,
    segment_feedback,
)

Progress = Callable[[str, float], None]
"""Called with a description of the current step and the fraction done (0..1)."""


def _no_progress(_message: str, _fraction: float) -> None:
    return None


def resolve_embedder_name(docs: Sequence[str], config: EmbedConfig) -> str:
    """The registry name to embed with: the configured one, or the automatic choice."""
    return choose_embedder_name(docs) if config.model == "auto" else config.model


UMAP_SECONDS_PER_ROW = 0.0056
"""Both UMAP fits on the 2-core benchmark machine (bench/pipeline.py: 561 s at 100k rows)."""
NUMBA_COMPILE_SECONDS = 35
"""numba compiles UMAP's kernels once per process (about 35 s on the same machine)."""


def reduction_estimate(n_rows: int) -> str:
    """A rough duration for the UMAP stage on a 2-core CPU, for progress messages."""
    seconds = NUMBA_COMPILE_SECONDS + UMAP_SECONDS_PER_ROW * n_rows
    if seconds < 90:
        return "usually under a minute and a half"
    return f"about {round(seconds / 60)} minutes for {n_rows:,} rows on 2 cores"


def has_any_text(docs: Sequence[str]) -> bool:
    """Whether at least one row has text to embed."""
    return any(doc.strip() for doc in docs)


def embed_documents(
    docs: Sequence[str], name: str, config: EmbedConfig, progress: Progress = _no_progress
) -> EmbeddingResult | None:
    """Embed the documents with embedder ``name`` (``None`` when no row has text),
    through the on-disk cache."""
    if not has_any_text(docs):
        return None
    embedder = get_embedder(name)
    cache = EmbeddingCache(config.cache_dir / "embeddings") if config.use_cache else None

    def report(done: int, total: int) -> None:
        progress(
            f"Embedding text with {name}: {done:,} of {total:,} new texts", done / max(total, 1)
        )

    return embed_texts(docs, embedder, cache=cache, batch_size=config.batch_size, progress=report)


NO_SENTIMENT = "none"
PRODUCT_LIST_COLUMN = re.compile(
    r"(?i)(?:^|[^a-z])(?:products?|items?|skus?|purchases|bought|basket|categories)(?:$|[^a-z])"
)
"""Text columns named like lists of things bought: embedded, but they carry no sentiment."""


def feedback_columns(schema: Schema) -> list[str]:
    """The text columns that hold what customers wrote: product lists are left out."""
    return [c for c in schema.text_columns if not PRODUCT_LIST_COLUMN.search(c)]


def feedback_stage(
    docs: Sequence[str],
    embedding: EmbeddingResult | None,
    embedder_name: str | None,
    frame: pd.DataFrame,
    schema: Schema,
    config: EmbedConfig,
    progress: Progress = _no_progress,
) -> FeedbackResult | None:
    """Sentiment and urgent flags for every row with text (``None`` without feedback text,
    or when ``config.sentiment_model`` is ``"none"``).

    Only feedback columns are read (a column of products bought has no sentiment). The
    segmentation's own vectors are reused when they come from the sentiment model and
    cover the same columns; otherwise the texts are embedded with it (through the cache).
    """
    columns = feedback_columns(schema)
    if embedding is None or not columns or config.sentiment_model == NO_SENTIMENT:
        return None
    if columns != schema.text_columns:
        others: dict[str, Role] = {c: "ignored" for c in schema.text_columns if c not in columns}
        docs = build_documents(frame, schema.with_roles(others))
    if embedder_name == config.sentiment_model and columns == schema.text_columns:
        vectors = embedding
    else:
        embedded = embed_documents(docs, config.sentiment_model, config, progress)
        if embedded is None:
            return None
        vectors = embedded
    phrases, _ = prototype_phrases()
    prototypes = embed_documents(phrases, config.sentiment_model, config)
    assert prototypes is not None  # the phrases are not empty
    candidates = [*schema.numeric_columns, *schema.categorical_columns, *schema.label_columns]
    return analyse_feedback(
        docs, vectors.vectors, vectors.has_text, prototypes.vectors, frame, candidates
    )


def make_segmenter(config: ClusterConfig) -> Segmenter:
    """A Segmenter estimator with the settings of ``config``."""
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
    )


def fit_segmenter(
    embedding: EmbeddingResult | None, prepared: PreparedTable, config: ClusterConfig
) -> Segmenter:
    """Fuse, reduce and cluster: the fitted estimator holds labels and map coordinates."""
    segmenter = make_segmenter(config)
    if embedding is None:
        return segmenter.fit(None, numeric=prepared.numeric, categorical=prepared.categorical)
    return segmenter.fit(
        embedding.vectors,
        embedding.has_text,
        numeric=prepared.numeric,
        categorical=prepared.categorical,
    )


def profile_inputs(
    frame: pd.DataFrame, schema: Schema, prepared: PreparedTable
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric and categorical columns to profile; label columns count as categories."""
    categorical = prepared.categorical.copy()
    for column in schema.label_columns:
        categorical[column] = frame[column].astype(str).replace("", "(missing)")
    return prepared.numeric, categorical


def profile_fitted(
    segmenter: Segmenter,
    docs: Sequence[str],
    frame: pd.DataFrame,
    schema: Schema,
    prepared: PreparedTable,
    feedback: FeedbackResult | None = None,
) -> list[SegmentProfile]:
    """Profiles for the segments of a fitted Segmenter, with offers and feedback."""
    numeric, categorical = profile_inputs(frame, schema, prepared)
    space = np.full((len(frame), segmenter.reduction_.cluster_space.shape[1]), np.nan)
    space[segmenter.usable_] = segmenter.reduction_.cluster_space
    distances = distances_to_centres(space, segmenter.labels_, segmenter.assignment_.centers)
    profiles = profile_segments(docs, segmenter.labels_, numeric, categorical, distances=distances)
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

    def parameters(self) -> dict[str, Any]:
        """Every setting, model id and timing, for the JSON sidecar."""
        return run_parameters(
            self.loaded,
            self.schema,
            self.segmenter,
            self.embedding,
            self.embed_config,
            self.timings,
            self.feedback,
        )


def run_parameters(
    loaded: LoadedTable,
    schema: Schema,
    segmenter: Segmenter,
    embedding: EmbeddingResult | None,
    embed_config: EmbedConfig,
    timings: dict[str, float],
    feedback: FeedbackResult | None = None,
) -> dict[str, Any]:
    """The sidecar record of one run (the UI and the CLI write the same fields)."""
    k_choice = segmenter.k_choice_
    return {
        "input": {
            "filename": loaded.report.filename,
            "rows": loaded.report.n_rows,
            "columns": loaded.report.n_columns,
            "encoding": loaded.report.encoding,
            "delimiter": loaded.report.delimiter,
            "notes": list(loaded.report.notes),
        },
        "schema": schema.to_dict(),
        "embedding": {
            "model_id": embedding.model_id if embedding else None,
            "requested": embed_config.model,
            "texts_embedded": embedding.n_computed if embedding else 0,
            "texts_from_cache": embedding.n_cached if embedding else 0,
        },
        "segmenter": segmenter.get_params(),
        "result": {
            "n_segments": segmenter.n_segments_,
            "silhouette": segmenter.silhouette_,
            "k_choice": {
                "k": k_choice.k,
                "reason": k_choice.reason,
                "silhouettes": k_choice.silhouettes,
                "smallest_segment": k_choice.smallest_segment,
                "largest_share": k_choice.largest_share,
            },
            "reduction": segmenter.reduction_.method,
            "text_weight_applied": segmenter.text_weight_,
            "unsegmented_rows": int((segmenter.labels_ < 0).sum()),
        },
        "feedback": feedback.record() if feedback is not None else None,
        "seconds": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }


def run_segmentation(
    loaded: LoadedTable,
    schema: Schema,
    embed_config: EmbedConfig,
    cluster_config: ClusterConfig,
    progress: Progress = _no_progress,
) -> SegmentationRun:
    """Prepare, embed, segment and profile one table.

    Raises:
        SegmenterError: on input that cannot be segmented, with a message for the user.
    """
    frame = loaded.frame
    validate_for_segmentation(frame, schema)
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

    start = time.perf_counter()
    progress("Reading the sentiment of the feedback", 0.0)
    feedback = feedback_stage(docs, embedding, name, frame, schema, embed_config, progress)
    timings["sentiment"] = time.perf_counter() - start

    progress(f"Reducing and clustering: {reduction_estimate(len(frame))}", 0.5)
    segmenter = fit_segmenter(embedding, prepared, cluster_config)
    timings.update(segmenter.timings_)

    start = time.perf_counter()
    progress("Profiling segments", 0.0)
    profiles = profile_fitted(segmenter, docs, frame, schema, prepared, feedback)
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
    )


def recluster_run(run: SegmentationRun, n_segments: int) -> SegmentationRun:
    """The same run with another number of segments: KMeans and profiles only.

    The embedding and the UMAP projection are reused, so this takes about a second.
    """
    segmenter = copy.copy(run.segmenter)
    segmenter.timings_ = dict(run.segmenter.timings_)
    segmenter.recluster(n_segments)
    start = time.perf_counter()
    profiles = profile_fitted(
        segmenter, run.docs, run.loaded.frame, run.schema, run.prepared, run.feedback
    )
    timings = dict(run.timings)
    timings["kmeans"] = segmenter.timings_["kmeans"]
    timings["profile"] = time.perf_counter() - start
    result = replace(
        run.result, labels=segmenter.labels_, coords=segmenter.coords_, profiles=tuple(profiles)
    )
    return replace(run, segmenter=segmenter, result=result, timings=timings)


def write_outputs(run: SegmentationRun, out_dir: Path) -> dict[str, Path]:
    """Write ``segments.csv``, ``profiles.json`` and ``run.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths = {
        "segments": out_dir / "segments.csv",
        "profiles": out_dir / "profiles.json",
        "run": out_dir / "run.json",
    }
    frame = results_frame(run.loaded.frame, run.result)
    paths["segments"].write_bytes(to_csv_bytes(frame))
    paths["profiles"].write_text(profiles_json(run.result.profiles), encoding="utf-8")
    run.timings["export"] = time.perf_counter() - start
    paths["run"].write_text(run_sidecar(run.parameters()), encoding="utf-8")
    return paths
