"""Reading uploaded tables: formats, encodings, delimiters, messy rows and bad input.

Every input is built in the test (bytes in code or files under ``tmp_path``).
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segmenter.errors import InputError
from segmenter.ingest import MOJIBAKE_HINT, IngestReport, LoadedTable, load_table


def read(text: str, name: str = "customers.csv", encoding: str = "utf-8") -> LoadedTable:
    return load_table(text.encode(encoding), name)


def assert_all_text(frame: pd.DataFrame) -> None:
    assert isinstance(frame.index, pd.RangeIndex)
    assert all(frame[c].dtype == object for c in frame.columns)
    assert all(isinstance(v, str) for v in frame.to_numpy().ravel())


# --- Sources -----------------------------------------------------------------------------


def test_reads_bytes_path_and_file_object(tmp_path: Path) -> None:
    content = b"id,name\n0001,Ann\n0002,Bob\n"
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    stream = io.BytesIO(content)
    stream.name = "upload/people.csv"  # what Streamlit's UploadedFile carries
    for loaded in (load_table(content, "people.csv"), load_table(path), load_table(str(path))):
        assert loaded.report.filename == "people.csv"
        assert loaded.frame.to_dict("list") == {"id": ["0001", "0002"], "name": ["Ann", "Bob"]}
    from_stream = load_table(stream)
    assert from_stream.report.filename == "people.csv"
    assert from_stream.frame["id"].tolist() == ["0001", "0002"]


def test_report_fields() -> None:
    loaded = read("id,name\n1,Ann\n2,Bob\n")
    assert loaded.report == IngestReport(
        filename="customers.csv",
        file_format="csv",
        encoding="utf-8",
        delimiter=",",
        skipped_lines=0,
        n_rows=2,
        n_columns=2,
        duplicate_rows=0,
        renamed_columns=(),
        notes=(),
    )
    assert_all_text(loaded.frame)


# --- Encodings ---------------------------------------------------------------------------

ENCODED = [
    ("utf-8", "utf-8", "id,comment\n1,café naïve €5\n2,北京 good\n"),
    ("utf-8-sig", "utf-8-sig", "id,comment\n1,café naïve €5\n2,北京 good\n"),
    ("gb18030", "gb18030", "客户编号,反馈\n0001,这个产品质量很好，物流也很快\n0002,价格太贵了\n"),
    ("gbk", "gb18030", "id,city\n1,北京\n2,上海\n"),
    ("cp1252", "cp1252", "id,comment\n1,café au lait\n2,naïve pricing at €5\n"),
    # Also valid GB18030 byte for byte: the Western reading must still win.
    ("cp1252", "cp1252", "id,dessert\n1,crème brûlée\n2,ok\n"),
    ("utf-16", "utf-16", "id,comment\n1,café\n2,北京\n"),
]


@pytest.mark.parametrize(("write_as", "expected", "text"), ENCODED)
def test_encodings(write_as: str, expected: str, text: str) -> None:
    loaded = load_table(text.encode(write_as), "export.csv")
    assert loaded.report.encoding == expected
    truth = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert loaded.frame.columns.tolist() == truth.columns.tolist()
    assert loaded.frame.to_numpy().tolist() == truth.to_numpy().tolist()


def test_bom_never_reaches_the_header() -> None:
    loaded = load_table(b"\xef\xbb\xbfid,name\n1,Ann\n", "bom.csv")
    assert loaded.frame.columns.tolist() == ["id", "name"]


def test_legacy_encoding_is_noted() -> None:
    loaded = read("id,comment\n1,café\n2,thé\n", encoding="cp1252")
    assert any("cp1252" in note for note in loaded.report.notes)


# --- Delimiters --------------------------------------------------------------------------

ROWS = [["id", "name", "comment"], ["0001", "Ann Lee", "Good, fast"], ["0002", "Bob", "Slow, late"]]


@pytest.mark.parametrize(
    ("delimiter", "filename"),
    [(",", "a.csv"), ("\t", "a.csv"), ("\t", "a.tsv"), (";", "a.csv"), ("|", "a.txt")],
)
def test_delimiters(delimiter: str, filename: str) -> None:
    buffer = io.StringIO()
    pd.DataFrame(ROWS[1:], columns=ROWS[0]).to_csv(buffer, sep=delimiter, index=False)
    loaded = load_table(buffer.getvalue().encode(), filename)
    assert loaded.report.delimiter == delimiter
    assert loaded.frame.columns.tolist() == ROWS[0]
    assert loaded.frame.to_numpy().tolist() == ROWS[1:]


def test_whitespace_separated() -> None:
    loaded = read("id   name  spend\n0001 Ann   10.5\n0002   Bob 20\n  0003 Cy 7  \n", "a.txt")
    assert loaded.report.delimiter == " "
    assert loaded.frame.to_dict("list") == {
        "id": ["0001", "0002", "0003"],
        "name": ["Ann", "Bob", "Cy"],
        "spend": ["10.5", "20", "7"],
    }


def test_single_column_with_commas_in_text() -> None:
    loaded = read("feedback\nGreat, thanks\nSlow delivery\nToo expensive\n")
    assert loaded.frame.columns.tolist() == ["feedback"]
    assert loaded.frame["feedback"].tolist() == ["Great, thanks", "Slow delivery", "Too expensive"]


# --- Messy structure ---------------------------------------------------------------------


def test_preamble_lines_are_skipped_and_counted() -> None:
    text = "Report generated 2026-01-01\nExported by CRM, v2\n\nid,name,spend\n1,Ann,3\n2,Bob,4\n"
    loaded = read(text)
    assert loaded.report.skipped_lines == 3
    assert loaded.frame.columns.tolist() == ["id", "name", "spend"]
    assert len(loaded.frame) == 2
    assert "Skipped 3 lines before the header." in loaded.report.notes


def test_title_padded_with_delimiters_is_not_the_header() -> None:
    loaded = read("Sales report,,,\n,,,\nid,name,plan,spend\n1,Ann,basic,3\n2,Bob,pro,4\n")
    assert loaded.report.skipped_lines == 2
    assert loaded.frame.columns.tolist() == ["id", "name", "plan", "spend"]


def test_quoted_newlines_mixed_line_endings_and_no_final_newline() -> None:
    text = 'id,comment\r\n1,"line one\nline two"\n2,"say ""hi"""\r\n3,last'
    loaded = read(text)
    assert loaded.frame["comment"].tolist() == ["line one\nline two", 'say "hi"', "last"]
    assert loaded.frame["id"].tolist() == ["1", "2", "3"]


