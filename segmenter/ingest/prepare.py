"""Turn a table and its schema into features: IDs, numbers, categories and documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from segmenter.config import MIN_ROWS
from segmenter.errors import SchemaError
from segmenter.ingest.schema import CONSTANT_REASONS, Schema
from segmenter.ingest.values import (
    MISSING_CATEGORY,
    _as_text,
    _missing_mask,
    normalise_ids,
    parse_dates,
    parse_numbers,
)

# --- Features --------------------------------------------------------------------------------

DATE_FEATURE_SUFFIX = " (days)"
"""A date column ``signup`` becomes the numeric feature ``signup (days)``: days since the
earliest date."""


@dataclass(frozen=True)
class PreparedTable:
    """Structured features, one row per input row, aligned with the table's index."""

    ids: pd.Series
    id_name: str
    numeric: pd.DataFrame
    categorical: pd.DataFrame
    coerced_cells: dict[str, int]
    notes: tuple[str, ...]


def _check_columns(frame: pd.DataFrame, schema: Schema) -> None:
    absent = [c.name for c in schema.columns if c.name not in frame.columns]
    if absent:
        raise SchemaError(
            f"The schema names columns the table lacks ({', '.join(absent)}): detect the "
            "schema again for this table."
        )


@dataclass(frozen=True)
class DateReading:
    """How a date column is read across a whole table that arrives in parts: with the day
    first or not, and from which earliest date its days are counted."""

    dayfirst: bool
    origin: pd.Timestamp | None


def prepare_columns(
    frame: pd.DataFrame,
    schema: Schema,
    *,
    dates: Mapping[str, DateReading] | None = None,
    first_row: int = 0,
) -> PreparedTable:
    """IDs, numeric features (dates as days since the earliest date) and categories.

    Label columns are left out (they are what a model predicts, not features). A part of a
    larger table passes its ``dates`` readings and the number of rows before it
    (``first_row``), so that its days and row numbers are the whole table's.

    Raises:
        SchemaError: the schema names a column the table does not have.
    """
    _check_columns(frame, schema)
    id_name = schema.id_column
    if id_name is None:
        numbers = range(first_row + 1, first_row + len(frame) + 1)
        ids = pd.Series([str(i) for i in numbers], index=frame.index, dtype=object)
        id_name = "row_number"
    else:
        ids = normalise_ids(frame[id_name])
    numeric: dict[str, pd.Series] = {}
    coerced: dict[str, int] = {}
    notes: list[str] = []
    for column in schema.columns:
        if column.role == "numeric":
            values, bad = parse_numbers(frame[column.name])
            numeric[column.name] = values
            coerced[column.name] = bad
            what = "blank, N/A or '-'"
        elif column.role == "date":
            reading = (dates or {}).get(column.name)
            parsed = parse_dates(frame[column.name], reading.dayfirst if reading else None)
            origin = reading.origin if reading and reading.origin is not None else parsed.min()
            days = (parsed - origin).dt.total_seconds() / 86400.0
            key = f"{column.name}{DATE_FEATURE_SUFFIX}"
            numeric[key] = days.astype("float64")
            coerced[key] = bad = int(days.isna().sum())
            what = "blank or not dates"
        else:
            continue
        if bad:
            verb = "cell was not a number" if bad == 1 else "cells were not numbers"
            if column.role == "date":
                verb = "cell was not a date" if bad == 1 else "cells were not dates"
            notes.append(f"{column.name}: {bad:,} {verb} ({what}) and count as missing.")
    categorical: dict[str, pd.Series] = {}
    for name in schema.categorical_columns:
        text = _as_text(frame[name]).str.strip()
        categorical[name] = text.where(~_missing_mask(text), MISSING_CATEGORY).astype(object)
    return PreparedTable(
        ids=ids,
        id_name=id_name,
        numeric=pd.DataFrame(numeric, index=frame.index, dtype="float64"),
        categorical=pd.DataFrame(categorical, index=frame.index, dtype=object),
        coerced_cells=coerced,
        notes=tuple(notes),
    )


def build_documents(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """One text per row from the text columns ("" where a row has none).

    Parts are joined with ". " (a space after a part that already ends a sentence), in
    column order, with no column names: the documents are what the marketer reads in
    quotes and search results and what keywords and sentiment are computed from, so a
    field label ("Company: ") would become a keyword, open every quote and tint every
    sentiment score. The embedding does not need the labels either: a prefix shared by
    every row adds the same tokens to every document, which moves all vectors towards one
    direction and separates nothing (two columns' answers are told apart by what they say).

    >>> from segmenter.ingest import detect_schema
    >>> frame = pd.DataFrame({"q1": ["Late delivery", ""], "q2": ["Kind support", "N/A"]})
    >>> build_documents(frame, detect_schema(frame).with_roles({"q1": "text", "q2": "text"}))
    ['Late delivery. Kind support', '']
    """
    _check_columns(frame, schema)
    names = schema.text_columns
    cleaned = []
    for name in names:
        text = _as_text(frame[name])
        # Collapse newlines and runs of spaces: same text, same cache key.
        text = text.str.split().str.join(" ")
        cleaned.append(text.where(~_missing_mask(text), "").tolist())
    documents = []
    for parts in zip(*cleaned, strict=True) if cleaned else [() for _ in range(len(frame))]:
        document = ""
        for piece in (p for p in parts if p):
            if document:
                document += " " if document[-1] in ".!?。！？" else ". "
            document += piece
        documents.append(document)
    return documents


def validate_for_segmentation(frame: pd.DataFrame, schema: Schema) -> None:
    """Raise SchemaError when the table cannot be segmented as the schema stands."""
    _check_columns(frame, schema)
    if len(frame) < MIN_ROWS:
        raise SchemaError(
            f"The table has only {len(frame)} rows: segmentation needs at least {MIN_ROWS} "
            "customers; upload a larger table."
        )
    if not (schema.text_columns or schema.numeric_columns or schema.categorical_columns):
        constant = [c.name for c in schema.columns if c.reason.startswith(CONSTANT_REASONS)]
        if constant:
            raise SchemaError(
                f"No column varies between customers: {', '.join(constant)} hold one value "
                "in nearly every row; upload a table whose customers differ, or mark a column "
                "as text, numeric or categorical on the Upload page."
            )
        raise SchemaError(
            "There is no column to segment on: mark at least one column as text, numeric or "
            "categorical on the Upload page."
        )
