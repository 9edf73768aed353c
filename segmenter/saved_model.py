"""A segmentation saved in its run folder, to place new customers into it later (``assign``).

``model/model.json`` holds every setting, name and text value; ``model/arrays.npz`` the
numbers (see ``model_codec``). Reading never runs code: the JSON is parsed, the arrays are
loaded with ``allow_pickle=False``, and both are checked against a digest written with them,
so a truncated, damaged or edited model is refused with one line instead of being half used.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segmenter.embed_stage import FastTextModel
from segmenter.errors import InputError
from segmenter.export import library_versions
from segmenter.fusion import FusionModel
from segmenter.ingest import Schema
from segmenter.ingest.prepare import DATE_FEATURE_SUFFIX, DateReading
from segmenter.ingest.values import day_first, parse_dates
from segmenter.model_codec import (
    DamagedModelError,
    Packer,
    Unpacker,
    pack_alignment,
    pack_fusion,
    pack_lexical,
    pack_reduction,
    unpack_alignment,
    unpack_fusion,
    unpack_lexical,
    unpack_reduction,
)
from segmenter.reduce import SampledReduction, nearest_sampled

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

MODEL_DIR = "model"
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
MODEL_FORMAT = 1
"""Raised whenever what is saved changes meaning; a model of another format is refused with
the version that made it (there is no older format yet to convert)."""
FIT_QUANTILE = 0.99
"""A new row fits poorly when it lies further from its segment's centre, or from every
customer the model learnt from, than 99% of the fitted customers did."""


@dataclass(frozen=True)
class KnownRows:
    """Every row of the fitted table by the digest of its ID and the cells the segments
    read (``content_digests``; sorted, one per digest): its segment and place. A customer
    whose row has not changed gets these back without being embedded or placed again."""

    digests: np.ndarray  # uint64, sorted, unique
    segments: np.ndarray  # int, -1 unsegmented
    space: np.ndarray  # (n, cluster dims) float32, NaN unsegmented
    coords: np.ndarray  # (n, map dims) float32, NaN unsegmented

    @classmethod
    def of(
        cls, digests: np.ndarray, segments: np.ndarray, space: np.ndarray, coords: np.ndarray
    ) -> KnownRows:
        """The rows, one per digest (the first of identical rows)."""
        unique, first = np.unique(digests, return_index=True)
        return cls(unique, segments[first], space[first], coords[first])

    def find(self, digests: np.ndarray) -> np.ndarray:
        """The position of each digest among the known rows, -1 where it is not one."""
        if not len(self.digests):
            return np.full(len(digests), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.digests, digests), len(self.digests) - 1)
        return np.where(self.digests[at] == digests, at, -1).astype(np.int64)


def no_known_rows(cluster_dims: int, map_dims: int) -> KnownRows:
    """An empty table of known rows (a Ray run keeps none)."""
    return KnownRows(
        np.zeros(0, np.uint64),
        np.zeros(0, np.int64),
        np.zeros((0, cluster_dims), np.float32),
        np.zeros((0, map_dims), np.float32),
    )


def content_digests(frame: pd.DataFrame, ids: pd.Series, columns: list[str]) -> np.ndarray:
    """A 64-bit digest per row of its ID and its cells in ``columns`` (as text)."""
    cells = pd.DataFrame({"id": ids.astype(str).to_numpy()})
    for i, column in enumerate(columns):
        cells[f"c{i}"] = frame[column].astype(str).to_numpy()
    return pd.util.hash_pandas_object(cells, index=False).to_numpy(np.uint64)


@dataclass(frozen=True)
class SegmentationModel:
    """Everything needed to place new rows on a saved map and into its segments."""

    schema: Schema
    dates: Mapping[str, DateReading]
    embedder: str | None
    """The registry name the texts were embedded with (``None``: no text was used)."""
    embedder_model_id: str | None
    text_model: FastTextModel | None
    fusion: FusionModel
    reduction: SampledReduction
    sample_ids: tuple[str, ...]
    """The IDs of the rows UMAP learnt from (``reduction.sample``), so that assigning the
    fitted table gives each of them its own position back."""
    centres: np.ndarray
    """(segments, cluster dims): row ``i`` is the centre of segment ``segment_ids[i]``."""
    segment_ids: tuple[int, ...]
    """The segments' numbers, which need not run 0..k-1: a run that kept the numbers of an
    earlier one (``identities``) may leave gaps."""
    names: Mapping[int, str]
    sizes: tuple[int, ...]
    centre_limits: np.ndarray
    """Per centre row, the ``FIT_QUANTILE`` of its fitted rows' distances to the centre."""
    neighbour_limit: float
    """The ``FIT_QUANTILE`` of the distance from a fitted row to its nearest learnt row."""
    known: KnownRows
    made_by: Mapping[str, Any] = field(default_factory=dict)
    """App and library versions, engine, source file and rows."""

    @property
    def n_segments(self) -> int:
        return len(self.centres)

    @property
    def used_columns(self) -> list[str]:
        """The table's columns the segments are built on (in the schema's order)."""
        return used_columns(self.schema, self.fusion)


