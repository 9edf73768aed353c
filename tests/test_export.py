"""Export: rows out equal rows in, formula injection neutralised, sidecars complete."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from segmenter.export import (
    UNSEGMENTED_NAME,
    SegmentationResult,
    neutralise_cell,
    profiles_json,
    results_frame,
    run_sidecar,
    segments_zip,
    to_csv_bytes,
)
from segmenter.profile import profile_segments


def make_result(frame: pd.DataFrame) -> SegmentationResult:
    labels = np.array([i % 3 for i in range(len(frame))])
    labels[-1] = -1
    coords = np.random.default_rng(0).normal(size=(len(frame), 2))
    coords[-1] = np.nan
    profiles = profile_segments(frame["feedback"].tolist(), labels)
    return SegmentationResult(labels=labels, coords=coords, profiles=tuple(profiles))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=SUM(A1:A3)", "'=SUM(A1:A3)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),
        ("+44", "+44"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised(cell: str, expected: str) -> None:
    assert neutralise_cell(cell) == expected


def test_rows_out_equal_rows_in(customers: pd.DataFrame) -> None:
    result = make_result(customers)
    frame = results_frame(customers, result)
    exported = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert len(exported) == len(customers)
    assert exported["customer_id"].tolist() == customers["customer_id"].tolist()
    assert exported["customer_id"].iloc[0] == "0001"
    for column in customers.columns:
        assert exported[column].tolist() == customers[column].tolist()
    assert exported["segment_name"].iloc[-1] == UNSEGMENTED_NAME
    assert exported["segment_id"].iloc[-1] == "-1"
    assert {"x", "y"} <= set(exported.columns)


def test_hostile_cells_reach_the_csv_neutralised(customers: pd.DataFrame) -> None:
    customers = customers.copy()
    customers.loc[0, "feedback"] = '=HYPERLINK("http://evil.example","click")'
    frame = results_frame(customers, make_result(customers))
    exported = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert exported.loc[0, "feedback"].startswith("'=")


def test_excel_variant_has_a_bom(customers: pd.DataFrame) -> None:
    frame = results_frame(customers, make_result(customers))
    data = to_csv_bytes(frame, excel_bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data


def test_existing_result_column_names_are_not_overwritten(customers: pd.DataFrame) -> None:
    customers = customers.assign(segment_id="crm-value")
    frame = results_frame(customers, make_result(customers))
    assert frame["segment_id"].eq("crm-value").all()
    assert "segment_id_segmenter" in frame.columns


def test_zip_holds_one_csv_per_segment_and_every_row(customers: pd.DataFrame) -> None:
    frame = results_frame(customers, make_result(customers))
    with zipfile.ZipFile(io.BytesIO(segments_zip(frame))) as archive:
        names = archive.namelist()
        total = sum(
            len(pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)) for name in names
        )
    assert len(names) == 4  # three segments and the unsegmented rows
    assert any(name.startswith("unsegmented") for name in names)
    assert total == len(customers)


def test_profiles_and_sidecar_are_json(customers: pd.DataFrame) -> None:
    result = make_result(customers)
    profiles = json.loads(profiles_json(result.profiles))
    assert len(profiles) == 3
    assert {"segment_id", "name", "size", "keywords", "examples"} <= set(profiles[0])
    sidecar = json.loads(run_sidecar({"seed": 0, "silhouette": float("nan")}))
    assert sidecar["silhouette"] is None
    assert "numpy" in sidecar["library_versions"]


def test_mismatched_result_is_refused(customers: pd.DataFrame) -> None:
    result = make_result(customers.head(10))
    with pytest.raises(ValueError, match="covers 10 rows"):
        results_frame(customers, result)


def test_a_bare_carriage_return_in_a_cell_stays_in_its_row(customers: pd.DataFrame) -> None:
    """Found by the property test: with LF line ends pandas wrote a CR cell unquoted, and
    every reader split that row in two."""
    frame = customers.head(3).copy()
    frame.loc[1, "feedback"] = "first part\rsecond part"
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert len(back) == 3
    assert back.loc[1, "feedback"] == "first part\rsecond part"