def test_leading_zero_ids_and_numbers_stay_text() -> None:
    loaded = read("id,zip,spend\n0001,02134,1e3\n0002,00501,NA\n")
    assert loaded.frame.to_dict("list") == {
        "id": ["0001", "0002"],
        "zip": ["02134", "00501"],
        "spend": ["1e3", "NA"],
    }


def test_blank_lines_are_ignored_and_noted() -> None:
    loaded = read("id,name\n1,Ann\n\n\n2,Bob\n,\n")
    assert loaded.frame["id"].tolist() == ["1", "2", ""]  # ',' has cells, so the row is kept
    assert "Ignored 2 blank lines." in loaded.report.notes


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_quoted_empty_cell_is_a_customer_not_a_blank_line(newline: str) -> None:
    # One column of reviews: '""' is a customer who left the answer empty (RFC 4180).
    lines = ["review", '"Great fit, runs small"', '""', "", "Too short", "   ", '""', '"  "']
    loaded = load_table(newline.join(lines).encode(), "reviews.csv")
    assert loaded.frame["review"].tolist() == ["Great fit, runs small", "", "Too short", "", "  "]
    assert "Ignored 2 blank lines." in loaded.report.notes  # the empty and the spaces-only line
    rows_in = sum(1 for line in lines[1:] if line.strip())
    assert len(loaded.frame) == rows_in


def test_a_one_column_parquet_keeps_rows_with_no_value() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"review": ["Lovely", None, "", "Bad"]}).to_parquet(buffer, engine="pyarrow")
    loaded = load_table(buffer.getvalue(), "reviews.parquet")
    assert loaded.frame["review"].tolist() == ["Lovely", "", "", "Bad"]
    assert not any("blank" in note for note in loaded.report.notes)