def used_columns(schema: Schema, fusion: FusionModel) -> list[str]:
    """The table's columns a fusion reads (in the schema's order): its numeric and date
    sources, its categories, and the text columns when text counts."""
    numeric = fusion.numeric.columns if fusion.numeric is not None else ()
    used = {c.removesuffix(DATE_FEATURE_SUFFIX) for c in numeric}
    used |= {c for c, _ in fusion.categories}
    if fusion.text_dims:
        used |= set(schema.text_columns)
    return [c.name for c in schema.columns if c.name in used]


def date_readings(frame: pd.DataFrame, schema: Schema) -> dict[str, DateReading]:
    """How the fitted table's dates were read (day first or not, days from which date), so
    that a new table's dates give the same day numbers."""
    readings = {}
    for column in schema.date_columns:
        text = frame[column].astype(str)
        dayfirst = day_first(text)
        earliest = parse_dates(frame[column], dayfirst).min()
        readings[column] = DateReading(dayfirst, None if pd.isna(earliest) else earliest)
    return readings


def centre_limits(distances: np.ndarray, labels: np.ndarray, n_segments: int) -> np.ndarray:
    """Per segment, the ``FIT_QUANTILE`` of its fitted rows' distances to its centre."""
    return np.array(
        [
            np.quantile(distances[labels == s], FIT_QUANTILE) if (labels == s).any() else 0.0
            for s in range(n_segments)
        ]
    )


def neighbour_limit(reduction: SampledReduction) -> float:
    """The ``FIT_QUANTILE`` of the distance from each learnt row to its nearest other learnt
    row: how far a row like the fitted ones is at most from its nearest neighbour."""
    learnt = reduction.sample_space
    if len(learnt) < 3:
        return float("inf")
    nearest, _ = nearest_sampled(learnt, learnt, 2)
    return float(np.quantile(nearest[:, 1], FIT_QUANTILE))


