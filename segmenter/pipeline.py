"""The whole segmentation path as stage functions, shared by the CLI and the pages.

``run_segmentation`` strings the stages together for the CLI and the Segments page.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import UMAP_FIT_ROWS, Segmenter, cuda_in_use, expand_to_rows
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import (
    DEFAULT_EMBEDDER,
    FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    EmbeddingCache,
    EmbeddingResult,
    choose_embedder_name,
    embed_texts,
    get_embedder,
    lexical_topics,
)
from segmenter.embedding.teacher import fit_alignment, teacher_rows
from segmenter.errors import InputError
from segmenter.export import (
    SegmentationResult,
    profiles_json,
    results_frame,
    run_sidecar,
    to_csv_bytes,
)
from segmenter.fusion import InputSelection, influence_record
from segmenter.ingest import (
    MISSING_CATEGORY,
    LoadedTable,
    PreparedTable,
    Role,
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
from segmenter.sentiment import (
    FeedbackResult,
    analyse_feedback,
    carry_sentiment,
    classify_text,
    find_sentiment_source,
    learn_from_labels,
    reader_phrases,
    segment_feedback,
    source_labels,
    urgent_flags,
)

Progress = Callable[[str, float], None]
"""Called with a description of the current step and the fraction done (0..1)."""


def _no_progress(_message: str, _fraction: float) -> None:
    return None


def resolve_embedder_name(docs: Sequence[str], config: EmbedConfig) -> str:
    """The registry name to embed with: the configured one, or the automatic choice.

    The automatic choice is MiniLM for mostly Latin-script text and the multilingual model
    otherwise; MiniLM becomes the fast static model in ``"fast"`` mode, and in ``"auto"``
    mode on a CPU when there are at least ``config.fast_min_texts`` distinct texts.
    """
    name = choose_embedder_name(docs) if config.model == "auto" else config.model
    if name != DEFAULT_EMBEDDER or config.mode == "accurate":
        return name
    if config.mode == "fast" or (
        config.model == "auto" and distinct_texts(docs) >= config.fast_min_texts and not has_gpu()
    ):
        return FAST_EMBEDDER
    return name


def distinct_texts(docs: Sequence[str]) -> int:
    """How many different non-empty texts there are to embed."""
    return len({doc for doc in docs if doc.strip()})


CPU_BATCH_SIZE = 64
"""On a CPU, larger batches are no faster (measured 32 to 128) and only pad more."""
GPU_BATCH_SIZE = 512
"""On a GPU, small batches leave it idle between Python calls."""


def has_gpu() -> bool:
    """Whether torch sees a CUDA device (False when torch is not installed)."""
    try:
        import torch  # noqa: PLC0415 - seconds to import; only asked for large tables
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def embedding_note(name: str | None, docs: Sequence[str]) -> str | None:
    """A line telling the user that the fast mode was chosen, and why (else ``None``)."""
    if name != FAST_EMBEDDER:
        return None
    taught = len(teacher_rows(sum(1 for doc in docs if doc.strip())))
    aligned = f" and aligned with MiniLM on {taught:,} of your texts" if taught else ""
    return (
        f"Fast embedding mode for {distinct_texts(docs):,} texts: MiniLM distilled into a "
        f"static model on this machine, joined with topics from your table's own words{aligned}. "
        "About 30 times faster than MiniLM on a CPU, with about 90% of its segment quality; "
        "choose the text model minilm under Settings (or --embed-mode accurate) for the "
        "accurate mode."
    )


def text_features(
    docs: Sequence[str],
    embedding: EmbeddingResult,
    config: EmbedConfig | None = None,
    progress: Progress = _no_progress,
) -> np.ndarray:
    """What the segmenter clusters on: the embedding; for the fast static model, joined with
    lexical topics (each half at unit length, so both weigh the same) and then aligned with
    MiniLM on a sample of the texts (``align_with_teacher``)."""
    if embedding.model_id != get_embedder(FAST_EMBEDDER).model_id:
        return embedding.vectors
    topics = lexical_topics(docs, embedding.has_text)
    features = embedding.vectors
    if topics.shape[1]:
        features = np.hstack([features, topics]) / np.float32(np.sqrt(2.0))
    return align_with_teacher(docs, features, embedding.has_text, config or EmbedConfig(), progress)


def align_with_teacher(
    docs: Sequence[str],
    features: np.ndarray,
    has_text: np.ndarray,
    config: EmbedConfig,
    progress: Progress = _no_progress,
) -> np.ndarray:
    """The fast features with their MiniLM-aligned half (``embedding/teacher.py``), learnt
    from the texts of ``teacher_rows``; unchanged when the table has too few texts."""
    rows = np.flatnonzero(has_text)
    chosen = rows[teacher_rows(len(rows))]
    if not len(chosen):
        return features
    step = f"Aligning the fast model with MiniLM on {len(chosen):,} sampled texts"
    progress(step, 0.0)

    def report(message: str, fraction: float) -> None:  # not the registry's internal name
        progress(f"{step}: {message.rsplit(': ', 1)[-1]}", fraction)

    teacher = embed_documents([docs[int(i)] for i in chosen], TEACHER_EMBEDDER, config, report)
    assert teacher is not None  # the chosen rows have text
    return fit_alignment(features[chosen], teacher.vectors).transform(features)


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
    worth_caching = getattr(embedder, "worth_caching", True)
    use_cache = config.use_cache and worth_caching
    cache = EmbeddingCache(config.cache_dir / "embeddings") if use_cache else None

    def report(done: int, total: int) -> None:
        progress(
            f"Embedding text with {name}: {done:,} of {total:,} new texts", done / max(total, 1)
        )

    batch_size = config.batch_size or (GPU_BATCH_SIZE if has_gpu() else CPU_BATCH_SIZE)
    return embed_texts(docs, embedder, cache=cache, batch_size=batch_size, progress=report)


NO_SENTIMENT = "none"
SENTIMENT_FULL_ROWS = 5_000
"""Above this many rows with text, the sentiment reader reads a sample, not every row: the
multilingual model reads about 350 texts a second on 2 cores (5 minutes at 100k rows, 51 s
at 10k), and the lexicons 5,000-10,000 short texts a second (VADER is pure Python)."""
SENTIMENT_SAMPLE_ROWS = 2_000
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
    Above ``SENTIMENT_FULL_ROWS`` rows with text, only a sample is read and a classifier on
    the segmentation's vectors carries it to the rest (``_sampled_feedback``).
    """
    columns = feedback_columns(schema)
    if embedding is None or not columns or config.sentiment_model == NO_SENTIMENT:
        return None
    if columns != schema.text_columns:
        others: dict[str, Role] = {c: "ignored" for c in schema.text_columns if c not in columns}
        docs = build_documents(frame, schema.with_roles(others))
    candidates = [*schema.numeric_columns, *schema.categorical_columns, *schema.label_columns]
    reuse = embedder_name == config.sentiment_model and columns == schema.text_columns
    if int(embedding.has_text.sum()) > SENTIMENT_FULL_ROWS:
        return _sampled_feedback(docs, embedding, frame, candidates, config, progress, reuse)
    if reuse:
        vectors = embedding
    else:
        embedded = embed_documents(docs, config.sentiment_model, config, progress)
        if embedded is None:
            return None
        vectors = embedded
    return analyse_feedback(
        docs, vectors.vectors, vectors.has_text, reader_vectors(config), frame, candidates
    )


