"""The Compare runs page's cached comparison and the tables it shows.

The tables are plain pandas over a ``RunComparison`` (no Streamlit), named for what the
page shows; the comparison itself is cached per pair of run folders and their files, so a
rerun of the page (a widget change) does not read both folders again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import streamlit as st

from segmenter.movement_compare import RunComparison, compare_runs
from segmenter.movement_value import SegmentFlags


def segment_label(run: str, segment_id: int, names: dict[int, str]) -> str:
    """``"A 2: Big spenders"``: a segment as the Sankey's nodes name it (without the count)."""
    return f"{run} {segment_id}: {names.get(segment_id, '')}"


def _folder_stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, modification time and size of each file directly in ``folder``: a run written
    again into the same folder gets a new cache entry."""
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
        return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()  # compare_runs says what is wrong with the folder


@st.cache_data(max_entries=8, show_spinner=False)
def _comparison_cached(
    folder_a: str,
    folder_b: str,
    stamps: tuple[object, ...],
    from_ids: tuple[int, ...] | None,
    to_ids: tuple[int, ...] | None,
) -> RunComparison:
    return compare_runs(Path(folder_a), Path(folder_b), from_ids=from_ids, to_ids=to_ids)


def cached_comparison(
    folder_a: Path,
    folder_b: Path,
    *,
    from_ids: Sequence[int] | None = None,
    to_ids: Sequence[int] | None = None,
) -> RunComparison:
    """``compare_runs`` for the page, cached by the folders, their files and the segment
    choices (``None``: the rule's).

    Raises:
        SegmenterError: as ``compare_runs`` does (not a run folder, no ID column, no
            customer in both, an unknown segment).
    """
    stamps = (_folder_stamp(folder_a), _folder_stamp(folder_b))
    return _comparison_cached(
        str(folder_a),
        str(folder_b),
        stamps,
        tuple(from_ids) if from_ids is not None else None,
        tuple(to_ids) if to_ids is not None else None,
    )


def pair_key(folder_a: Path, folder_b: Path) -> str:
    """A short key for a pair of runs: the segment pickers' keys carry it, so that picking
    other runs starts them from those runs' rule instead of the last pair's choice."""
    return hashlib.sha256(f"{folder_a}\x1f{folder_b}".encode()).hexdigest()[:10]


def summary_line(comparison: RunComparison, movers: int) -> str:
    """One line: customers in both, how B's segments relate to A's, and ``movers``."""
    match = comparison.match
    n_b = len(comparison.contingency.new_ids)
    parts = [
        f"{comparison.shared:,} customers in both runs ({comparison.only_a:,} only in A, "
        f"{comparison.only_b:,} only in B)",
        f"{len(match.matched)} of B's {n_b} segments continue one of A's",
    ]
    if match.new:
        parts.append(f"{len(match.new)} new")
    if match.vanished:
        parts.append(f"{len(match.vanished)} of A's vanished")
    parts.append(f"{movers:,} moved from a valuable segment to an at-risk one")
    return " · ".join(parts)


def rule_caption(flags: SegmentFlags) -> str:
    """The rule behind a side's default segments, or why there is none."""
    if flags.found_signal:
        return f"By the rule: {flags.rule}."
    return f"{flags.rule[:1].upper()}{flags.rule[1:]}."


def movement_matrix(comparison: RunComparison) -> pd.DataFrame:
    """Customers in both runs (and in a segment of each): A's segments as rows, B's as
    columns, every pair (also empty ones)."""
    table = comparison.contingency
    return pd.DataFrame(
        table.counts,
        index=pd.Index(
            [segment_label("A", s, comparison.names_a) for s in table.earlier_ids],
            name="Run A segment",
        ),
        columns=[segment_label("B", s, comparison.names_b) for s in table.new_ids],
    )


def b_segment_table(comparison: RunComparison) -> pd.DataFrame:
    """Per segment of B: the segment of A it continues, and who stayed, joined and left."""
    rows = [
        {
            "Run B segment": segment_label("B", f.segment_id, comparison.names_b),
            "Continues": (
                segment_label("A", f.continues, comparison.names_a)
                if f.continues is not None
                else "(new segment)"
            ),
            "Customers": f.customers,
            "Stayed": f.stayed,
            "Joined from other segments": f.joined_from_segments,
            "Joined, in no segment of A": f.joined_new,
            "Left": f.left,
        }
        for f in comparison.flows
    ]
    return pd.DataFrame(rows)


def a_segment_table(comparison: RunComparison) -> pd.DataFrame:
    """Per segment of A: the segment of B that continues it, and where its customers are."""
    rows = [
        {
            "Run A segment": segment_label("A", o.segment_id, comparison.names_a),
            "Continued by": (
                segment_label("B", o.continued_by, comparison.names_b)
                if o.continued_by is not None
                else "(vanished)"
            ),
            "Customers": o.customers,
            "Stayed": o.stayed,
            "Moved to another segment": o.moved,
            "In no segment of B": o.gone,
        }
        for o in comparison.outcomes
    ]
    return pd.DataFrame(rows)


def with_choices(
    rule: RunComparison,
    folder_a: Path,
    folder_b: Path,
    chosen_from: Sequence[int],
    chosen_to: Sequence[int],
) -> tuple[RunComparison, pd.DataFrame, str]:
    """The comparison with the user's segments for the movers (``rule`` where they are the
    rule's), its movers, and why they are none ("" when there are some).

    Nothing chosen on a side lists nobody (and leaves the comparison the rule's), rather
    than falling back to the rule, so that the list holds what the pickers show.
    """
    if not chosen_from or not chosen_to:
        side = "valuable segment of A" if not chosen_from else "at-risk segment of B"
        rule_empty = not rule.valuable.ids or not rule.at_risk.ids
        reason = rule.movers_reason if rule_empty else ""
        return rule, rule.movers.head(0), reason or f"choose at least one {side}"
    from_ids = None if tuple(sorted(chosen_from)) == rule.valuable.ids else chosen_from
    to_ids = None if tuple(sorted(chosen_to)) == rule.at_risk.ids else chosen_to
    comparison = rule
    if from_ids is not None or to_ids is not None:
        comparison = cached_comparison(folder_a, folder_b, from_ids=from_ids, to_ids=to_ids)
    return comparison, comparison.movers, comparison.movers_reason
