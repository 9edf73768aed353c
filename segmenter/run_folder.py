"""Writing a local run's folder: ``segments.csv``, ``profiles.json``, ``space.npy``,
``run.json`` and ``model/`` (the saved segmentation, see ``saved_model``). The Ray engine
streams the same files from the cluster (``distributed.writing``); ``runs.open_run`` opens
either engine's."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from segmenter.cluster import expand_to_rows
from segmenter.export import profiles_json, results_frame, to_csv_bytes
from segmenter.saved_model import MODEL_DIR, model_of_run, write_model

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

SEGMENTS_FILE = "segments.csv"
PROFILES_FILE = "profiles.json"
SPACE_FILE = "space.npy"
"""Each row's position in the clustering space (NaN where unsegmented), so that a dashboard
opening the run folder can still change the number of segments."""


def write_outputs(run: SegmentationRun, out_dir: Path) -> dict[str, Path]:
    """Write ``segments.csv``, ``profiles.json``, ``space.npy``, ``model/`` and ``run.json`` into
    ``out_dir``. ``run.json``'s seconds gain the export's; the run itself is left as it was
    (it may be frozen in the run cache and written again)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths = {
        "segments": out_dir / SEGMENTS_FILE,
        "profiles": out_dir / PROFILES_FILE,
        "space": out_dir / SPACE_FILE,
    }
    frame = results_frame(run.loaded.frame, run.result)
    paths["segments"].write_bytes(to_csv_bytes(frame))
    paths["profiles"].write_text(profiles_json(run.result.profiles), encoding="utf-8")
    space = expand_to_rows(
        run.segmenter.reduction_.cluster_space, run.segmenter.usable_, fill=np.nan
    )
    np.save(paths["space"], space.astype(np.float32))
    model = model_of_run(run)
    if model is not None:  # an opened run's folder already holds its model
        paths["model"] = write_model(model, out_dir / MODEL_DIR)
    record = run.record()
    seconds = {**record.seconds, "export": round(time.perf_counter() - start, 3)}
    paths["run"] = replace(record, seconds=seconds).write(out_dir)
    return paths
