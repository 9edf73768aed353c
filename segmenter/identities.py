"""Stable segment identities: a new segmentation takes the numbers and names of an earlier
run's segments where they persist.

The new run's segments are matched one to one with the earlier run's (``movement``): by the
customers they share when enough IDs are in both runs, else by centre distance, with the
new table's rows placed in the earlier run's space by its saved model (``assign``). A
matched segment takes the earlier number and name (and so its colour on the map), a new
one a number above every earlier one; the vanished ones are listed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from segmenter.assign import assign_table
from segmenter.cluster import Segmenter
from segmenter.errors import InputError
from segmenter.kmeans import Assignment
from segmenter.movement import (
    SegmentMatch,
    contingency_by_ids,
    ids_overlap,
    match_by_centres,
    match_segments,
    relabel,
    relabel_run_outputs,
)
from segmenter.movement_compare import read_run_side
from segmenter.pipeline import SegmentationRun
from segmenter.run_folder import PROFILES_FILE
from segmenter.run_record import RunRecord
from segmenter.saved_model import has_model, read_model


def _next_id(earlier: Path, earlier_ids: list[int]) -> int:
    """One above every number the earlier run's history has used, so a vanished segment's
    number is never given to a new one."""
    record = RunRecord.read(earlier)
    used = int(record.extra.get("identities", {}).get("next_id", 0))
    return max([used, *(i + 1 for i in earlier_ids)])


def match_with_earlier(run: SegmentationRun, earlier: Path) -> SegmentMatch:
    """How the segments of ``run`` continue those of the run folder ``earlier``.

    Raises:
        InputError: the earlier folder is not a run, or shares no customers with this
            table and holds no saved model to place them with.
    """
    labels = np.asarray(run.result.labels)
    new_ids = run.prepared.ids.to_numpy()
    try:
        side = read_run_side(earlier)
    except InputError:
        side = None
    if side is not None:
        earlier_ids = sorted(p.segment_id for p in side.profiles)
        next_id = _next_id(earlier, earlier_ids)
        earlier_frame_ids = side.frame[side.id_column].to_numpy()
        table = contingency_by_ids(earlier_frame_ids, side.labels, new_ids, labels)
        if ids_overlap(table, int((labels >= 0).sum())):
            return match_segments(table, next_id=next_id)
    if not has_model(earlier):
        raise InputError(
            f"The customers of this table are not in {earlier} (too few shared IDs) and that "
            "run holds no saved segments to compare with: pick a run made with this version."
        )
    model = read_model(earlier)
    placed = assign_table(run.loaded, model, run.embed_config)
    segmented = (labels >= 0) & (placed.labels >= 0)
    new_segment_ids = sorted(int(s) for s in np.unique(labels[labels >= 0]))
    centres = np.array(
        [placed.space[segmented & (labels == s)].mean(axis=0) for s in new_segment_ids]
    )
    return match_by_centres(
        model.centres,
        centres,
        earlier_ids=model.segment_ids,
        new_ids=new_segment_ids,
        next_id=_next_id(earlier, list(model.segment_ids)),
    )


def with_identities(run: SegmentationRun, earlier: Path) -> tuple[SegmentationRun, SegmentMatch]:
    """``run`` with its segments under the numbers and names of the earlier run's segments
    they continue (``match_with_earlier``); the match says which and what vanished."""
    match = match_with_earlier(run, earlier)
    names = earlier_names(earlier)
    labels, profiles = relabel_run_outputs(run.result.labels, run.result.profiles, match)
    kept = set(match.matched.values())
    profiles = tuple(
        replace(p, name=names[p.segment_id])
        if p.segment_id in kept and p.segment_id in names
        else p
        for p in profiles
    )
    segmenter = relabelled_segmenter(run.segmenter, match.identities)
    result = replace(run.result, labels=labels, profiles=profiles)
    record = identities_record(match, earlier)
    return replace(run, segmenter=segmenter, result=result, identities=record), match


def earlier_names(earlier: Path) -> dict[int, str]:
    """The segment names of a run folder (``profiles.json``)."""
    try:
        data = json.loads((earlier / PROFILES_FILE).read_text(encoding="utf-8"))
        return {int(p["segment_id"]): str(p["name"]) for p in data}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(
            f"{earlier} holds no readable profiles.json ({type(err).__name__}): pick a run "
            "folder that `segment --out` or the app wrote."
        ) from None


def relabelled_segmenter(segmenter: Segmenter, identities: dict[int, int]) -> Segmenter:
    """A copy of a fitted Segmenter whose labels are the segments' identities: its centres
    table gains empty (NaN) rows for the numbers no segment has."""
    out = copy.copy(segmenter)
    assignment: Assignment = segmenter.assignment_
    labels = relabel(assignment.labels, identities)
    width = max(identities.values(), default=-1) + 1
    centres = np.full((width, assignment.centers.shape[1]), np.nan, dtype=np.float32)
    sizes = [0] * width
    for old, new in identities.items():
        centres[new] = assignment.centers[old]
        sizes[new] = assignment.sizes[old] if old < len(assignment.sizes) else 0
    out.assignment_ = replace(assignment, labels=labels, centers=centres, sizes=tuple(sizes))
    out.labels_ = relabel(segmenter.labels_, identities)
    drivers: dict[int, Any] = getattr(segmenter, "drivers_", {})
    out.drivers_ = {identities.get(k, k): v for k, v in drivers.items()}
    return out


def identities_record(match: SegmentMatch, earlier: Path) -> dict[str, Any]:
    """``run.json``'s account of the kept identities."""
    used = [*match.identities.values(), *match.vanished]
    return {
        "earlier_run": str(earlier),
        **match.to_dict(),
        "next_id": max(used, default=-1) + 1,
    }


def describe_identities(record: Mapping[str, Any]) -> str:
    """One line on the kept identities (``identities_record``), for the Segments page."""
    matched = [s for s in record["segments"] if s["continues"] is not None]
    how = "shared customers" if record["method"] == "customers" else "its saved model"
    line = (
        f"Kept the numbers and names of {len(matched)} segments of {record['earlier_run']} "
        f"(matched by {how})"
    )
    new = [str(s["identity"]) for s in record["segments"] if s["continues"] is None]
    if new:
        line += f"; new segments: {', '.join(new)}"
    if record["vanished"]:
        line += f"; vanished: {', '.join(map(str, record['vanished']))}"
    return line + ". Compare the two runs on the Compare runs page."
