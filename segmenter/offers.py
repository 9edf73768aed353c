"""Next best offers: products, categories or plans a segment holds more than everyone else.

For every offer-like column (a product, category, plan, tier ... column), each value's
share in a segment is compared with its share among all customers. Values held by enough of
the segment (support) and clearly more than overall (lift) are the segment's next best
offers: what look-alike customers in the segment who do not yet have it are likely to want.

A cell is split into several items ("kettle; mug") only when the whole column is a list
column (``is_list_column``): most filled cells hold a separator and the items recur in
different combinations. A product name that merely contains commas ("Credit reporting,
credit repair services, or other personal consumer reports") stays one offer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

OFFER_COLUMN = re.compile(
    r"(?i)(?:^|[^a-z])(?:product|products|category|categories|plan|tier|package|item|items"
    r"|sku|subscription|offer|bundle|service|services|bought|purchases?)(?:$|[^a-z])"
)
MIN_SUPPORT = 0.05
"""An offer must be held by at least this share of the segment."""
MIN_LIFT = 1.2
"""...and be this many times more common in the segment than overall."""
TOP_OFFERS = 3
MAX_VALUES = 200
_ITEM_SPLIT = re.compile(r"\s*[;,|]\s*")
LIST_CELL_SHARE = 0.5
"""A list column has a separator in at least this share of its filled cells ("most")."""
LIST_RECURRING_SHARE = 0.5
"""...and at least this share of its items appear in two or more different cells. In a
real list column ("kettle; mug", "kettle, toaster", "mug") items recombine; the parts of a
product name with commas occur only inside that one name, so their share is near 0 (the
consumer-complaint Product column: 0 of 9 parts recur)."""


@dataclass(frozen=True)
class Offer:
    """One value a segment holds more than all customers do."""

    column: str
    value: str
    support: float  # share of the segment holding it
    overall: float  # share of all customers holding it
    lift: float


def offer_columns(columns: Sequence[str]) -> list[str]:
    """The columns whose names say they hold products, categories or plans."""
    return [c for c in columns if OFFER_COLUMN.search(str(c))]


@dataclass(frozen=True)
class ItemCounts:
    """One offer column over some rows: how many segmented rows hold each item, overall
    (row 0 of ``counts``) and per segment (row 1 + segment), and where each item first
    appears. Counts of separate batches of rows merge into those of all of them.

    ``count_items`` counts whole cells; ``split_lists`` turns the counts of a list column
    into counts of its items, once every batch is merged, so that both engines decide
    from the whole table."""

    column: str
    items: tuple[str, ...]
    first_row: np.ndarray  # (n_items,)
    counts: np.ndarray  # (1 + n_segments, n_items)
    rows: np.ndarray  # (1 + n_segments,) segmented rows, overall and per segment

    def merge(self, other: ItemCounts) -> ItemCounts:
        first: dict[str, int] = {}
        for part in (self, other):
            for item, row in zip(part.items, part.first_row, strict=True):
                first[item] = min(first.get(item, int(row)), int(row))
        items = sorted(first, key=first.__getitem__)
        position = {item: i for i, item in enumerate(items)}
        counts = np.zeros((self.counts.shape[0], len(items)), dtype=np.int64)
        for part in (self, other):
            counts[:, [position[i] for i in part.items]] += part.counts
        rows = np.array([first[i] for i in items], dtype=np.int64)
        return ItemCounts(self.column, tuple(items), rows, counts, self.rows + other.rows)


def count_items(
    column: str, cells: pd.Series, labels: np.ndarray, n_segments: int, *, first_row: int = 0
) -> ItemCounts:
    """The distinct cells of one offer column over the segmented rows of a batch, with how
    many rows hold each (blank cells are left out). ``first_row`` is the batch's first row's
    number in the table."""
    labels = np.asarray(labels)
    segmented = labels >= 0
    text = cells.fillna("").astype(str).str.strip().to_numpy()[segmented]
    groups = labels[segmented] + 1
    numbers = np.flatnonzero(segmented) + first_row
    # Cells repeat a lot: count each distinct cell once (100k rows: 0.8 s -> 0.05 s).
    codes, distinct = pd.factorize(pd.Series(text, dtype=object))
    per_cell = np.zeros((n_segments + 1, len(distinct)), dtype=np.int64)
    np.add.at(per_cell, (groups, codes), 1)
    per_cell[0] = per_cell[1:].sum(axis=0)
    cell_first = np.full(len(distinct), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(cell_first, codes, numbers)
    filled = np.array([bool(cell) for cell in distinct], dtype=bool)
    order = np.flatnonzero(filled)[np.argsort(cell_first[filled], kind="stable")]
    rows = np.bincount(groups, minlength=n_segments + 1)
    rows[0] = len(groups)
    return ItemCounts(
        column,
        tuple(str(distinct[i]) for i in order),
        cell_first[order],
        per_cell[:, order],
        rows,
    )


def _items(cell: str) -> set[str]:
    return {item for item in _ITEM_SPLIT.split(cell) if item}


def is_list_column(cells: Sequence[str], rows: Sequence[int] | np.ndarray) -> bool:
    """Whether a column's distinct filled ``cells`` (held by ``rows`` rows each) list
    several items: most filled rows hold a separator and most items recur in different cells.

    >>> is_list_column(["kettle; mug", "kettle, toaster", "mug"], [1, 1, 1])
    True
    >>> is_list_column(["Debt collection", "Credit reporting, credit repair services"], [5, 9])
    False
    """
    held = np.asarray(rows, dtype=np.int64)
    if not len(cells) or held.sum() == 0:
        return False
    separated = np.array([len(_items(cell)) > 1 for cell in cells], dtype=bool)
    if held[separated].sum() < LIST_CELL_SHARE * held.sum():
        return False
    cells_per_item: dict[str, int] = {}
    for cell in cells:
        for item in _items(cell):
            cells_per_item[item] = cells_per_item.get(item, 0) + 1
    recurring = sum(1 for n in cells_per_item.values() if n > 1)
    return recurring >= LIST_RECURRING_SHARE * len(cells_per_item)


def split_lists(column: ItemCounts) -> ItemCounts:
    """The counts of a list column's items ("kettle; mug" holds both); other columns'
    counts as they are."""
    if not is_list_column(column.items, column.counts[0]):
        return column
    found: dict[str, tuple[int, np.ndarray]] = {}
    for index, cell in enumerate(column.items):
        first = int(column.first_row[index])
        for item in _items(cell):
            row, counts = found.get(item, (first, 0))
            found[item] = (min(row, first), counts + column.counts[:, index])
    items = tuple(sorted(found, key=lambda item: found[item][0]))
    counts = np.zeros((column.counts.shape[0], len(items)), dtype=np.int64)
    for position, item in enumerate(items):
        counts[:, position] = found[item][1]
    first_row = np.array([found[item][0] for item in items], dtype=np.int64)
    return ItemCounts(column.column, items, first_row, counts, column.rows)


def offers_from_counts(
    columns: Sequence[ItemCounts],
    segments: Sequence[int],
    *,
    min_support: float = MIN_SUPPORT,
    min_lift: float = MIN_LIFT,
    top: int = TOP_OFFERS,
) -> dict[int, tuple[Offer, ...]]:
    """Each segment's offers from the item counts of the whole table, strongest lift first.
    Only a column's ``MAX_VALUES`` most held items are considered (ties: the first seen)."""
    out: dict[int, list[Offer]] = {int(s): [] for s in segments}
    for column in map(split_lists, columns):
        totals = column.counts[0]
        ranked = sorted(range(len(column.items)), key=lambda i: (-totals[i], column.first_row[i]))
        chosen = ranked[:MAX_VALUES]
        if len(chosen) < 2:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            overall = totals[chosen] / column.rows[0]
            for segment in out:
                support = column.counts[1 + segment, chosen] / column.rows[1 + segment]
                lift = support / overall
                for position, index in enumerate(chosen):
                    if support[position] >= min_support and lift[position] >= min_lift:
                        out[segment].append(
                            Offer(
                                column.column,
                                column.items[index],
                                float(support[position]),
                                float(overall[position]),
                                float(lift[position]),
                            )
                        )
    return {
        segment: tuple(sorted(offers, key=lambda o: -o.lift)[:top])
        for segment, offers in out.items()
    }


def next_best_offers(
    frame: pd.DataFrame,
    labels: np.ndarray,
    columns: Sequence[str],
    *,
    min_support: float = MIN_SUPPORT,
    min_lift: float = MIN_LIFT,
    top: int = TOP_OFFERS,
) -> dict[int, tuple[Offer, ...]]:
    """Each segment's offers, strongest lift first (unsegmented rows are left out).

    >>> next_best_offers(frame, labels, ["plan"])[0][0].value
    'Premium'
    """
    labels = np.asarray(labels)
    segments = sorted(int(s) for s in np.unique(labels[labels >= 0]))
    n_segments = segments[-1] + 1 if segments else 0
    counts = [
        count_items(str(column), frame[column], labels, n_segments)
        for column in columns
        if column in frame.columns
    ]
    return offers_from_counts(counts, segments, min_support=min_support, min_lift=min_lift, top=top)


def describe_offer(offer: Offer) -> str:
    """ "Premium (plan): 77% of the segment against 26% overall, 3.0x" """
    return (
        f"{offer.value} ({offer.column}): {offer.support:.0%} of the segment against "
        f"{offer.overall:.0%} overall, {offer.lift:.1f}x"
    )
