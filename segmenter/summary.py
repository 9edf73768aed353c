"""Per-segment counts, means and spreads that the profiles are built from.

Summaries of separate batches of rows merge into the summary of all of them, so a table spread
over a Ray cluster is profiled without collecting its rows on one machine; the local engine
summarises its whole table as one batch and builds the same profiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of finite values, per group and column."""

    count: np.ndarray  # (groups, columns)
    mean: np.ndarray
    m2: np.ndarray

    def merge(self, other: Moments) -> Moments:
        """Chan et al.'s pairwise update: exact, and stable for large values."""
        count = self.count + other.count
        safe = np.where(count > 0, count, 1)
        delta = other.mean - self.mean
        mean = np.where(count > 0, self.mean + delta * other.count / safe, 0.0)
        m2 = self.m2 + other.m2 + delta**2 * self.count * other.count / safe
        return Moments(count, mean, m2)

    def std(self, group: int) -> np.ndarray:
        """Population standard deviation (as ``np.nanstd``) of one group."""
        return np.sqrt(self.m2[group] / np.maximum(self.count[group], 1))


def _moments(values: np.ndarray, groups: np.ndarray, n_groups: int) -> Moments:
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    count = np.zeros((n_groups, values.shape[1]))
    total = np.zeros((n_groups, values.shape[1]))
    np.add.at(count, groups, finite.astype(float))
    np.add.at(total, groups, filled)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    deviation = np.where(finite, values - mean[groups], 0.0)
    m2 = np.zeros((n_groups, values.shape[1]))
    np.add.at(m2, groups, deviation**2)
    return Moments(count, mean, m2)


@dataclass(frozen=True)
class CategoryCounts:
    """One categorical column: its values in order of first appearance, and how often each
    occurs among all rows (row 0 of ``counts``) and in each segment (row 1 + segment)."""

    column: str
    values: tuple[str, ...]
    first_row: np.ndarray  # where each value first appears, to keep that order when merging
    counts: np.ndarray  # (1 + n_segments, n_values)

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        first: dict[str, int] = {}
        for values, rows in ((self.values, self.first_row), (other.values, other.first_row)):
            for value, row in zip(values, rows, strict=True):
                first[value] = min(first.get(value, int(row)), int(row))
        merged = sorted(first, key=first.__getitem__)
        position = {value: i for i, value in enumerate(merged)}
        counts = np.zeros((self.counts.shape[0], len(merged)), dtype=np.int64)
        for part in (self, other):
            counts[:, [position[v] for v in part.values]] += part.counts
        rows = np.array([first[v] for v in merged], dtype=np.int64)
        return CategoryCounts(self.column, tuple(merged), rows, counts)


def _category_counts(
    column: str, labels: pd.Series, groups: np.ndarray, n_groups: int, first_row: int
) -> CategoryCounts:
    codes, values = pd.factorize(labels.astype(str))
    present = codes >= 0
    counts = np.zeros((n_groups, len(values)), dtype=np.int64)
    np.add.at(counts, (groups[present], codes[present]), 1)
    counts[0] = np.bincount(codes[present], minlength=len(values))
    first = np.full(len(values), -1, dtype=np.int64)
    order = np.flatnonzero(present)[::-1]  # the last write wins: the first appearance
    first[codes[order]] = order + first_row
    return CategoryCounts(column, tuple(str(v) for v in values), first, counts)


@dataclass(frozen=True)
class ProfileSummary:
    """Everything the profiles count, for some rows of a table (see ``summarise``)."""

    n_segments: int
    rows: int
    sizes: np.ndarray  # (n_segments,)
    numeric_columns: tuple[str, ...]
    numeric: Moments  # group 0: all rows; group 1 + s: segment s
    categories: tuple[CategoryCounts, ...]

    def merge(self, other: ProfileSummary) -> ProfileSummary:
        """The summary of both batches of rows."""
        return ProfileSummary(
            n_segments=self.n_segments,
            rows=self.rows + other.rows,
            sizes=self.sizes + other.sizes,
            numeric_columns=self.numeric_columns,
            numeric=self.numeric.merge(other.numeric),
            categories=tuple(
                a.merge(b) for a, b in zip(self.categories, other.categories, strict=True)
            ),
        )


def summarise(
    labels: np.ndarray,
    numeric: pd.DataFrame,
    categorical: pd.DataFrame,
    n_segments: int,
    *,
    first_row: int = 0,
) -> ProfileSummary:
    """Counts and moments of a batch of rows (``first_row``: the batch's first row's number
    in the table, so merged category values keep the table's order). Overall figures cover
    every row, unsegmented ones (label < 0) too, as the profiles compare against them."""
    labels = np.asarray(labels)
    segmented = labels >= 0
    overall = np.zeros(len(labels), dtype=np.int64)
    values = numeric.to_numpy(dtype=np.float64, na_value=np.nan).reshape(len(labels), -1)
    everyone = _moments(values, overall, 1)
    by_segment = _moments(values[segmented], labels[segmented] + 1, n_segments + 1)
    moments = Moments(
        count=np.vstack([everyone.count, by_segment.count[1:]]),
        mean=np.vstack([everyone.mean, by_segment.mean[1:]]),
        m2=np.vstack([everyone.m2, by_segment.m2[1:]]),
    )
    groups = np.where(segmented, labels + 1, 0)
    categories = tuple(
        _category_counts(str(column), categorical[column], groups, n_segments + 1, first_row)
        for column in categorical.columns
    )
    return ProfileSummary(
        n_segments=n_segments,
        rows=len(labels),
        sizes=np.bincount(labels[segmented], minlength=n_segments)[:n_segments],
        numeric_columns=tuple(str(c) for c in numeric.columns),
        numeric=moments,
        categories=categories,
    )