def model_of_run(run: SegmentationRun) -> SegmentationModel | None:
    """The saved model of a local run; ``None`` for a run opened from a folder, whose
    fitted pieces were not kept (its folder has its model already)."""
    segmenter = run.segmenter
    fusion = getattr(segmenter, "fusion_", None)
    reduction = getattr(segmenter, "reduction_model_", None)
    if fusion is None or reduction is None:
        return None
    ids = run.prepared.ids.to_numpy()[segmenter.usable_]
    labels = np.asarray(segmenter.assignment_.labels)
    segment_ids = np.unique(labels)  # kept numbers may leave gaps (``identities``)
    centres = np.asarray(segmenter.assignment_.centers, dtype=np.float32)[segment_ids]
    rows = np.searchsorted(segment_ids, labels)
    distances = np.linalg.norm(segmenter.reduction_.cluster_space - centres[rows], axis=1)
    space = np.full((len(run.result.labels), centres.shape[1]), np.nan, dtype=np.float32)
    space[segmenter.usable_] = segmenter.reduction_.cluster_space
    columns = used_columns(run.schema, fusion)
    digests = content_digests(run.loaded.frame, run.prepared.ids, columns)
    known = KnownRows.of(
        digests,
        np.asarray(run.result.labels, dtype=np.int64),
        space,
        np.asarray(run.result.coords, dtype=np.float32),
    )
    return SegmentationModel(
        schema=run.schema,
        dates=date_readings(run.loaded.frame, run.schema),
        embedder=run.embedder_name,
        embedder_model_id=run.embedding.model_id if run.embedding is not None else None,
        text_model=run.text_model,
        fusion=fusion,
        reduction=reduction,
        sample_ids=tuple(str(i) for i in ids[reduction.sample]),
        centres=centres,
        segment_ids=tuple(int(i) for i in segment_ids),
        names={p.segment_id: p.name for p in run.result.profiles},
        sizes=tuple(int(s) for s in np.bincount(rows, minlength=len(centres))),
        centre_limits=centre_limits(distances, rows, len(centres)),
        neighbour_limit=neighbour_limit(reduction),
        known=known,
        made_by={
            "engine": "local",
            "source": run.loaded.report.filename,
            "encoding": run.loaded.report.encoding,
            "rows": int(len(run.loaded.frame)),
        },
    )


def write_model(model: SegmentationModel, folder: Path) -> Path:
    """Write ``model.json`` and ``arrays.npz`` into ``folder`` (made if needed)."""
    from segmenter import __version__  # noqa: PLC0415 - the package imports this module

    folder.mkdir(parents=True, exist_ok=True)
    packer = Packer()
    payload = {
        "format": MODEL_FORMAT,
        "made_by": {**model.made_by, "segmenter": __version__, "libraries": library_versions()},
        "schema": model.schema.to_dict(),
        "dates": {
            column: {
                "dayfirst": reading.dayfirst,
                "origin": None if reading.origin is None else reading.origin.isoformat(),
            }
            for column, reading in model.dates.items()
        },
        "embedder": model.embedder,
        "embedder_model_id": model.embedder_model_id,
        "topics": pack_lexical(model.text_model.topics, packer) if model.text_model else None,
        "alignment": pack_alignment(model.text_model.alignment, packer)
        if model.text_model
        else None,
        "fast_features": model.text_model is not None,
        "fusion": pack_fusion(model.fusion, packer),
        "reduction": pack_reduction(model.reduction, packer),
        "sample_ids": list(model.sample_ids),
        "centres": packer.array(model.centres),
        "segment_ids": list(model.segment_ids),
        "names": {str(k): v for k, v in model.names.items()},
        "sizes": list(model.sizes),
        "centre_limits": packer.array(model.centre_limits),
        "neighbour_limit": model.neighbour_limit,
        "known": {
            "digests": packer.array(model.known.digests),
            "segments": packer.array(model.known.segments),
            "space": packer.array(model.known.space),
            "coords": packer.array(model.known.coords),
        },
    }
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **packer.arrays)
    arrays = buffer.getvalue()
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    digest = _digest(body, arrays)
    (folder / ARRAYS_FILE).write_bytes(arrays)
    text = json.dumps({"digest": digest, "model": json.loads(body)}, ensure_ascii=False, indent=1)
    (folder / MODEL_FILE).write_text(text, encoding="utf-8")
    return folder


def _digest(body: str, arrays: bytes) -> str:
    return hashlib.sha256(body.encode("utf-8") + b"\0" + arrays).hexdigest()


def has_model(run_folder: Path) -> bool:
    """Whether a run folder holds a saved model."""
    return (run_folder / MODEL_DIR / MODEL_FILE).is_file()