def reader_vectors(config: EmbedConfig) -> np.ndarray:
    """``reader_phrases()`` embedded with the sentiment model (through the cache)."""
    phrases, _ = reader_phrases()
    embedded = embed_documents(phrases, config.sentiment_model, config)
    assert embedded is not None  # the phrases are not empty
    return embedded.vectors


def _sampled_feedback(
    docs: Sequence[str],
    embedding: EmbeddingResult,
    frame: pd.DataFrame,
    candidates: Sequence[str],
    config: EmbedConfig,
    progress: Progress,
    reuse: bool,
) -> FeedbackResult:
    """Sentiment of a large table: a rating column is learnt on the segmentation's vectors;
    otherwise a sample is read (``reuse``: with the segmentation's vectors, which come from
    the sentiment model) and ``carry_sentiment`` does the rest."""
    source = find_sentiment_source(frame, candidates)
    if source.method == "rating":
        try:
            rated = learn_from_labels(
                embedding.vectors, embedding.has_text, source_labels(frame, source), source
            )
            return FeedbackResult(rated, tuple(urgent_flags(docs, list(rated.labels))))
        except InputError:
            pass  # too few of some rating: read a sample with the model, as without one
    rows = sentiment_sample(np.flatnonzero(embedding.has_text))
    sample_docs = [docs[i] for i in rows]
    if reuse:
        sample_vectors = embedding.vectors[rows]
    else:
        embedded = embed_documents(sample_docs, config.sentiment_model, config, progress)
        assert embedded is not None  # sampled rows have text
        sample_vectors = embedded.vectors
    sample = classify_text(
        sample_docs, sample_vectors, np.ones(len(rows), dtype=bool), reader_vectors(config)
    )
    carried = carry_sentiment(sample, rows, embedding.vectors, embedding.has_text)
    return FeedbackResult(carried, tuple(urgent_flags(docs, list(carried.labels))))


