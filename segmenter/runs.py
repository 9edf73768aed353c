"""Finished run folders: find them, and open one as a run the dashboard can show.

A run folder is what ``python -m segmenter segment ... --out DIR`` writes with either engine:
``segments.csv`` (or ``segments/`` Parquet parts), ``profiles.json``, ``run.json`` and
``space.npy`` (each row's position in the clustering space, so the number of segments can
still be changed). Opening one recomputes nothing but the column preparation.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import UNSEGMENTED, Assignment, Reduction, Segmenter
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.errors import InputError
from segmenter.export import SegmentationResult
from segmenter.ingest import IngestReport, LoadedTable, Schema, build_documents, prepare_columns
from segmenter.labels import column_label
from segmenter.pipeline import SegmentationRun
from segmenter.profile import SegmentProfile
from segmenter.run_folder import PROFILES_FILE, SEGMENTS_FILE, SPACE_FILE
from segmenter.run_record import RUN_FILE, RunRecord, k_choice_from_record
from segmenter.sentiment import FeedbackResult, SentimentResult, SentimentSource


def runs_root() -> Path:
    """Where the dashboard looks for run folders: ``SEGMENTER_RUNS_DIR`` (a shared drive, say),
    else ``runs`` in the folder the app was started from."""
    return Path(os.environ.get("SEGMENTER_RUNS_DIR") or "runs")


def new_run_folder(root: Path, filename: str, kind: str = "") -> Path:
    """A fresh folder under ``root`` for a run the dashboard saves: the table's name, what
    was done (``kind``: "assigned", or nothing for a segmentation) and the time."""
    stem = re.sub(r"[^\w\-]+", "_", Path(filename).stem).strip("_")[:40] or "table"
    when = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / "-".join(p for p in (stem, kind, when) if p)
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def find_runs(root: Path) -> list[Path]:
    """Run folders under ``root`` (any depth), newest first."""
    if not root.is_dir():
        return []
    found = [p.parent for p in root.rglob(RUN_FILE) if (p.parent / PROFILES_FILE).exists()]
    return sorted(found, key=lambda p: (p / RUN_FILE).stat().st_mtime, reverse=True)


def describe_run(folder: Path, root: Path) -> str:
    """One line for a run folder: where, how many rows, which engine, segments, when."""
    label = str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)
    try:
        record = RunRecord.read(folder)
        when = datetime.fromtimestamp((folder / RUN_FILE).stat().st_mtime)
    except (OSError, ValueError):
        return label
    rows = record.input.get("rows", 0)
    segments = record.result.get("n_segments", "?")
    engine = record.engine_name
    return f"{label} — {rows:,} rows, {segments} segments, {engine} engine, {when:%Y-%m-%d %H:%M}"


def read_segments(folder: Path) -> pd.DataFrame:
    """The segments of a run folder (``segments.csv`` or Parquet parts), every cell as text."""
    csv = folder / SEGMENTS_FILE
    # Every cell as text, as ingest delivers a table (object columns of str, "" for missing).
    if csv.exists():
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return frame.astype(object)
    parts = folder / "segments"
    files = sorted(parts.glob("*.parquet")) if parts.is_dir() else []
    if files:  # part-00000, part-00001 ...: name order is row order
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return frame.astype(str).astype(object)
    raise InputError(
        f"{folder} has no segments.csv or segments/ folder: open the folder that "
        "`python -m segmenter segment --out` wrote."
    )


def added_column(frame: pd.DataFrame, originals: list[str], name: str) -> pd.Series | None:
    """An added column, under its own name or, where the table had one, ``name_segmenter``."""
    for column in (f"{name}_segmenter", name):
        if column in frame.columns and (column != name or name not in originals):
            return frame[column]
    return None


def _feedback(
    frame: pd.DataFrame, originals: list[str], record: dict[str, Any] | None
) -> FeedbackResult | None:
    labels = added_column(frame, originals, "sentiment")
    scores = added_column(frame, originals, "sentiment_score")
    flags = added_column(frame, originals, "urgent_flags")
    if labels is None or scores is None or flags is None or not record:
        return None
    source = SentimentSource(record.get("method", "prototypes"), record.get("column"))
    sentiment = SentimentResult(
        labels.to_numpy(dtype=object),
        pd.to_numeric(scores, errors="coerce").to_numpy(dtype=float),
        source,
        record.get("cv_accuracy"),
        record.get("note", ""),
    )
    return FeedbackResult(sentiment, tuple(str(f) for f in flags))


def _embedder_name(model_id: str | None) -> str | None:
    from segmenter.embedding import available_embedders, get_embedder  # noqa: PLC0415

    for name in available_embedders():
        if get_embedder(name).model_id == model_id:
            return name
    return None


def _segmenter(
    labels: np.ndarray, coords: np.ndarray, space: np.ndarray | None, record: RunRecord
) -> Segmenter:
    """A fitted Segmenter rebuilt from the files: it can recluster when ``space`` is there."""
    params = {k: v for k, v in record.segmenter.items() if k in Segmenter().get_params()}
    segmenter = Segmenter(**params)
    result = record.result
    usable = labels >= 0
    present = np.unique(labels[usable])
    # A run that kept an earlier run's numbers may leave gaps: no centre (NaN) there.
    width = int(present.max()) + 1 if len(present) else 0
    cluster_space = space[usable] if space is not None else coords[usable]
    centres = np.full((width, cluster_space.shape[1]), np.nan)
    for s in present:
        centres[s] = cluster_space[labels[usable] == s].mean(axis=0)
    segmenter.usable_ = usable
    segmenter.reduction_ = Reduction(
        cluster_space.astype(np.float32),
        coords[usable].astype(np.float32),
        result.get("reduction", "umap"),
    )
    segmenter.text_weight_ = float(result.get("text_weight_applied", segmenter.text_weight))
    segmenter.timings_ = {}
    segmenter.k_choice_ = k_choice_from_record(result.get("k_choice", {}), len(present))
    segmenter.assignment_ = Assignment(
        labels=labels[usable],
        centers=centres.astype(np.float32),
        silhouette=float(result.get("silhouette") or np.nan),
        sizes=tuple(int((labels == s).sum()) for s in range(width)),
    )
    segmenter.n_segments_ = len(present)
    segmenter.labels_ = labels
    segmenter.coords_ = coords
    return segmenter


def open_run(folder: Path) -> SegmentationRun:
    """The run written to ``folder``, ready for the dashboard's pages.

    Raises:
        InputError: when the folder is not a complete run folder; the message says why.
    """
    try:
        record = RunRecord.read(folder)
        profiles_data = json.loads((folder / PROFILES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(
            f"{folder} is not a finished run ({err.__class__.__name__}: {err}): open a folder "
            "that `python -m segmenter segment --out` wrote."
        ) from None
    schema = Schema.from_dict(record.schema)
    originals = [c.name for c in schema.columns]
    segments = read_segments(folder)
    missing = [c for c in originals if c not in segments.columns]
    if missing:
        raise InputError(
            f"The segments in {folder} lack the columns {', '.join(missing)} that run.json "
            "names: the folder mixes two runs; segment the table again."
        )
    frame = segments[originals].reset_index(drop=True)
    label_column = added_column(segments, originals, "segment_id")
    if label_column is None:
        raise InputError(f"The segments in {folder} have no segment_id column: segment again.")
    labels = pd.to_numeric(label_column, errors="coerce").fillna(UNSEGMENTED).astype(int)
    axes = [added_column(segments, originals, axis) for axis in ("x", "y", "z")]
    coords = np.column_stack(
        [pd.to_numeric(a, errors="coerce").to_numpy(dtype=float) for a in axes if a is not None]
    )
    space_path = folder / SPACE_FILE
    space = np.load(space_path) if space_path.exists() else None
    if space is not None and len(space) != len(frame):
        space = None
    labels_array = labels.to_numpy()
    segmenter = _segmenter(labels_array, coords, space, record)
    feedback = _feedback(segments, originals, record.feedback)
    profiles = tuple(SegmentProfile.from_dict(p) for p in profiles_data)
    source = record.input
    report = IngestReport(
        filename=str(source.get("filename", folder.name)),
        file_format="run folder",
        encoding=source.get("encoding"),
        delimiter=source.get("delimiter"),
        skipped_lines=0,
        n_rows=len(frame),
        n_columns=len(originals),
        duplicate_rows=0,
        renamed_columns=(),
        notes=tuple(source.get("notes", ())),
    )
    params = record.segmenter
    cluster_config = ClusterConfig()
    if "random_state" in params:
        cluster_config = replace(cluster_config, random_state=int(params["random_state"]))
    model_id = record.embedding.get("model_id")
    return SegmentationRun(
        loaded=LoadedTable(frame, report),
        schema=schema,
        prepared=prepare_columns(frame, schema),
        docs=build_documents(frame, schema),
        embedding=None,
        embedder_name=_embedder_name(model_id),
        segmenter=segmenter,
        result=SegmentationResult(
            labels=labels_array,
            coords=coords,
            profiles=profiles,
            row_columns=feedback.row_columns() if feedback is not None else {},
        ),
        embed_config=EmbedConfig(),
        cluster_config=cluster_config,
        timings=dict(record.seconds),
        feedback=feedback,
        opened_from=folder,
        edited_labels={  # the labels the run was named with, where the user changed them
            str(c): str(v) for c, v in record.labels.items() if str(v) != column_label(str(c))
        },
    )


CAMPAIGNS_DIR = ".campaigns"
"""Under the runs root: the campaign work of runs that have no folder (segmented in the app)."""


def run_fingerprint(run: SegmentationRun) -> str:
    """A key for ``run`` that the same table segmented the same way gives again after a
    reload: the table's content, its columns and every row's segment."""
    frame = run.loaded.frame
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(repr(tuple(frame.columns)).encode())
    digest.update(np.asarray(run.result.labels, dtype=np.int64).tobytes())
    return digest.hexdigest()[:24]


def campaign_folder(run: SegmentationRun, root: Path | None = None) -> Path:
    """Where ``run``'s drafts and brand profile are kept (``campaign.store``).

    A run opened from a folder keeps them in that folder when it can be written; any
    other run (or a read-only folder, such as a shared drive) in ``root/.campaigns/KEY``,
    keyed by ``run_fingerprint`` so that segmenting the same table again finds them.
    """
    folder = run.opened_from
    if folder is not None and os.access(folder, os.W_OK):
        return folder
    return (root if root is not None else runs_root()) / CAMPAIGNS_DIR / run_fingerprint(run)
