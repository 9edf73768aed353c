"""Saved segmentations in the dashboard: every segmentation is saved as a run folder, a
new table can be placed into a saved run's segments (Upload), an assigned run shows its fit
check and the saved customers beneath the new ones (Segments), and a new segmentation can
keep an earlier run's numbers and names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.ingest import LoadedTable
from segmenter.pipeline import SegmentationRun, write_outputs
from segmenter.runs import describe_run, find_runs, new_run_folder, runs_root
from segmenter.saved_model import has_model
from segmenter.ui import state
from segmenter.ui.widgets import plain

KEEP_NONE = "No: number the segments afresh"


def saved_runs() -> dict[str, Path]:
    """Run folders with a saved model, newest first, by their one-line description."""
    root = runs_root()
    return {describe_run(f, root): f for f in find_runs(root) if has_model(f)}


def save_run(run: SegmentationRun) -> Path | None:
    """Write a run made in the dashboard to a new run folder, so that its segments can be
    applied to later tables and compared; ``None`` (with a warning) when it cannot be
    written. Called once where a run is made; the folder is kept in ``state.RUN_FOLDER``."""
    if run.opened_from is not None:
        return run.opened_from
    folder = new_run_folder(runs_root(), run.loaded.report.filename)
    try:
        write_outputs(run, folder)
    except OSError as error:
        st.warning(f"This run could not be saved in {folder.parent} ({error.strerror}).")
        return None
    st.session_state[state.RUN_FOLDER] = str(folder)
    state.run_saved(folder)
    return folder


def earlier_run_choice() -> Path | None:
    """The settings' choice of an earlier run whose numbers and names to keep."""
    runs = saved_runs()
    chosen = st.selectbox(
        "Keep the segment numbers and names of an earlier run",
        [KEEP_NONE, *runs],
        key="segments_keep_from",
        help="Segments that persist keep the earlier run's number, name and colour (matched "
        "by shared customer IDs, else by the earlier run's saved model); new ones get new "
        "numbers; the vanished ones are listed.",
    )
    return runs.get(chosen)


def apply_saved_segments(loaded: LoadedTable) -> None:
    """Upload's panel: place this table's customers into a saved run's segments, save the
    result as a run folder and open it on the Segments page."""
    from segmenter.assign import assign_table, write_assigned  # noqa: PLC0415
    from segmenter.config import EmbedConfig  # noqa: PLC0415
    from segmenter.saved_model import read_model  # noqa: PLC0415
    from segmenter.ui.data import accept_run  # noqa: PLC0415 - data imports the models

    with st.expander("Apply saved segments to this table (instead of segmenting anew)"):
        runs = saved_runs()
        if not runs:
            st.caption(
                "No saved segments yet: every segmentation is saved under "
                f"{runs_root().resolve()}; segment a table first."
            )
            return
        chosen = st.selectbox("Saved segments", list(runs), key="upload_apply_run")
        st.caption(
            "Each customer is placed on that run's map and into its nearest segment; those "
            "unlike every earlier customer are marked as fitting poorly."
        )
        if not st.button("Apply saved segments", key="upload_apply", type="primary"):
            return
        source = runs[chosen]
        bar = st.progress(0.0, text="Reading the saved segments")

        def progress(message: str, fraction: float) -> None:
            bar.progress(min(fraction, 1.0), text=message)

        try:
            model = read_model(source)
            assigned = assign_table(
                loaded,
                model,
                EmbedConfig.from_env(),
                progress,
            )
            folder = new_run_folder(runs_root(), loaded.report.filename, "assigned")
            write_assigned(assigned, source, folder)
            accept_run(folder)
        except SegmenterError as error:
            bar.empty()
            st.error(plain(str(error)))
            return
        bar.empty()
        st.switch_page("pages/2_Segments.py")


def assigned_record(run: SegmentationRun) -> dict[str, Any] | None:
    """The fit check of a run made by applying saved segments (``None`` for other runs)."""
    if run.opened_from is None:
        return None
    record = run.parameters().get("assigned")
    return record if isinstance(record, dict) else None


def show_assigned(record: dict[str, Any]) -> None:
    """The fit check and the segments' sizes then and now."""
    source = record["model"]["run"]
    st.info(
        f"**Saved segments applied** from {plain(source)}: "
        f"{record['recognised_customers']:,} of {record['rows']:,} customers were in that run. "
        + plain(record["verdict"])
    )
    for note in record.get("notes", []):
        st.caption(plain(note))
    changes = pd.DataFrame(
        [
            {
                "Segment": f"{s['segment_id']}: {s['segment_name']}",
                "Share then": f"{s['saved_share']:.0%}",
                "Share now": f"{s['new_share']:.0%}",
                "Customers now": s["customers"],
                "Change": s["trend"],
            }
            for s in record["segments"]
        ]
    )
    st.dataframe(changes, hide_index=True, key="segments_assigned_changes")


def earlier_points(record: dict[str, Any], max_points: int = 20_000) -> np.ndarray:
    """Map positions of (a sample of) the customers the applied segments were made from."""
    folder = Path(record["model"]["run"]) / "segments.csv"
    if not folder.exists():
        return np.zeros((0, 2))
    frame = pd.read_csv(folder, usecols=lambda c: c in ("x", "y"))
    if not {"x", "y"} <= set(frame.columns):
        return np.zeros((0, 2))
    xy = frame[["x", "y"]].dropna().to_numpy(dtype=float)
    if len(xy) > max_points:
        xy = xy[np.random.default_rng(0).choice(len(xy), max_points, replace=False)]
    return xy
