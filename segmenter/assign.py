"""Place a new table's customers on a saved map and into its saved segments.

``assign_table`` checks the new table against the saved model (``saved_model``), prepares,
embeds and fuses it as the fitted table was, places each row from its nearest learnt rows
(a customer the model learnt from, with the same ID and values, gets its own position back),
gives it the nearest segment centre, and checks how well it fits. ``write_assigned`` writes
a run folder that the dashboard opens like any other.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.config import EmbedConfig
from segmenter.embed_stage import Progress, embed_documents, no_progress
from segmenter.embedding import get_embedder
from segmenter.errors import InputError
from segmenter.export import SegmentationResult, profiles_json, results_frame, to_csv_bytes
from segmenter.fusion import OTHER_CATEGORY
from segmenter.ingest import LoadedTable, Schema, build_documents, prepare_columns
from segmenter.ingest.values import MISSING_CATEGORY, parse_dates, parse_numbers
from segmenter.labels import column_labels
from segmenter.profile import SegmentProfile, profile_segments
from segmenter.run_folder import PROFILES_FILE, SEGMENTS_FILE, SPACE_FILE
from segmenter.run_record import RunRecord
from segmenter.saved_model import FIT_QUANTILE, MODEL_DIR, SegmentationModel, content_digests

UNSEGMENTED = -1
RESEGMENT_SHARE = 0.05
"""Above this share of poorly fitting rows the summary suggests segmenting anew: on the
fitted table itself about 1-2% fit poorly by construction (``FIT_QUANTILE``), so five in a
hundred means the new customers are unlike the old ones."""
SIZE_CHANGE_POINTS = 5.0
"""A segment's share moving by this many percentage points is called growing or shrinking."""
TYPE_MISMATCH_SHARE = 0.5
"""A numeric or date column where fewer than half the filled cells read as such has another
type than when the segments were made."""
ID_MATCH_TOLERANCE = 1e-4
"""A row with a learnt row's ID gets that row's own position only when its features are the
learnt row's (within this distance): a customer whose data changed is placed anew."""


@dataclass(frozen=True)
class SegmentChange:
    """One saved segment's share of the fitted table and of the new one."""

    segment_id: int
    name: str
    saved_share: float
    new_share: float
    new_customers: int

    @property
    def trend(self) -> str:
        points = 100 * (self.new_share - self.saved_share)
        if points >= SIZE_CHANGE_POINTS:
            return "grows"
        if points <= -SIZE_CHANGE_POINTS:
            return "shrinks"
        return "steady"


def poor_share(labels: np.ndarray, fits_poorly: np.ndarray) -> float:
    """The share of the segmented rows that fit poorly."""
    segmented = labels >= 0
    return float(fits_poorly[segmented].mean()) if segmented.any() else 0.0


def segment_changes(model: SegmentationModel, labels: np.ndarray) -> list[SegmentChange]:
    """Each saved segment's share of the fitted table and of the new one."""
    total_saved = max(sum(model.sizes), 1)
    segmented = labels[labels >= 0]
    total = max(len(segmented), 1)
    changes = []
    for segment, size in zip(model.segment_ids, model.sizes, strict=True):
        count = int((segmented == segment).sum())
        name = model.names.get(segment, f"Segment {segment}")
        changes.append(SegmentChange(segment, name, size / total_saved, count / total, count))
    return changes


def fit_verdict(share: float) -> str:
    """One line on the fit check: how many fit poorly, and whether to segment anew."""
    line = (
        f"{share:.0%} of the new customers fit the saved segments poorly (further from "
        f"their segment's centre or from every earlier customer than "
        f"{FIT_QUANTILE:.0%} of the customers the segments were made from)"
    )
    if share > RESEGMENT_SHARE:
        return f"{line}: the customers have changed; consider segmenting this table anew."
    return f"{line}: the saved segments still describe these customers."