def test_duplicate_rows_are_counted_not_dropped() -> None:
    loaded = read("id,plan\n1,a\n1,a\n2,b\n1,a\n")
    assert len(loaded.frame) == 4
    assert loaded.report.duplicate_rows == 2
    assert "Found 2 duplicate rows (kept)." in loaded.report.notes


def test_empty_and_duplicate_header_names_are_renamed() -> None:
    loaded = read("id,plan,,plan\n1,a,b,c\n")
    assert loaded.frame.columns.tolist() == ["id", "plan", "column_3", "plan_2"]
    assert loaded.report.renamed_columns == (("", "column_3"), ("plan", "plan_2"))
    assert "Renamed 'plan' to 'plan_2'." in loaded.report.notes


def test_ragged_rows_are_kept() -> None:
    loaded = read("a,b,c\n1,2,3\n4,5\n6,7,8,9,10\n11,12,13\n")
    assert loaded.frame.columns.tolist() == ["a", "b", "c", "extra_1", "extra_2"]
    assert loaded.frame.to_numpy().tolist() == [
        ["1", "2", "3", "", ""],
        ["4", "5", "", "", ""],
        ["6", "7", "8", "9", "10"],
        ["11", "12", "13", "", ""],
    ]
    notes = " ".join(loaded.report.notes)
    assert "more cells than the header" in notes
    assert "fewer cells than the header" in notes


def test_trailing_delimiters_add_no_columns() -> None:
    loaded = read("a,b,\n1,2,\n3,4,\n")
    assert loaded.frame.columns.tolist() == ["a", "b"]
    assert loaded.report.renamed_columns == ()


# --- Excel and Parquet -------------------------------------------------------------------


def test_xlsx_round_trip_with_float_ids() -> None:
    source = pd.DataFrame(
        {
            "CustomerID": [12923.0, 12924.0, 5.0],
            "spend": [1.5, 2.0, np.nan],
            "joined": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-03-09"]),
            "plan": ["basic", None, "pro"],
        }
    )
    buffer = io.BytesIO()
    source.to_excel(buffer, index=False)
    loaded = load_table(buffer.getvalue(), "customers.xlsx")
    assert loaded.report.file_format == "xlsx"
    assert loaded.report.encoding is None and loaded.report.delimiter is None
    assert loaded.frame.to_dict("list") == {
        "CustomerID": ["12923", "12924", "5"],
        "spend": ["1.5", "2", ""],
        "joined": ["2026-01-05", "2026-02-01", "2026-03-09"],
        "plan": ["basic", "", "pro"],
    }
    assert_all_text(loaded.frame)


def test_xlsx_title_rows_are_skipped() -> None:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.append(["Customer export"])
    sheet.append([])
    sheet.append(["id", "name", "spend"])
    sheet.append(["0001", "Ann", 10])
    sheet.append(["0002", "Bob", 20.25])
    buffer = io.BytesIO()
    book.save(buffer)
    loaded = load_table(buffer.getvalue(), "export.xlsx")
    assert loaded.report.skipped_lines == 2
    assert loaded.frame.to_dict("list") == {
        "id": ["0001", "0002"],
        "name": ["Ann", "Bob"],
        "spend": ["10", "20.25"],
    }


def test_parquet_round_trip() -> None:
    source = pd.DataFrame(
        {
            "id": pd.array([1, 2, None], dtype="Int64"),
            "score": [1.0, 2.5, np.nan],
            "name": ["Ann", None, "Cy"],
            "active": [True, False, True],
            "joined": pd.to_datetime(["2026-01-05", None, "2026-03-09"]),
        }
    )
    buffer = io.BytesIO()
    source.to_parquet(buffer, engine="pyarrow")
    loaded = load_table(buffer.getvalue(), "customers.parquet")
    assert loaded.report.file_format == "parquet"
    assert loaded.frame.to_dict("list") == {
        "id": ["1", "2", ""],
        "score": ["1", "2.5", ""],
        "name": ["Ann", "", "Cy"],
        "active": ["True", "False", "True"],
        "joined": ["2026-01-05", "", "2026-03-09"],
    }
    assert_all_text(loaded.frame)


