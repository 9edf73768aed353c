"""Stable segment identities between runs: which new segment continues which earlier one.

A new segmentation's segments are matched one to one to an earlier run's, by the customers
they share where the two tables share customer IDs (``contingency_by_ids`` then
``match_segments``), else by the distance between segment centres placed in one space
(``match_by_centres``). A segment that persists keeps the earlier number (and, through
``relabel_run_outputs``, its name and so its colour); a new one gets a number above every
earlier one; an earlier segment no new one continues is listed as vanished.

>>> table = np.array([[40, 2, 0], [1, 35, 0]])  # earlier 0, 1 x new 0, 1, 2
>>> match = match_segments(table)
>>> match.identities, match.vanished, match.new
({0: 0, 1: 1, 2: 2}, (), (2,))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmenter.cluster import UNSEGMENTED
from segmenter.ingest.values import normalise_ids
from segmenter.profile import SegmentProfile

MIN_JACCARD = 0.4
"""A new segment continues an earlier one only when the customers they share are at least
40% of the customers either holds (Jaccard index, over customers in both runs). Measured on
generated labels (tests/test_movement.py): a re-run with 5-20% of customers moved scores
0.7-0.9; a segment split in two halves scores 0.5 for each half (the larger keeps the
number); unrelated labels with k segments score about 1 / (2k - 1), 0.33 at k = 2 and 0.2 at
k = 3; a three-way split or merge of equal parts scores 0.33, too weak to call one part the
same segment."""
MIN_MATCH_CUSTOMERS = 10
"""...and share at least this many customers: on a handful of shared customers a high
Jaccard index is chance."""
MIN_SHARED_SHARE = 0.5
"""Match by customers (``ids_overlap``) when at least half of the new run's segmented
customers were in the earlier run; with fewer, the shared customers describe the earlier
population more than the new one, and the centres see every customer."""
CENTRE_GAP_SHARE = 0.5
"""``default_max_distance``: a new centre continues an earlier one when it lies within half
the smallest gap between earlier centres, where it is unambiguously nearer to that one than
to any other."""

MatchMethod = Literal["customers", "centres"]


@dataclass(frozen=True)
class SegmentMatch:
    """Which new segment continues which earlier one."""

    identities: dict[int, int]
    """Every new segment id -> its identity: the earlier id it continues, else a new
    number above every earlier one (in the order of the new ids)."""
    matched: dict[int, int]
    """New id -> earlier id, for the new segments that continue one."""
    scores: dict[int, float]
    """New id -> the Jaccard index (``customers``) or the centre distance (``centres``) of
    its match, for the matched ones."""
    vanished: tuple[int, ...]
    """Earlier ids no new segment continues."""
    new: tuple[int, ...]
    """New ids that continue no earlier segment (their identity is a new number)."""
    method: MatchMethod
    threshold: float
    """``min_jaccard`` or ``max_distance`` as used."""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (ids as numbers in lists: JSON keys would be text)."""
        return {
            "method": self.method,
            "threshold": self.threshold,
            "segments": [
                {
                    "segment_id": new_id,
                    "identity": identity,
                    "continues": self.matched.get(new_id),
                    "score": self.scores.get(new_id),
                }
                for new_id, identity in self.identities.items()
            ],
            "vanished": list(self.vanished),
            "new": list(self.new),
        }


@dataclass(frozen=True)
class Contingency:
    """Customers in both runs, counted by earlier segment (rows) and new segment (columns)."""

    counts: np.ndarray
    """int64, ``(len(earlier_ids), len(new_ids))``."""
    earlier_ids: tuple[int, ...]
    """Every segment of the earlier run (also those with no customer in the new one)."""
    new_ids: tuple[int, ...]
    """Every segment of the new run."""
    shared: int
    """Customers in both runs (also where either left them unsegmented)."""
    duplicated: int
    """IDs left out because they occur on more than one row of either run."""

    @property
    def segmented_shared(self) -> int:
        """Customers in both runs and in a segment of each (the sum of ``counts``)."""
        return int(self.counts.sum())


def _ids(values: Sequence[str] | np.ndarray | pd.Series) -> pd.Series:
    return normalise_ids(pd.Series(values, dtype=object).reset_index(drop=True).astype(str))


def unique_ids(values: Sequence[str] | np.ndarray | pd.Series) -> tuple[pd.Series, int]:
    """IDs as ``normalise_ids`` text, with blanks and IDs on more than one row masked out
    (``False``), and how many distinct IDs were duplicated.

    A customer on two rows may sit in two segments; counting either row would invent a
    move, so a duplicated ID is left out of the comparison altogether (and counted).
    """
    ids = _ids(values)
    counts = ids.map(ids.value_counts())
    keep = (ids != "") & (counts == 1)
    return ids.where(keep, None), int(ids[(ids != "") & (counts > 1)].nunique())


