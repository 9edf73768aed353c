"""Compare two run folders: where the customers of run A's segments are in run B.

Customers are followed by their ID (each run's ``run.json`` names its ID column). B's
segments are matched to A's by the customers they share (``movement.match_segments``), so
that "stayed" means: in the segment of B that continues their segment of A.

>>> comparison = compare_runs(Path("runs/2026-10"), Path("runs/2026-11"))  # doctest: +SKIP
>>> comparison.movement_frame().head()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.cluster import UNSEGMENTED
from segmenter.errors import InputError, SegmenterError
from segmenter.export import UNSEGMENTED_NAME
from segmenter.movement import (
    Contingency,
    SegmentMatch,
    contingency_by_ids,
    match_segments,
    unique_ids,
)
from segmenter.movement_value import SegmentFlags, at_risk_segments, given, valuable_segments
from segmenter.profile import SegmentProfile
from segmenter.run_folder import PROFILES_FILE
from segmenter.run_record import RUN_FILE, RunRecord

# The dashboard's readers of a run folder's rows: one reading of the files for both.
from segmenter.runs import added_column, read_segments

LOW_OVERLAP_SHARE = 0.1
"""Below this share of the smaller run's customers in both runs, the comparison says that
it rests on few customers."""
MOVERS_ADDED = ("from_segment_id", "from_segment_name", "to_segment_id", "to_segment_name")


@dataclass(frozen=True)
class RunSide:
    """What a comparison reads of one run folder."""

    folder: Path
    id_column: str
    frame: pd.DataFrame
    """The original columns, every cell as text."""
    labels: np.ndarray
    profiles: tuple[SegmentProfile, ...]
    roles: dict[str, str]

    @property
    def names(self) -> dict[int, str]:
        return {p.segment_id: p.name for p in self.profiles}


@dataclass(frozen=True)
class SegmentOutcome:
    """Where the customers of one of A's segments are in B."""

    segment_id: int
    name: str
    customers: int
    """In this segment of A, with an ID found once in A."""
    continued_by: int | None
    """The segment of B that continues it (``None``: it vanished)."""
    stayed: int
    moved: int
    """In another segment of B."""
    gone: int
    """In no segment of B (not in B's table, or unsegmented or duplicated there)."""


@dataclass(frozen=True)
class SegmentFlow:
    """Who makes up one of B's segments, against A."""

    segment_id: int
    name: str
    customers: int
    """In this segment of B, with an ID found once in B."""
    continues: int | None
    """The segment of A it continues (``None``: a new segment)."""
    stayed: int
    """Were in the segment of A it continues."""
    joined_from_segments: int
    """Were in another segment of A."""
    joined_new: int
    """Were in no segment of A (not in A's table, or unsegmented or duplicated there)."""
    left: int
    """Were in the segment of A it continues and are not in it now."""


