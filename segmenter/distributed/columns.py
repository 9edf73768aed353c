"""Column names of the distributed rows, their layout, and gathering rows by number."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BATCH_ROWS = 4096
"""Rows per batch for the apply and summary passes."""


# What each distributed row holds, besides its original cells (ORIGINAL + position).
ROW = "__row"
DOC = "__doc"
ID = "__id"
VECTOR = "__vector"
HAS_TEXT = "__has_text"
LABEL = "__label"
X, Y = "__x", "__y"
DISTANCE = "__distance"
NUMERIC = "__num_"
CATEGORY = "__cat_"
ORIGINAL = "__orig_"
HAS_DOC = "__has_doc"
FEEDBACK_DOC = "__feedback_doc"
FEATURES = "__features"
SENTIMENT_VECTOR = "__sentiment_vector"
SENTIMENT_HAS_TEXT = "__sentiment_has_text"
SENTIMENT = "__sentiment"
SCORE = "__sentiment_score"
FLAGS = "__urgent_flags"
DROPPED_AFTER_APPLY = (VECTOR, FEATURES, SENTIMENT_VECTOR)
SPACE = "__space"
FITS_POORLY = "__fits_poorly"
KNOWN = "__known"
"""``assign``: whether a row fits the saved segments poorly, and whether it is a customer
the saved model learnt from."""


@dataclass(frozen=True)
class Layout:
    """Where each input column lives in the distributed rows."""

    original: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    id_name: str
    labels: tuple[str, ...] = ()
    """Label columns, stored after the categorical ones: profiled as categories but never
    segmented on, as in the local engine (``stage_columns.profiled_categories``)."""
    features: str = VECTOR
    """The column the segmentation reads: the text vectors, or in the fast mode the static
    vectors joined with the table's topics."""

    def numeric_frame(self, batch: Mapping[str, np.ndarray]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: batch[f"{NUMERIC}{i}"] for i, name in enumerate(self.numeric)}, dtype="float64"
        ).reset_index(drop=True)

    def categorical_frame(
        self, batch: Mapping[str, np.ndarray], *, profiled: bool = False
    ) -> pd.DataFrame:
        """The categorical columns segmented on; with ``profiled``, the label columns too."""
        names = (*self.categorical, *self.labels) if profiled else self.categorical
        return pd.DataFrame(
            {name: batch[f"{CATEGORY}{i}"] for i, name in enumerate(names)}, dtype=object
        ).reset_index(drop=True)

    def original_frame(self, batch: Mapping[str, np.ndarray]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: batch[f"{ORIGINAL}{i}"] for i, name in enumerate(self.original)}, dtype=object
        )


def numbers_where(rows: Any, flag: str) -> np.ndarray:
    """Row numbers (sorted) where a boolean column is true."""
    pieces = list(
        rows.select_columns([ROW, flag]).iter_batches(batch_format="numpy", batch_size=None)
    )
    numbers = [p[ROW][np.asarray(p[flag], dtype=bool)] for p in pieces]
    return np.sort(np.concatenate(numbers)) if numbers else np.zeros(0, np.int64)


def gather(rows: Any, wanted: np.ndarray, columns: list[str]) -> dict[str, np.ndarray]:
    """The rows numbered ``wanted`` (in that order), with ``columns`` only."""
    ids = np.unique(wanted)

    def select(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keep = np.isin(batch[ROW], ids)
        return {c: batch[c][keep] for c in columns}

    found = rows.map_batches(select, batch_format="numpy", batch_size=BATCH_ROWS)
    pieces = list(found.iter_batches(batch_format="numpy", batch_size=None))
    merged = {
        c: np.concatenate([p[c] for p in pieces]) if pieces else np.array([]) for c in columns
    }
    order = np.searchsorted(merged[ROW], wanted)
    return {c: v[order] for c, v in merged.items()}


def inputs_of(layout: Layout, batch: Mapping[str, np.ndarray], text: bool) -> tuple[Any, ...]:
    vectors = np.asarray(batch[layout.features]) if text and layout.features in batch else None
    has_text = np.asarray(batch[HAS_TEXT], dtype=bool) if text else None
    numeric = layout.numeric_frame(batch) if layout.numeric else None
    categorical = layout.categorical_frame(batch) if layout.categorical else None
    return vectors, has_text, numeric, categorical


def structured_columns(layout: Layout) -> list[str]:
    return [f"{NUMERIC}{i}" for i in range(len(layout.numeric))] + [
        f"{CATEGORY}{i}" for i in range(len(layout.categorical))
    ]


def one_cell(value: object) -> np.ndarray:
    """A one-element object column (``np.array([value])`` would unpack nested lists)."""
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def texts_at(rows: Any, numbers: np.ndarray) -> dict[int, str]:
    if not len(numbers):
        return {}
    found = gather(rows, numbers, [ROW, DOC])
    return {int(r): str(d) for r, d in zip(found[ROW], found[DOC], strict=True)}