def test_format_comes_from_magic_bytes_not_extension() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"id": ["a", "b"]}).to_parquet(buffer)
    assert load_table(buffer.getvalue(), "mislabelled.csv").report.file_format == "parquet"


# --- Bad input ---------------------------------------------------------------------------


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.txt", "id,name\n1,Ann\n")
    return buffer.getvalue()


BAD_INPUTS = [
    (b"", "a.csv", r"a\.csv is empty: export the table again"),
    (b"  \n\r\n\t\n", "a.csv", "is empty"),
    ("\ufeff\n".encode("utf-16"), "a.csv", "is empty"),
    (b"id,name,plan\n", "a.csv", "header row but no customer rows"),
    (b"id,name\n\n\n", "a.csv", "header row but no customer rows"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.csv", "is a PNG image, not a table"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "report.csv", "is a PDF document"),
    (zip_bytes(), "data.zip", "ZIP archive, not an Excel workbook"),
    (np.random.default_rng(0).bytes(4096), "random.csv", "binary data, not text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old.xls", r"old Excel \.xls"),
    (b"id,name\n1,\x80\x81\x98\xff\x9d x\n2,ok\n", "bad.csv", "not readable text"),
    (b",,\n,,\n,,\n", "blank.csv", "no usable column"),
    (b'id,comment\n1,"fine"\n2,"cut off here\n3,more\n4,x', "cut.csv", "starts on line 3"),
    (b'id,c\n1,"open\n' + b"2,x\n" * 40_000, "long.csv", "quoted field that starts on line 2"),
    (b"PK\x03\x04 this is not really a zip", "book.xlsx", "not a readable Excel workbook"),
    (b"plain text saved as xlsx", "book.xlsx", "not a readable Excel workbook"),
    (b"PAR1 truncated", "t.parquet", "not a readable Parquet file"),
    (b"id,name\n1,Ann\n", "t.parquet", "not a readable Parquet file"),
]


@pytest.mark.parametrize(("data", "filename", "message"), BAD_INPUTS)
def test_bad_input_raises_one_line_input_error(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        load_table(data, filename)
    assert "\n" not in str(caught.value)
    assert filename in str(caught.value)


def test_truncated_xlsx() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"id": range(50)}).to_excel(buffer, index=False)
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        load_table(buffer.getvalue()[:-200], "cut.xlsx")


def test_too_big() -> None:
    with pytest.raises(InputError, match=r"over the .* MB limit: split it .* sample"):
        load_table(b"id,name\n" + b"1,Ann\n" * 100, "big.csv", max_bytes=200)


def test_too_big_path_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"id\n" + b"1\n" * 2000)
    with pytest.raises(InputError, match="big.csv is 0.0 MB, over the"):
        load_table(path, max_bytes=1000)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="could not be opened"):
        load_table(tmp_path / "nope.csv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise_raw_errors(data: bytes) -> None:
    try:
        loaded = load_table(data, "fuzz.csv")
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert loaded.report.n_rows == len(loaded.frame) > 0
        assert_all_text(loaded.frame)


CELLS = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc")),
        st.sampled_from(["\n", ",", '"', " ", ";", "\t", "|"]),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=8))
def test_any_csv_pandas_writes_reads_back_exactly(rows: list[list[str]]) -> None:
    assume(any(cell.strip() for row in rows for cell in row))  # else: "no usable column"
    # Text that looks like mojibake ("Ã©") is repaired by design, and BOMs are removed.
    assume(not any(MOJIBAKE_HINT.search(c) or "\ufeff" in c for row in rows for c in row))
    frame = pd.DataFrame(rows, columns=["id", "comment", "plan"])
    loaded = load_table(frame.to_csv(index=False).encode(), "round.csv")
    assert loaded.report.delimiter == ","
    assert loaded.frame.to_numpy().tolist() == rows
    assert_all_text(loaded.frame)


# --- Architecture ------------------------------------------------------------------------


def test_core_imports_neither_streamlit_nor_heavy_backends() -> None:
    code = (
        "import sys, segmenter, segmenter.ingest, segmenter.campaign, segmenter.lm, segmenter.cli; "
        "bad = {'streamlit', 'torch', 'xllamacpp', 'openai'} & set(sys.modules); "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