@dataclass(frozen=True)
class RunComparison:
    """Run A against run B, customer by customer."""

    folder_a: Path
    folder_b: Path
    id_columns: tuple[str, str]
    names_a: dict[int, str]
    names_b: dict[int, str]
    contingency: Contingency
    """Customers in both runs: A's segments (rows) by B's (columns)."""
    match: SegmentMatch
    """Which of B's segments continues which of A's."""
    outcomes: tuple[SegmentOutcome, ...]
    flows: tuple[SegmentFlow, ...]
    valuable: SegmentFlags
    """A's segments movers come from."""
    at_risk: SegmentFlags
    """B's segments movers go to."""
    movers: pd.DataFrame
    """Customers who moved from a valuable segment of A to an at-risk segment of B (not the
    one continuing theirs): B's original columns plus ``MOVERS_ADDED``."""
    only_a: int
    only_b: int
    notes: tuple[str, ...]

    @property
    def shared(self) -> int:
        return self.contingency.shared

    @property
    def movers_reason(self) -> str:
        """Why the movers list is empty, or "" when it is not (or has a rule behind it)."""
        for flags, side in ((self.valuable, "valuable"), (self.at_risk, "at risk")):
            if not flags.found_signal:
                return flags.rule
            if not flags.ids:
                return f"no segment is {side} by the rule: {flags.rule}"
        return "" if len(self.movers) else "nobody moved from a valuable to an at-risk segment"

    def movement_frame(self) -> pd.DataFrame:
        """The movement matrix in long form, every pair of segments (also empty ones):
        a_segment_id, a_segment_name, b_segment_id, b_segment_name, customers."""
        rows = [
            (a, self.names_a.get(a, ""), b, self.names_b.get(b, ""), int(n))
            for a, counts in zip(self.contingency.earlier_ids, self.contingency.counts, strict=True)
            for b, n in zip(self.contingency.new_ids, counts, strict=True)
        ]
        columns = ["a_segment_id", "a_segment_name", "b_segment_id", "b_segment_name"]
        return pd.DataFrame(rows, columns=[*columns, "customers"])

    def to_dict(self) -> dict[str, Any]:
        """``comparison.json``: the matching, the flows per segment and the mover rule."""
        return {
            "run_a": str(self.folder_a),
            "run_b": str(self.folder_b),
            "id_columns": list(self.id_columns),
            "customers": {
                "in_both": self.shared,
                "in_a_segments_and_b_segments": self.contingency.segmented_shared,
                "only_in_a": self.only_a,
                "only_in_b": self.only_b,
                "duplicated_ids_left_out": self.contingency.duplicated,
            },
            "matching": self.match.to_dict(),
            "vanished_segments": [
                {"segment_id": s, "name": self.names_a.get(s, "")} for s in self.match.vanished
            ],
            "new_segments": [
                {"segment_id": s, "name": self.names_b.get(s, "")} for s in self.match.new
            ],
            "a_segments": [asdict(o) for o in self.outcomes],
            "b_segments": [asdict(f) for f in self.flows],
            "movers": {
                "customers": len(self.movers),
                "valuable_in_a": self.valuable.to_dict(),
                "at_risk_in_b": self.at_risk.to_dict(),
                "empty_because": self.movers_reason or None,
            },
            "notes": list(self.notes),
        }

    def summary_lines(self) -> list[str]:
        """A few lines for the command line: customers, each segment of B, the movers."""
        lines = [
            f"{self.shared:,} customers in both runs ({self.only_a:,} only in A, "
            f"{self.only_b:,} only in B)"
        ]
        for flow in self.flows:
            origin = (
                f"continues A {flow.continues}" if flow.continues is not None else "new segment"
            )
            lines.append(
                f"B {flow.segment_id}: {flow.name} ({origin}) — {flow.stayed:,} stayed, "
                f"{flow.joined_from_segments:,} joined from other segments, "
                f"{flow.joined_new:,} new, {flow.left:,} left"
            )
        for segment in self.match.vanished:
            lines.append(f"vanished: A {segment}: {self.names_a.get(segment, '')}")
        reason = self.movers_reason
        if reason and not len(self.movers):
            lines.append(f"movers: none — {reason}")
        else:
            lines.append(
                f"movers: {len(self.movers):,} customers from A "
                f"{', '.join(map(str, self.valuable.ids))} to B "
                f"{', '.join(map(str, self.at_risk.ids))}"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        return lines

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def read_run_side(folder: Path) -> RunSide:
    """The parts of a run folder a comparison needs.

    Raises:
        SegmenterError: the folder is not a run folder, or its run had no ID column.
    """
    if not (folder / RUN_FILE).is_file() or not (folder / PROFILES_FILE).is_file():
        raise InputError(
            f"{folder} is not a run folder (no {RUN_FILE} and {PROFILES_FILE}): give a folder "
            "that `python -m segmenter segment --out` wrote."
        )
    try:
        record = RunRecord.read(folder)
        raw = json.loads((folder / PROFILES_FILE).read_text(encoding="utf-8"))
        profiles = tuple(SegmentProfile.from_dict(p) for p in raw)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(
            f"{folder} holds a damaged run ({error.__class__.__name__}: {error}): segment the "
            "table again."
        ) from None
    id_column = record.schema.get("id_column")
    if not id_column:
        raise InputError(
            f"The run in {folder} has no customer ID column, so its customers cannot be found "
            "in another run: segment a table with an ID column (or mark one as the ID on the "
            "Upload page)."
        )
    roles = {str(c["name"]): str(c["role"]) for c in record.schema.get("columns", [])}
    segments = read_segments(folder)
    originals = [c for c in roles if c in segments.columns]
    label_column = added_column(segments, list(roles), "segment_id")
    if id_column not in segments.columns or label_column is None:
        raise InputError(
            f"The segments in {folder} lack the ID column {id_column!r} or segment_id: the "
            "folder mixes two runs; segment the table again."
        )
    labels = pd.to_numeric(label_column, errors="coerce").fillna(UNSEGMENTED).astype(int)
    return RunSide(
        folder=folder,
        id_column=str(id_column),
        frame=segments[originals].reset_index(drop=True),
        labels=labels.to_numpy(),
        profiles=profiles,
        roles=roles,
    )


def _check_ids(ids: Sequence[int], known: dict[int, str], run: str, option: str) -> None:
    missing = sorted(set(ids) - set(known))
    if missing:
        raise SegmenterError(
            f"Run {run} has no segment {', '.join(map(str, missing))} ({option}): choose from "
            f"{', '.join(map(str, sorted(known)))}."
        )


def _no_overlap(a: RunSide, b: RunSide) -> SegmenterError:
    def examples(side: RunSide) -> str:
        values = side.frame[side.id_column].astype(str).head(3).tolist()
        return ", ".join(repr(v) for v in values)

    return SegmenterError(
        f"No customer ID of run A ({a.id_column}: {examples(a)} …) is in run B "
        f"({b.id_column}: {examples(b)} …): compare runs of tables that share customer IDs."
    )


def _outcomes(
    a: RunSide, contingency: Contingency, match: SegmentMatch, sizes: dict[int, int]
) -> tuple[SegmentOutcome, ...]:
    continued_by = {earlier: new for new, earlier in match.matched.items()}
    out = []
    for i, segment in enumerate(contingency.earlier_ids):
        row = contingency.counts[i]
        successor = continued_by.get(segment)
        stayed = int(row[contingency.new_ids.index(successor)]) if successor is not None else 0
        in_b = int(row.sum())
        out.append(
            SegmentOutcome(
                segment_id=segment,
                name=a.names.get(segment, ""),
                customers=sizes.get(segment, 0),
                continued_by=successor,
                stayed=stayed,
                moved=in_b - stayed,
                gone=sizes.get(segment, 0) - in_b,
            )
        )
    return tuple(out)


def _flows(
    b: RunSide,
    contingency: Contingency,
    match: SegmentMatch,
    sizes_a: dict[int, int],
    sizes_b: dict[int, int],
) -> tuple[SegmentFlow, ...]:
    out = []
    for j, segment in enumerate(contingency.new_ids):
        column = contingency.counts[:, j]
        earlier = match.matched.get(segment)
        stayed = int(column[contingency.earlier_ids.index(earlier)]) if earlier is not None else 0
        out.append(
            SegmentFlow(
                segment_id=segment,
                name=b.names.get(segment, ""),
                customers=sizes_b.get(segment, 0),
                continues=earlier,
                stayed=stayed,
                joined_from_segments=int(column.sum()) - stayed,
                joined_new=sizes_b.get(segment, 0) - int(column.sum()),
                left=sizes_a.get(earlier, 0) - stayed if earlier is not None else 0,
            )
        )
    return tuple(out)


def _sizes(ids: pd.Series, labels: np.ndarray) -> dict[int, int]:
    """Customers per segment among rows with an ID found once in the run."""
    usable = ids.notna().to_numpy() & (labels >= 0)
    values, counts = np.unique(labels[usable], return_counts=True)
    return {int(v): int(n) for v, n in zip(values, counts, strict=True)}


def _movers(
    a: RunSide,
    b: RunSide,
    ids_a: pd.Series,
    ids_b: pd.Series,
    match: SegmentMatch,
    valuable: SegmentFlags,
    at_risk: SegmentFlags,
) -> pd.DataFrame:
    """B's rows of the customers who were in a valuable segment of A and are now in an
    at-risk segment of B that does not continue it, with ``MOVERS_ADDED``."""
    segment_a = pd.Series(a.labels, index=ids_a.to_numpy())
    segment_a = segment_a[ids_a.notna().to_numpy() & (a.labels >= 0)]
    # Each B row's segment in A (unsegmented where not in a segment of A, or no usable ID).
    before = ids_b.map(segment_a).fillna(UNSEGMENTED).astype(int).to_numpy()
    continues = np.full(len(b.labels), UNSEGMENTED - 1)  # matches no segment of A
    for new, earlier in match.matched.items():
        continues[b.labels == new] = earlier
    rows = np.isin(before, valuable.ids) & np.isin(b.labels, at_risk.ids)
    rows &= continues != before
    movers = b.frame[rows].copy()
    values: tuple[Any, ...] = (
        before[rows],
        [a.names.get(int(s), "") for s in before[rows]],
        b.labels[rows],
        [b.names.get(int(s), UNSEGMENTED_NAME) for s in b.labels[rows]],
    )
    for name, column in zip(MOVERS_ADDED, values, strict=True):
        movers[name if name not in b.frame.columns else f"{name}_segmenter"] = column
    return movers.reset_index(drop=True)


def compare_runs(
    folder_a: Path,
    folder_b: Path,
    *,
    from_ids: Sequence[int] | None = None,
    to_ids: Sequence[int] | None = None,
) -> RunComparison:
    """Compare run A (earlier) with run B (later) for the customers in both.

    Args:
        folder_a, folder_b: run folders written by ``python -m segmenter segment --out``.
        from_ids: A's segments movers come from (default: the valuable ones,
            ``movement_value.valuable_segments``).
        to_ids: B's segments (as numbered in B's folder) movers go to (default: the at-risk
            ones, ``movement_value.at_risk_segments``).

    Raises:
        SegmenterError: a folder is not a run folder, a run has no ID column, the runs share
            no customer, or ``from_ids`` / ``to_ids`` name a segment the run lacks.
    """
    a, b = read_run_side(Path(folder_a)), read_run_side(Path(folder_b))
    if from_ids:
        _check_ids(from_ids, a.names, "A", "--from")
    if to_ids:
        _check_ids(to_ids, b.names, "B", "--to")
    contingency = contingency_by_ids(a.frame[a.id_column], a.labels, b.frame[b.id_column], b.labels)
    if contingency.shared == 0:
        raise _no_overlap(a, b)
    ids_a, _ = unique_ids(a.frame[a.id_column])
    ids_b, _ = unique_ids(b.frame[b.id_column])
    match = match_segments(contingency)
    sizes_a, sizes_b = _sizes(ids_a, a.labels), _sizes(ids_b, b.labels)
    valuable = given(from_ids, "valuable segments") if from_ids else valuable_segments(a.profiles)
    at_risk = (
        given(to_ids, "at-risk segments")
        if to_ids
        else at_risk_segments(b.profiles, b.frame, b.labels, b.roles)
    )
    known_a = set(ids_a.dropna())
    known_b = set(ids_b.dropna())
    notes = []
    smaller = min(len(known_a), len(known_b))
    if contingency.shared < LOW_OVERLAP_SHARE * smaller:
        notes.append(
            f"only {contingency.shared:,} of {smaller:,} customers are in both runs: the "
            "movement describes few of them"
        )
    if contingency.duplicated:
        notes.append(
            f"{contingency.duplicated:,} IDs occur on more than one row of a run and are "
            "left out (a customer on two rows could sit in two segments)"
        )
    return RunComparison(
        folder_a=a.folder,
        folder_b=b.folder,
        id_columns=(a.id_column, b.id_column),
        names_a=a.names,
        names_b=b.names,
        contingency=contingency,
        match=match,
        outcomes=_outcomes(a, contingency, match, sizes_a),
        flows=_flows(b, contingency, match, sizes_a, sizes_b),
        valuable=valuable,
        at_risk=at_risk,
        movers=_movers(a, b, ids_a, ids_b, match, valuable, at_risk),
        only_a=len(known_a - known_b),
        only_b=len(known_b - known_a),
        notes=tuple(notes),
    )