@dataclass(frozen=True)
class Assigned:
    """A new table placed with a saved model: per row its segment, position, distance to
    the segment's centre and whether it fits poorly; the notes and the fit check."""

    loaded: LoadedTable
    model: SegmentationModel
    labels: np.ndarray
    coords: np.ndarray
    space: np.ndarray
    distance: np.ndarray
    fits_poorly: np.ndarray
    known: np.ndarray
    """Rows recognised as customers the model learnt from (same ID and values)."""
    profiles: tuple[SegmentProfile, ...]
    notes: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def poor_share(self) -> float:
        """The share of the segmented rows that fit poorly."""
        return poor_share(self.labels, self.fits_poorly)

    def changes(self) -> list[SegmentChange]:
        """Each saved segment's share then and now."""
        return segment_changes(self.model, self.labels)

    def verdict(self) -> str:
        """One line on the fit check: how many fit poorly, and whether to segment anew."""
        return fit_verdict(self.poor_share)

    def result(self) -> SegmentationResult:
        return SegmentationResult(
            labels=self.labels,
            coords=self.coords,
            profiles=self.profiles,
            row_columns=fit_columns(self.distance, self.fits_poorly),
        )

    def frame(self) -> pd.DataFrame:
        """Every input row with its original columns, then ``segment_id``, ``segment_name``,
        ``x``, ``y``, ``distance`` and ``fits_poorly``."""
        return results_frame(self.loaded.frame, self.result())


def fit_columns(distance: np.ndarray, fits_poorly: np.ndarray) -> dict[str, np.ndarray]:
    """The fit check's columns of the export (distance blank for unsegmented rows)."""
    shown = np.where(np.isfinite(distance), np.round(distance, 5), np.nan)
    return {"distance": shown, "fits_poorly": np.asarray(fits_poorly, dtype=bool)}


def check_table(loaded: LoadedTable, model: SegmentationModel) -> list[str]:
    """Notes on how the new table differs from the fitted one, where the difference can be
    handled.

    Raises:
        InputError: a column the segments are built on is missing or holds another type.
    """
    frame, schema, fusion = loaded.frame, model.schema, model.fusion
    used = model.used_columns
    missing = [c for c in schema.columns if c.name in used and c.name not in frame.columns]
    if missing:
        names = ", ".join(repr(c.name) for c in missing)
        raise InputError(
            f"The new table lacks {names}, which the saved segments are built on: add the "
            "column(s) with the same name, or segment this table anew."
        )
    notes = []
    for column in schema.columns:
        if column.name not in frame.columns or column.name not in used:
            continue
        cells = frame[column.name].astype(str).str.strip()
        filled = cells[(cells != "") & ~cells.str.lower().isin(("nan", "n/a", "na", "-"))]
        if column.role in ("numeric", "date") and len(filled):
            if column.role == "numeric":
                readable = parse_numbers(filled)[0].notna().mean()
            else:
                reading = model.dates.get(column.name)
                readable = parse_dates(filled, reading.dayfirst if reading else None).notna().mean()
            if readable < TYPE_MISMATCH_SHARE:
                example = filled.iloc[0][:30]
                kind = "numbers" if column.role == "numeric" else "dates"
                raise InputError(
                    f"Column {column.name!r} held {kind} "
                    f"when the segments were made, but most of its cells here do not (e.g. "
                    f"{example!r}): fix the column, or segment this table anew."
                )
    for name, levels in fusion.categories:
        values = frame[name].astype(str).str.strip()
        unseen = values[~values.isin(levels) & (values != "") & (values != MISSING_CATEGORY)]
        if len(unseen) and OTHER_CATEGORY in levels:
            top = ", ".join(repr(v) for v in unseen.value_counts().index[:3])
            notes.append(
                f"{name}: {len(unseen):,} rows have values the saved segments did not "
                f"separate ({top}); they count as the other, rarer values did."
            )
        elif len(unseen):
            top = ", ".join(repr(v) for v in unseen.value_counts().index[:3])
            notes.append(
                f"{name}: {len(unseen):,} rows have values the saved segments never saw "
                f"({top}); they are placed by their other columns."
            )
    if schema.id_column and schema.id_column not in frame.columns:
        notes.append(
            f"No ID column {schema.id_column!r}: rows are numbered instead, and no customer "
            "is recognised as one the segments were made from."
        )
    extra = [c for c in frame.columns if c not in {col.name for col in schema.columns}]
    if extra:
        notes.append(
            "Columns the saved segments do not use are kept as they are: "
            f"{', '.join(map(str, extra[:5]))}."
        )
    encoding = model.made_by.get("encoding")
    if (
        encoding
        and loaded.report.encoding
        and loaded.report.encoding.lower() != str(encoding).lower()
    ):
        notes.append(
            f"This file was read as {loaded.report.encoding}, the segments' file as {encoding}: "
            "check that accented letters read right."
        )
    return notes


