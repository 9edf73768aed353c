"""Reading the input's parts with the local ingest rules, roles, dates and preparation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.distributed.columns import (
    CATEGORY,
    DOC,
    FEEDBACK_DOC,
    HAS_DOC,
    ID,
    NUMERIC,
    ORIGINAL,
    ROW,
)
from segmenter.errors import InputError
from segmenter.ingest import (
    DateReading,
    Schema,
    build_documents,
    date_evidence,
    load_table,
    parse_dates,
    prepare_columns,
)
from segmenter.sampling import schema_rows
from segmenter.stage_columns import numeric_features, profiled_categories

PART_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")


@dataclass(frozen=True)
class PartResult:
    """What reading one input part gave: its rows, or why it could not be read."""

    name: str
    rows: int = 0
    notes: tuple[str, ...] = ()
    error: str | None = None


def list_parts(source: Path) -> list[Path]:
    """The files of an input: the file itself, or a folder's table files (sorted, so the row
    order is the parts' order).

    Raises:
        InputError: when there is no such file or the folder holds no table file.
    """
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise InputError(
            f"{source} does not exist: give a CSV or Parquet file or a folder of them."
        )
    parts = sorted(
        p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in PART_SUFFIXES
    )
    if not parts:
        raise InputError(
            f"{source} holds no CSV, TSV, Excel or Parquet file: put the table's parts there."
        )
    return parts


def read_part(path: str, columns: tuple[str, ...] | None) -> tuple[pd.DataFrame, PartResult]:
    name = Path(path).name
    try:
        loaded = load_table(Path(path), name)
    except InputError as err:
        return pd.DataFrame(), PartResult(name, error=str(err))
    frame = loaded.frame
    if columns is not None and tuple(frame.columns) != columns:
        return pd.DataFrame(), PartResult(
            name,
            error=(
                f"{name} has the columns {', '.join(map(str, frame.columns))} where the first "
                f"part has {', '.join(columns)}: export every part with the same header."
            ),
        )
    return frame, PartResult(name, rows=len(frame), notes=loaded.report.notes)


def read_parts(ray: Any, parts: list[Path]) -> tuple[list[Any], list[PartResult], tuple[str, ...]]:
    """Read every part in parallel (Ray retries a part whose worker dies); a part that cannot
    be read is reported with its name and the reason, and the others go on."""
    read = ray.remote(num_returns=2, max_retries=3)(read_part)
    first_frame, first = ray.get(read.remote(str(parts[0]), None))
    frames = [ray.put(first_frame)]
    results = [first]
    columns = tuple(str(c) for c in first_frame.columns)
    refs = [read.remote(str(p), columns) for p in parts[1:]]
    for frame_ref, result_ref in refs:
        frames.append(frame_ref)
        results.append(ray.get(result_ref))
    if first.error is not None:
        raise InputError(f"The first part could not be read, so no header is known: {first.error}")
    kept = [frame for frame, result in zip(frames, results, strict=True) if result.error is None]
    return kept, results, columns


def rows_of_part(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    return frame.iloc[positions]


def part_date_evidence(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[bool, bool]]:
    return {c: date_evidence(frame[c].astype(str)) for c in columns}


def earliest_dates(frame: pd.DataFrame, readings: dict[str, bool]) -> dict[str, Any]:
    return {c: parse_dates(frame[c], dayfirst).min() for c, dayfirst in readings.items()}


def date_readings(ray: Any, frames: list[Any], schema: Schema) -> dict[str, DateReading]:
    """How each date column is read across all parts: day first only when no part says
    otherwise, days counted from the earliest date of any part."""
    columns = schema.date_columns
    if not columns:
        return {}
    evidence = ray.get([ray.remote(part_date_evidence).remote(f, columns) for f in frames])
    dayfirst = {
        c: any(e[c][0] for e in evidence) and not any(e[c][1] for e in evidence) for c in columns
    }
    earliest = ray.get([ray.remote(earliest_dates).remote(f, dayfirst) for f in frames])
    readings = {}
    for column in columns:
        dates = [e[column] for e in earliest if not pd.isna(e[column])]
        readings[column] = DateReading(dayfirst[column], min(dates) if dates else None)
    return readings


def prepare_part(
    frame: pd.DataFrame,
    schema: Schema,
    readings: dict[str, DateReading],
    first_row: int,
    feedback_schema: Schema | None,
) -> pd.DataFrame:
    """One part's rows as the cluster holds them: row number, document, feedback document,
    ID, prepared numeric and categorical columns (label columns after the categorical ones,
    for the profiles) and the original cells."""
    prepared = prepare_columns(frame, schema, dates=readings, first_row=first_row)
    docs = np.array(build_documents(frame, schema), dtype=object)
    feedback_docs = docs
    if feedback_schema is not None:
        feedback_docs = np.array(build_documents(frame, feedback_schema), dtype=object)
    categorical = profiled_categories(frame, schema, prepared.categorical)
    out = {
        ROW: np.arange(first_row, first_row + len(frame), dtype=np.int64),
        DOC: docs,
        HAS_DOC: np.array([bool(d.strip()) for d in docs]),
        FEEDBACK_DOC: feedback_docs,
        ID: prepared.ids.to_numpy(dtype=object),
    }
    # Stored in the order the layout names them (``Layout.numeric``), whatever the table's.
    for i, column in enumerate(numeric_features(schema)):
        out[f"{NUMERIC}{i}"] = prepared.numeric[column].to_numpy(dtype=np.float64)
    for i, column in enumerate(categorical.columns):
        out[f"{CATEGORY}{i}"] = categorical[column].to_numpy(dtype=object)
    for i, column in enumerate(frame.columns):
        out[f"{ORIGINAL}{i}"] = frame[column].to_numpy(dtype=object)
    return pd.DataFrame(out)


def schema_sample(
    ray: Any, frames: list[Any], counts: list[int], offsets: np.ndarray
) -> pd.DataFrame:
    """The rows of ``sampling.schema_rows`` in table order (all of a small table)."""
    chosen = schema_rows(sum(counts))
    pick = ray.remote(rows_of_part)
    pieces = []
    for frame, offset, count in zip(frames, offsets, counts, strict=True):
        inside = chosen[(chosen >= offset) & (chosen < offset + count)] - offset
        if len(inside):
            pieces.append(pick.remote(frame, inside))
    return pd.concat(ray.get(pieces), ignore_index=True)