def read_model(run_folder: Path) -> SegmentationModel:
    """The model saved in ``run_folder/model``.

    Raises:
        InputError: no model there, a model of another format, or a damaged one; one line
            saying which and what to do.
    """
    folder = run_folder / MODEL_DIR
    if not (folder / MODEL_FILE).is_file():
        raise InputError(
            f"{run_folder} holds no saved segments (model/model.json): segment the table "
            "again with this version to save them."
        )
    damaged = (
        f"The saved segments in {run_folder} are damaged or were edited"
        " ({}): segment the table again to save them anew."
    )
    try:
        wrapper = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        payload = wrapper["model"]
        made_by = payload.get("made_by", {})
        if payload.get("format") != MODEL_FORMAT:
            raise InputError(
                f"The saved segments in {run_folder} were made by Segmenter "
                f"{made_by.get('segmenter', 'of an unknown version')} (model format "
                f"{payload.get('format')}); this version reads format {MODEL_FORMAT}: "
                "segment the table again with this version."
            )
        arrays_bytes = (folder / ARRAYS_FILE).read_bytes()
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        if wrapper.get("digest") != _digest(body, arrays_bytes):
            raise DamagedModelError("its digest does not match its contents")
        with np.load(io.BytesIO(arrays_bytes), allow_pickle=False) as loaded:
            arrays = {key: loaded[key] for key in loaded.files}
        return _model_from(payload, Unpacker(arrays))
    except DamagedModelError as err:
        raise InputError(damaged.format(err)) from None
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as err:
        # ValueError includes numpy refusing a pickled object and json's decode errors.
        reason = type(err).__name__ if not str(err) else str(err).splitlines()[0][:80]
        raise InputError(damaged.format(reason)) from None


def _model_from(payload: Mapping[str, Any], unpacker: Unpacker) -> SegmentationModel:
    text_model = None
    if payload["fast_features"]:
        text_model = FastTextModel(
            unpack_lexical(payload["topics"], unpacker),
            unpack_alignment(payload["alignment"], unpacker),
        )
    dates = {
        str(column): DateReading(
            bool(reading["dayfirst"]),
            None if reading["origin"] is None else pd.Timestamp(reading["origin"]),
        )
        for column, reading in payload["dates"].items()
    }
    centres = unpacker.array(payload["centres"], 2)
    limits = unpacker.array(payload["centre_limits"], 1)
    sample_ids = tuple(str(i) for i in payload["sample_ids"])
    segment_ids = tuple(int(i) for i in payload["segment_ids"])
    sizes = tuple(int(s) for s in payload["sizes"])
    reduction = unpack_reduction(payload["reduction"], unpacker)
    if not len(limits) == len(centres) == len(segment_ids) == len(sizes) or len(sample_ids) != len(
        reduction.sample
    ):
        raise DamagedModelError("its parts disagree in size")
    return SegmentationModel(
        schema=Schema.from_dict(payload["schema"]),
        dates=dates,
        embedder=payload["embedder"],
        embedder_model_id=payload["embedder_model_id"],
        text_model=text_model,
        fusion=unpack_fusion(payload["fusion"], unpacker),
        reduction=reduction,
        sample_ids=sample_ids,
        centres=centres,
        segment_ids=segment_ids,
        names={int(k): str(v) for k, v in payload["names"].items()},
        sizes=sizes,
        centre_limits=limits,
        neighbour_limit=float(payload["neighbour_limit"]),
        known=_known_from(payload["known"], unpacker),
        made_by=dict(payload.get("made_by", {})),
    )


def _known_from(plain: Mapping[str, Any], unpacker: Unpacker) -> KnownRows:
    known = KnownRows(
        unpacker.array(plain["digests"], 1).astype(np.uint64),
        unpacker.array(plain["segments"], 1).astype(np.int64),
        unpacker.array(plain["space"], 2),
        unpacker.array(plain["coords"], 2),
    )
    if not len(known.digests) == len(known.segments) == len(known.space) == len(known.coords):
        raise DamagedModelError("its known rows disagree in size")
    return known