def _schema_for(loaded: LoadedTable, model: SegmentationModel) -> Schema:
    """The saved schema, less the columns the new table lacks (``check_table`` has made sure
    none of them is one the segments are built on; without the ID column rows are numbered)."""
    present = set(loaded.frame.columns)
    return Schema(tuple(c for c in model.schema.columns if c.name in present))


def _text_features(
    docs: Sequence[str], model: SegmentationModel, config: EmbedConfig, progress: Progress
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if model.embedder is None or not model.fusion.text_dims:
        return None, None
    check_embedder(model)
    embedding = embed_documents(docs, model.embedder, config, progress)
    if embedding is None:  # no row has text: every row is placed by its columns
        width = len(model.fusion.text_fill) if model.fusion.text_fill is not None else 0
        return np.zeros((len(docs), width), np.float32), np.zeros(len(docs), bool)
    features = model_text_features(docs, model, config, embedding.vectors, embedding.has_text)
    return features, embedding.has_text


def known_positions(model: SegmentationModel, ids: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """Per fused row, the position of the learnt row with its ID and features (-1: none)."""
    positions = np.full(len(ids), -1, dtype=np.int64)
    index = {identifier: j for j, identifier in enumerate(model.sample_ids)}
    candidates = [(r, index[i]) for r, i in enumerate(ids) if i in index]
    if not candidates:
        return positions
    rows = np.array([r for r, _ in candidates])
    learnt = np.array([j for _, j in candidates])
    projected = model.reduction.project(fused[rows])
    same = np.linalg.norm(projected - model.reduction.sample_space[learnt], axis=1)
    keep = same <= ID_MATCH_TOLERANCE
    positions[rows[keep]] = model.reduction.sample[learnt[keep]]
    return positions


def predict_segments(centres: np.ndarray, space: np.ndarray) -> np.ndarray:
    """The nearest centre of each row, by scikit-learn's KMeans arithmetic (which gave the
    fitted rows their labels), so that the fitted table gets its own segments back."""
    from sklearn.cluster import KMeans  # noqa: PLC0415
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads  # noqa: PLC0415

    if not len(space):
        return np.zeros(0, dtype=np.int64)
    kmeans = KMeans(n_clusters=len(centres), n_init=1)
    kmeans.cluster_centers_ = np.ascontiguousarray(centres, dtype=space.dtype)
    kmeans.n_features_in_ = centres.shape[1]
    kmeans._n_threads = _openmp_effective_n_threads()
    return np.asarray(kmeans.predict(space), dtype=np.int64)


@dataclass(frozen=True)
class PlacedRows:
    """Fused rows placed with a saved model: each one's segment, coordinates, distance to
    its segment's centre, whether it fits poorly and whether it is a learnt customer."""

    segments: np.ndarray
    cluster_space: np.ndarray
    map_coords: np.ndarray
    distance: np.ndarray
    fits_poorly: np.ndarray
    known: np.ndarray


def place_fused(model: SegmentationModel, fused: np.ndarray, ids: np.ndarray) -> PlacedRows:
    """Place fused rows (with their IDs) on the saved map and into the saved segments; both
    engines call this on every row, the Ray engine batch by batch."""
    positions = known_positions(model, ids, fused)
    placed, nearest = model.reduction.locate(fused, positions)
    rows = predict_segments(model.centres, placed.cluster_space)
    distance = np.linalg.norm(placed.cluster_space - model.centres[rows], axis=1)
    poorly = (distance > model.centre_limits[rows]) | (nearest > model.neighbour_limit)
    segments = np.asarray(model.segment_ids, dtype=np.int64)[rows]
    return PlacedRows(
        segments, placed.cluster_space, placed.map_coords, distance, poorly, positions >= 0
    )


def model_text_features(
    docs: Sequence[str],
    model: SegmentationModel,
    config: EmbedConfig,
    vectors: np.ndarray | None,
    has_text: np.ndarray | None,
) -> np.ndarray | None:
    """The features the saved segments read from text, given the texts' vectors from
    ``model.embedder``: the vectors, or the fast mode's features of them."""
    if vectors is None or has_text is None or model.text_model is None:
        return vectors
    return model.text_model.features(docs, vectors, has_text)


def check_embedder(model: SegmentationModel) -> None:
    """Raise ``InputError`` when this installation's model under the saved name is not the
    one the segments were made with."""
    if model.embedder is None:
        return
    embedder = get_embedder(model.embedder)
    if model.embedder_model_id and embedder.model_id != model.embedder_model_id:
        raise InputError(
            f"The saved segments read text with {model.embedder_model_id}, and this "
            f"installation has {embedder.model_id} under that name: segment this table anew."
        )


def assign_table(
    loaded: LoadedTable,
    model: SegmentationModel,
    embed_config: EmbedConfig | None = None,
    progress: Progress = no_progress,
) -> Assigned:
    """Place every row of ``loaded`` with ``model``: rows out equal rows in, a row with
    nothing usable is left unsegmented (-1).

    Raises:
        InputError: the table lacks a column the segments are built on, or holds another
            type in it; one line saying which and what to do.
    """
    config = embed_config or EmbedConfig()
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    notes = check_table(loaded, model)
    frame = loaded.frame
    schema = _schema_for(loaded, model)
    prepared = prepare_columns(frame, schema, dates=dict(model.dates))
    docs = build_documents(frame, schema)
    seconds["prepare"] = time.perf_counter() - start

    present = [c for c in model.used_columns if c in frame.columns]
    found = model.known.find(content_digests(frame, prepared.ids, present))
    rest = np.flatnonzero(found < 0)
    unchanged = len(frame) - len(rest)
    if unchanged:
        notes.append(
            f"{unchanged:,} customers are unchanged since the segments were made (same ID "
            "and values): they keep their segment and place."
        )

    start = time.perf_counter()
    progress("Reading the text as the saved segments did", 0.1)
    new_docs = [docs[int(i)] for i in rest]
    vectors, has_text = _text_features(new_docs, model, config, progress)
    if has_text is not None and model.fusion.text_dims:
        empty = int((~has_text).sum())
        if empty == len(new_docs):
            notes.append("No new row has text: they are placed by the other columns.")
        elif empty:
            notes.append(f"{empty:,} rows have no text and are placed by the other columns.")
    seconds["embed"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Placing the customers on the saved map", 0.7)
    fused, usable_rest = model.fusion.transform(
        vectors, has_text, prepared.numeric.iloc[rest], prepared.categorical.iloc[rest]
    )
    placed = place_fused(model, fused, prepared.ids.to_numpy()[rest][usable_rest])
    n = len(frame)
    dims, map_dims = model.centres.shape[1], model.known.coords.shape[1] or 2
    labels = np.full(n, UNSEGMENTED, dtype=np.int64)
    coords = np.full((n, placed.map_coords.shape[1] if len(rest) else map_dims), np.nan, np.float32)
    space = np.full((n, dims), np.nan, dtype=np.float32)
    distance = np.full(n, np.inf)
    poorly = np.zeros(n, dtype=bool)
    known = found >= 0
    placed_rows = rest[usable_rest]
    labels[placed_rows] = placed.segments
    coords[placed_rows] = placed.map_coords
    space[placed_rows] = placed.cluster_space
    distance[placed_rows] = placed.distance
    poorly[placed_rows] = placed.fits_poorly
    known[placed_rows] |= placed.known
    kept = np.flatnonzero(found >= 0)
    labels[kept] = model.known.segments[found[kept]]
    coords[kept] = model.known.coords[found[kept]]
    space[kept] = model.known.space[found[kept]]
    segmented = kept[labels[kept] >= 0]
    if len(segmented):
        rows = np.searchsorted(model.segment_ids, labels[segmented])
        distance[segmented] = np.linalg.norm(space[segmented] - model.centres[rows], axis=1)
    unusable = int((labels < 0).sum())
    if unusable:
        notes.append(f"{unusable:,} rows have no usable value and are left unsegmented.")
    seconds["place"] = time.perf_counter() - start

    start = time.perf_counter()
    progress("Profiling the segments of the new table", 0.9)
    profiles = _profiles(docs, labels, distance, prepared, model)
    seconds["profile"] = time.perf_counter() - start
    return Assigned(
        loaded,
        model,
        labels,
        coords,
        space,
        distance,
        poorly,
        known,
        tuple(profiles),
        tuple(notes),
        seconds,
    )


def _profiles(
    docs: Sequence[str],
    labels: np.ndarray,
    distance: np.ndarray,
    prepared: Any,
    model: SegmentationModel,
) -> list[SegmentProfile]:
    """The new table's profiles, under the saved segments' numbers and names."""
    from dataclasses import replace  # noqa: PLC0415

    schema = model.schema
    categorical = prepared.categorical
    profiles = profile_segments(
        docs,
        labels,
        prepared.numeric,
        categorical,
        distances=distance,
        column_labels=column_labels([c.name for c in schema.columns]),
        unnamed=schema.label_columns,
    )
    return [replace(p, name=model.names.get(p.segment_id, p.name)) for p in profiles]


def write_assigned(assigned: Assigned, source_run: Path, out_dir: Path) -> dict[str, Path]:
    """A run folder for the assigned table (``segments.csv``, ``profiles.json``,
    ``space.npy``, ``run.json`` naming the model used, and the model itself), which the
    dashboard opens like any run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "segments": out_dir / SEGMENTS_FILE,
        "profiles": out_dir / PROFILES_FILE,
        "space": out_dir / SPACE_FILE,
    }
    paths["segments"].write_bytes(to_csv_bytes(assigned.frame()))
    paths["profiles"].write_text(profiles_json(assigned.profiles), encoding="utf-8")
    np.save(paths["space"], assigned.space)
    paths["model"] = copy_model(source_run, out_dir)
    report = assigned.loaded.report
    summary = assign_record(
        assigned.model,
        source_run,
        assigned.labels,
        assigned.fits_poorly,
        assigned.known,
        assigned.notes,
    )
    input_record = {
        "filename": report.filename,
        "rows": report.n_rows,
        "columns": report.n_columns,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "notes": list(report.notes),
    }
    record = assigned_run_record(
        assigned.model, source_run, input_record, assigned.seconds, summary
    )
    paths["run"] = record.write(out_dir)
    return paths


def copy_model(source_run: Path, out_dir: Path) -> Path:
    """The saved model, copied into the assigned run's folder so it can be used again."""
    target = out_dir / MODEL_DIR
    if source_run.resolve() != out_dir.resolve():
        shutil.copytree(source_run / MODEL_DIR, target, dirs_exist_ok=True)
    return target


def assigned_run_record(
    model: SegmentationModel,
    source_run: Path,
    input_record: dict[str, Any],
    seconds: dict[str, float],
    summary: dict[str, Any],
    engine: dict[str, Any] | None = None,
) -> RunRecord:
    """``run.json`` of an assigned table: the source run's settings, the model used and the
    fit check (``summary``, from ``assign_record``)."""
    source = RunRecord.read(source_run)
    kept = ("reduction", "text_weight_applied")
    return RunRecord(
        input=input_record,
        schema=model.schema.to_dict(),
        embedding={"model_id": model.embedder_model_id, "requested": model.embedder},
        segmenter=source.segmenter,
        result={
            **{k: v for k, v in source.result.items() if k in kept},
            "n_segments": model.n_segments,
            "unsegmented_rows": summary["unsegmented_rows"],
        },
        seconds=RunRecord.seconds_of(seconds),
        labels=source.labels,
        engine=engine,
        extra={"assigned": summary},
    )


def assign_record(
    model: SegmentationModel,
    source_run: Path,
    labels: np.ndarray,
    fits_poorly: np.ndarray,
    known: np.ndarray,
    notes: Sequence[str],
) -> dict[str, Any]:
    """``run.json``'s account of an assignment: the model used, the fit check, the changes."""
    share = poor_share(labels, fits_poorly)
    return {
        "model": {"run": str(source_run), "made_by": dict(model.made_by)},
        "rows": int(len(labels)),
        "unsegmented_rows": int((labels < 0).sum()),
        "recognised_customers": int(known.sum()),
        "fits_poorly": int(fits_poorly.sum()),
        "fits_poorly_share": round(share, 4),
        "verdict": fit_verdict(share),
        "segments": [
            {
                "segment_id": c.segment_id,
                "segment_name": c.name,
                "saved_share": round(c.saved_share, 4),
                "new_share": round(c.new_share, 4),
                "customers": c.new_customers,
                "trend": c.trend,
            }
            for c in segment_changes(model, labels)
        ],
        "notes": list(notes),
    }