def contingency_by_ids(
    ids_a: Sequence[str] | np.ndarray | pd.Series,
    labels_a: np.ndarray,
    ids_b: Sequence[str] | np.ndarray | pd.Series,
    labels_b: np.ndarray,
) -> Contingency:
    """Count the customers of both runs by earlier segment (``a``) and new segment (``b``).

    IDs are compared as text (``normalise_ids``: stripped, leading zeros kept); blank IDs
    and IDs on more than one row of either run are left out (``Contingency.duplicated``);
    unsegmented rows (label -1) count as shared but in no cell.

    >>> c = contingency_by_ids(["1", "2", "3"], np.array([0, 0, 1]), ["3", "2", "9"],
    ...                        np.array([5, 5, 5]))
    >>> c.counts.tolist(), c.earlier_ids, c.new_ids, c.shared
    ([[1], [1]], (0, 1), (5,), 2)
    """
    labels_a, labels_b = np.asarray(labels_a, dtype=int), np.asarray(labels_b, dtype=int)
    if len(ids_a) != len(labels_a) or len(ids_b) != len(labels_b):
        raise ValueError("each run needs one label per ID")
    a, duplicated_a = unique_ids(ids_a)
    b, duplicated_b = unique_ids(ids_b)
    left = pd.DataFrame({"id": a, "a": labels_a}).dropna(subset=["id"])
    right = pd.DataFrame({"id": b, "b": labels_b}).dropna(subset=["id"])
    both = left.merge(right, on="id", how="inner")
    earlier_ids = tuple(int(s) for s in np.unique(labels_a[labels_a != UNSEGMENTED]))
    new_ids = tuple(int(s) for s in np.unique(labels_b[labels_b != UNSEGMENTED]))
    counts = np.zeros((len(earlier_ids), len(new_ids)), dtype=np.int64)
    segmented = both[(both["a"] != UNSEGMENTED) & (both["b"] != UNSEGMENTED)]
    if len(segmented):
        rows = np.searchsorted(earlier_ids, segmented["a"].to_numpy())
        cols = np.searchsorted(new_ids, segmented["b"].to_numpy())
        np.add.at(counts, (rows, cols), 1)
    duplicated = duplicated_a + duplicated_b
    return Contingency(counts, earlier_ids, new_ids, len(both), duplicated)


def ids_overlap(contingency: Contingency, n_new_segmented: int) -> bool:
    """Whether to match by customers: at least ``MIN_SHARED_SHARE`` of the new run's
    ``n_new_segmented`` segmented customers are in a segment of both runs."""
    return n_new_segmented > 0 and (
        contingency.segmented_shared >= MIN_SHARED_SHARE * n_new_segmented
    )


def _ids_or_range(ids: Sequence[int] | None, n: int, what: str) -> tuple[int, ...]:
    if ids is None:
        return tuple(range(n))
    out = tuple(int(i) for i in ids)
    if len(out) != n:
        raise ValueError(f"{len(out)} {what} ids for {n} segments")
    if len(set(out)) != n:
        raise ValueError(f"{what} ids repeat: {out}")
    return out


def _match(
    score: np.ndarray,
    eligible: np.ndarray,
    earlier_ids: tuple[int, ...],
    new_ids: tuple[int, ...],
    method: MatchMethod,
    threshold: float,
    next_id: int | None,
    maximise: bool,
) -> SegmentMatch:
    """The one-to-one assignment over eligible pairs, and identities for the rest."""
    matched: dict[int, int] = {}
    scores: dict[int, float] = {}
    if score.size:
        # Ineligible pairs weigh nothing (or are dearer than any eligible set), so the
        # assignment never trades an eligible pair for one that is dropped afterwards.
        if maximise:
            weight = np.where(eligible, score, 0.0)
        else:
            big = float(score[eligible].max()) * len(score) + 1.0 if eligible.any() else 1.0
            weight = np.where(eligible, score, big)
        rows, cols = linear_sum_assignment(weight, maximize=maximise)
        for row, col in zip(rows, cols, strict=True):
            if eligible[row, col]:
                matched[new_ids[col]] = earlier_ids[row]
                scores[new_ids[col]] = round(float(score[row, col]), 4)
    first = max(earlier_ids, default=-1) + 1
    fresh = first if next_id is None else max(int(next_id), first)
    identities: dict[int, int] = {}
    for new_id in sorted(new_ids):
        if new_id in matched:
            identities[new_id] = matched[new_id]
        else:
            identities[new_id] = fresh
            fresh += 1
    continued = set(matched.values())
    return SegmentMatch(
        identities=identities,
        matched=dict(sorted(matched.items())),
        scores=dict(sorted(scores.items())),
        vanished=tuple(i for i in sorted(earlier_ids) if i not in continued),
        new=tuple(i for i in sorted(new_ids) if i not in matched),
        method=method,
        threshold=threshold,
    )


def jaccard(counts: np.ndarray) -> np.ndarray:
    """Per pair of segments, shared customers over the customers either holds (of those
    counted in ``counts``); 0 where both are empty."""
    counts = np.asarray(counts, dtype=float)
    union = counts.sum(axis=1, keepdims=True) + counts.sum(axis=0, keepdims=True) - counts
    return np.divide(counts, union, out=np.zeros_like(counts), where=union > 0)