def sentiment_sample(with_text: np.ndarray) -> np.ndarray:
    """The rows (sorted) a large table's sentiment is read on: ``SENTIMENT_SAMPLE_ROWS`` of
    ``with_text`` (the row numbers with text), drawn with a fixed seed, so that both engines
    read the same rows."""
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(with_text, min(SENTIMENT_SAMPLE_ROWS, len(with_text)), replace=False))


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
        segment_by=config.segment_by,
        exclude_columns=config.exclude_columns,
        segment_dates=config.segment_dates,
    )


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
    categorical = prepared.categorical.copy()
    for column in schema.label_columns:
        categorical[column] = frame[column].astype(str).replace("", MISSING_CATEGORY)
    return prepared.numeric, categorical


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

    def parameters(self) -> dict[str, Any]:
        """Every setting, model id and timing, for the JSON sidecar."""
        if self.opened_from is not None:
            record = json.loads((self.opened_from / "run.json").read_text(encoding="utf-8"))
            record.pop("library_versions", None)
            record.setdefault("result", {})["n_segments"] = self.segmenter.n_segments_
            record["opened_from"] = str(self.opened_from)
            return dict(record)
        record = run_parameters(
            self.loaded,
            self.schema,
            self.segmenter,
            self.embedding,
            self.embed_config,
            self.timings,
            self.feedback,
        )
        record["labels"] = self.labels
        return record


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
            **influence_record(
                getattr(segmenter, "fusion_", None), getattr(segmenter, "drivers_", {})
            ),
        },
        "feedback": feedback.record() if feedback is not None else None,
        "seconds": {stage: round(seconds, 3) for stage, seconds in timings.items()},
    }


RUN_CACHE_SIZE = 3
"""Finished runs kept in memory per process, so the same table with the same settings comes
back at once (a 100k-row run holds about 300 MB)."""
_runs: OrderedDict[tuple[Any, ...], SegmentationRun] = OrderedDict()
_runs_lock = threading.Lock()


def run_key(
    loaded: LoadedTable, schema: Schema, embed_config: EmbedConfig, cluster_config: ClusterConfig
) -> tuple[Any, ...]:
    """What a run depends on: the table's content (hashed), the roles and the settings.

    Keyed by content, so a cached run answers only someone who has the same table.
    """
    frame = loaded.frame
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(repr(tuple(frame.columns)).encode())
    return (digest.hexdigest(), schema, embed_config, cluster_config)


def clear_run_cache() -> None:
    """Forget every cached run (for tests and benchmarks of cold runs)."""
    with _runs_lock:
        _runs.clear()


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
    with _runs_lock:
        cached = _runs.get(key)
        if cached is not None:
            _runs.move_to_end(key)
    if cached is not None:
        progress("Same table and settings as a recent run: reusing it", 1.0)
        return with_labels(replace(cached, loaded=loaded, reused=True), edited_labels or {})
    run = _run_segmentation(loaded, schema, embed_config, cluster_config, progress)
    with _runs_lock:
        _runs[key] = run
        while len(_runs) > RUN_CACHE_SIZE:
            _runs.popitem(last=False)
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
    features = None
    if embedding is not None and name == FAST_EMBEDDER:
        start = time.perf_counter()
        progress("Learning topics from the table's own words", 0.0)
        features = text_features(docs, embedding, embed_config, progress)
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
    return replace(run, segmenter=segmenter, result=result, timings=timings, terms=terms)


SPACE_FILE = "space.npy"
"""Each row's position in the clustering space (NaN where unsegmented), so that a dashboard
opening the run folder can still change the number of segments."""


def write_outputs(run: SegmentationRun, out_dir: Path) -> dict[str, Path]:
    """Write ``segments.csv``, ``profiles.json``, ``space.npy`` and ``run.json`` into
    ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths = {
        "segments": out_dir / "segments.csv",
        "profiles": out_dir / "profiles.json",
        "space": out_dir / SPACE_FILE,
        "run": out_dir / "run.json",
    }
    frame = results_frame(run.loaded.frame, run.result)
    paths["segments"].write_bytes(to_csv_bytes(frame))
    paths["profiles"].write_text(profiles_json(run.result.profiles), encoding="utf-8")
    space = expand_to_rows(
        run.segmenter.reduction_.cluster_space, run.segmenter.usable_, fill=np.nan
    )
    np.save(paths["space"], space.astype(np.float32))
    run.timings["export"] = time.perf_counter() - start
    paths["run"].write_text(run_sidecar(run.parameters()), encoding="utf-8")
    return paths