def match_segments(
    contingency: np.ndarray | Contingency,
    earlier_ids: Sequence[int] | None = None,
    new_ids: Sequence[int] | None = None,
    *,
    min_jaccard: float = MIN_JACCARD,
    min_customers: int = MIN_MATCH_CUSTOMERS,
    next_id: int | None = None,
) -> SegmentMatch:
    """Match new segments (columns) to earlier ones (rows) by the customers they share.

    The one-to-one matching maximises the summed Jaccard index (``jaccard``) over pairs
    that reach ``min_jaccard`` and share ``min_customers``; other pairs are never matched.

    Args:
        contingency: shared customers per (earlier, new) pair, or a ``Contingency``
            (which brings its ids).
        earlier_ids, new_ids: the segment ids of the rows and columns (default 0, 1 ...).
        next_id: the first new number (default: one above the largest earlier id); give
            one above every id the run's history has used, so a vanished one is not reused.

    Returns:
        The ``SegmentMatch`` (method ``customers``, threshold ``min_jaccard``).
    """
    if isinstance(contingency, Contingency):
        earlier_ids = contingency.earlier_ids if earlier_ids is None else earlier_ids
        new_ids = contingency.new_ids if new_ids is None else new_ids
        contingency = contingency.counts
    counts = np.asarray(contingency, dtype=float)
    if counts.ndim != 2:
        raise ValueError(f"the contingency table must be 2-D, not {counts.ndim}-D")
    rows = _ids_or_range(earlier_ids, counts.shape[0], "earlier")
    cols = _ids_or_range(new_ids, counts.shape[1], "new")
    score = jaccard(counts)
    eligible = (score >= min_jaccard) & (counts >= min_customers)
    return _match(score, eligible, rows, cols, "customers", min_jaccard, next_id, True)


def default_max_distance(earlier_centres: np.ndarray) -> float:
    """``CENTRE_GAP_SHARE`` of the smallest distance between two earlier centres (infinite
    with one earlier segment: any new centre is nearest to it)."""
    centres = np.asarray(earlier_centres, dtype=float)
    if len(centres) < 2:
        return float("inf")
    gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=-1)
    return CENTRE_GAP_SHARE * float(gaps[np.triu_indices(len(centres), k=1)].min())


def match_by_centres(
    earlier_centres: np.ndarray,
    new_centres: np.ndarray,
    max_distance: float | None = None,
    earlier_ids: Sequence[int] | None = None,
    new_ids: Sequence[int] | None = None,
    *,
    next_id: int | None = None,
) -> SegmentMatch:
    """Match new segments to earlier ones by the distance between their centres, for
    tables that share no customer IDs.

    Both sets of centres must be in one space (the new run's centres placed in the earlier
    run's space by its saved model). The one-to-one matching minimises the summed
    Euclidean distance over pairs no farther apart than ``max_distance`` (default
    ``default_max_distance(earlier_centres)``); farther pairs are never matched.
    """
    earlier = np.asarray(earlier_centres, dtype=float)
    new = np.asarray(new_centres, dtype=float)
    if (
        earlier.ndim != 2
        or new.ndim != 2
        or (earlier.size and new.size and (earlier.shape[1] != new.shape[1]))
    ):
        raise ValueError(
            f"centres must be two tables of the same width, not {earlier.shape} and {new.shape}"
        )
    limit = default_max_distance(earlier) if max_distance is None else float(max_distance)
    rows = _ids_or_range(earlier_ids, len(earlier), "earlier")
    cols = _ids_or_range(new_ids, len(new), "new")
    if earlier.size and new.size:
        distance = np.linalg.norm(earlier[:, None, :] - new[None, :, :], axis=-1)
    else:
        distance = np.zeros((len(earlier), len(new)))
    eligible = distance <= limit
    return _match(distance, eligible, rows, cols, "centres", limit, next_id, False)


def relabel(labels: np.ndarray, identities: Mapping[int, int]) -> np.ndarray:
    """Each row's segment as its identity; unsegmented rows (-1) stay -1."""
    labels = np.asarray(labels, dtype=int)
    out = labels.copy()
    for new_id, identity in identities.items():
        out[labels == new_id] = identity
    return out


def relabel_run_outputs(
    labels: np.ndarray,
    profiles: Sequence[SegmentProfile],
    match: SegmentMatch,
    earlier_profiles: Sequence[SegmentProfile] = (),
) -> tuple[np.ndarray, tuple[SegmentProfile, ...]]:
    """A new run's labels and profiles under the identities of ``match``.

    A segment that continues an earlier one takes its number and, where
    ``earlier_profiles`` has it, its name; a new one keeps its own name under its new
    number. Profiles come back in order of identity. Nothing is changed in place.

    Note that identities need not run 0..k-1: a vanished segment leaves a gap.
    """
    names = {p.segment_id: p.name for p in earlier_profiles}
    renamed = []
    for profile in profiles:
        identity = match.identities.get(profile.segment_id, profile.segment_id)
        earlier = match.matched.get(profile.segment_id)
        name = names.get(earlier, profile.name) if earlier is not None else profile.name
        renamed.append(replace(profile, segment_id=identity, name=name))
    return relabel(labels, match.identities), tuple(sorted(renamed, key=lambda p: p.segment_id))
