"""Read any uploaded customer table into text cells, then propose a role for every column.

``load_table`` accepts delimited text (any common delimiter and encoding, junk lines
before the header, ragged rows), Excel ``.xlsx`` and Parquet, and returns every input
row with every cell as a ``str``. ``detect_schema`` profiles each column and proposes a
role (id, text, numeric, categorical, date, label or ignored); the user can override
the roles with ``Schema.with_roles``. ``prepare_columns`` and ``build_documents`` turn
the table and schema into the features the segmentation needs.

>>> loaded = load_table(b"customer_id,plan\\n0001,basic\\n0002,pro\\n", "customers.csv")
>>> loaded.frame["customer_id"].tolist()
['0001', '0002']
>>> detect_schema(loaded.frame).id_column
'customer_id'
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, get_args

import ftfy
import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from segmenter.config import MAX_UPLOAD_MB, MIN_ROWS
from segmenter.errors import InputError, SchemaError

__all__ = [
    "ROLES",
    "ColumnProfile",
    "IngestReport",
    "LoadedTable",
    "PreparedTable",
    "Role",
    "Schema",
    "build_documents",
    "detect_schema",
    "load_table",
    "normalise_ids",
    "parse_dates",
    "parse_numbers",
    "prepare_columns",
    "validate_for_segmentation",
]

Role = Literal["id", "text", "numeric", "categorical", "date", "label", "ignored"]
ROLES: tuple[Role, ...] = get_args(Role)

# --- Reading: thresholds and signatures -------------------------------------------------

SNIFF_LINES = 50
"""Physical lines read to choose the delimiter and find the header."""

DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|", " ")
"""Candidate delimiters, in order of preference when two fit equally well; " " means runs
of spaces."""

WHITESPACE_MIN_CONSISTENCY = 0.9
"""Share of lines that runs of spaces must split into the same number of columns."""

ONE_COLUMN_DELIMITER = "\x1f"
"""ASCII unit separator: never in a one-column text file (such a file would be binary)."""

HEADER_MIN_FILLED = 0.6
"""A header row names at least this share of the columns (and at least two), so a title
line padded with delimiters ("Sales report,,,,") is not taken for the header."""

ENCODING_SAMPLE_BYTES = 1 << 20
"""charset-normalizer sees this much of the file; the full file is then decoded strictly."""

PREFERRED_LEGACY_ENCODINGS: tuple[str, ...] = ("gb18030", "cp1252")
"""Non-UTF-8 encodings we see most (Chinese GBK exports, Western Windows exports); tried
first because charset-normalizer alone misnames short files."""

OTHER_LEGACY_ENCODINGS: tuple[str, ...] = (
    "big5", "cp932", "euc_jp", "cp949", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "cp1258", "koi8_r",
)  # fmt: skip
"""Tried only when neither preferred encoding gives plausible text."""

MAX_COLUMNS = 2_000
"""Widest table read: column detection costs about 7 ms a column, so 2,000 take 15 s."""

MAX_CELL_CHARS = 8 << 20
"""Longest cell read (8 Mi characters); a longer "cell" is a quote that never closes."""

MOJIBAKE_HINT = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u2018-\u203a\u0152-\u0178]")
"""UTF-8 bytes decoded as cp1252/Latin-1 leave pairs like "Ã©" or "â€"; only such cells
are handed to ftfy, so clean tables pay nothing."""

BINARY_CONTROL_SHARE = 0.01
"""More control bytes than this share (other than tab, newlines, form feed and the DOS
end-of-file mark) means binary data."""

BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"{\\rtf", "an RTF document"),
)
"""Magic bytes of files people upload by mistake, with what to call them."""

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""Legacy ``.xls`` workbooks and password-protected ``.xlsx`` both use this container."""

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
PARQUET_SIGNATURE = b"PAR1"
SUPPORTED = "upload a CSV (or other delimited text), an Excel .xlsx or a Parquet file"

# --- Schema detection: thresholds -----------------------------------------------------------

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "#n/a"})
"""Cell values (case-insensitive, stripped) that mean "no value"."""

ID_NAME_PATTERN = re.compile(
    r"(?i)^(?:id|uuid|guid|"
    r"(?:customer|cust|client|user|member|account|acct|contact|subscriber|person|record)"
    r"[\s_.-]*(?:id|no|nr|num|number|code|key|#)|"
    r".+[\s_.-]id)$"
    r"|^.*[a-z]ID$"  # camelCase customerID / CustomerID
    r"|^(?:客户|用户|会员|顾客|账户|帐户)(?:编号|号|代码|ID|id)$|^(?:编号|序号)$"
)
"""Column names that look like a customer identifier."""

ID_MIN_UNIQUE_SHARE = 0.9
"""A column named like an ID must be this unique (duplicate rows may repeat IDs)."""

ID_MAX_LENGTH = 40
"""Longest value of a column recognised as an ID by its values alone."""

ID_VALUE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.:#/]*")
"""What an identifier value looks like: a short code without spaces."""

LABEL_NAME_PATTERN = re.compile(
    r"(?i)(?:^|[^a-z])(?:churn(?:ed)?|exited|attrition|responded|response|converted|conversion"
    r"|label|target|outcome|class|fraud|default(?:ed)?|cancell?ed|subscribed|retained|y)"
    r"(?:$|[^a-z])|流失|标签|转化|响应"
)
"""Column names (or values) that look like a prediction target."""

DATE_SHARE = 0.9
"""Share of non-missing cells that must parse as dates."""

DATE_SAMPLE = 200
"""Distinct values parsed when testing for dates (parsing is slow)."""

DATE_HINT = re.compile(
    r"\d{1,4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s+[A-Za-z]{3,9}|[A-Za-z]{3,9}\.?\s+\d{1,2}"
)
"""A cell must contain something date-shaped before the (slow) date parser sees it."""

PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
"""Numbers alone are not dates (20260105 or 2026.01 stay numbers)."""

NUMERIC_SHARE = 0.9
"""Share of non-missing cells that must parse as numbers for a numeric column."""

LEADING_ZERO_SHARE = 0.1
"""Digit strings with leading zeros this often are codes (zip codes, branch codes), not
quantities."""

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
PHONE_NAME_PATTERN = re.compile(r"(?i)phone|mobile|\bcell\b|\btel\b|telephone|fax|手机|电话")
PHONE_VALUE_PATTERN = re.compile(r"\+?\(?\d[\d\s().\-]{5,}\d")
CONTACT_SHARE = 0.8
"""Share of values that must look like emails or phone numbers to ignore the column."""

TEXT_MIN_MEAN_LENGTH = 25
TEXT_MIN_MEAN_WORDS = 4
"""Free text: cells average at least this many characters or words."""

TEXT_MIN_DISTINCT_SHARE = 0.3
"""Free text rarely repeats: below this share of distinct values, long but repeated values
(canned answers) are categories."""

CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_CHARS_PER_WORD = 2.0
"""Chinese and Japanese have no spaces: count CJK characters as words, two to a word,
since words average about two characters (a 15-character review is free text, a
4-character city name is not)."""

CATEGORICAL_MAX_DISTINCT = 20
CATEGORICAL_MAX_SHARE = 0.05
"""Categorical: at most max(20, 5% of rows) distinct values."""

MAX_CATEGORIES = 20
"""Most common values kept per categorical or label column."""

MISSING_CATEGORY = "(missing)"


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestReport:
    """What ``load_table`` found and did, for the Upload page and the run sidecar."""

    filename: str
    file_format: str
    encoding: str | None
    delimiter: str | None
    skipped_lines: int
    n_rows: int
    n_columns: int
    duplicate_rows: int
    renamed_columns: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class LoadedTable:
    """Every input row in original order; every cell a ``str``, missing cells ``""``."""

    frame: pd.DataFrame
    report: IngestReport


@dataclass(frozen=True)
class _Grid:
    """Rows of text cells before the header is chosen, with where each row starts."""

    records: list[list[str]]
    starts: list[int]  # 1-based line (or sheet row) where each record starts
    unit: str  # "line" or "row", for notes


def load_table(
    source: bytes | str | os.PathLike[str] | BinaryIO,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_UPLOAD_MB * 2**20,
) -> LoadedTable:
    """Read a delimited text, ``.xlsx`` or Parquet table with every cell as text.

    Args:
        source: raw bytes, a path, or a binary file object (such as a Streamlit upload).
        filename: name used in messages and format detection; defaults to the path's or
            file object's name.
        max_bytes: largest file accepted.

    Returns:
        The table (every row kept, original order) and a report of what was detected.

    Raises:
        InputError: the file is empty, too large, binary, undecodable, truncated or has
            no data rows; the message says what to do.
    """
    data, name = _read_source(source, filename, max_bytes)
    if not data.strip():
        raise InputError(
            f"{name} is empty: export the table again with a header row and at least one "
            "customer row."
        )
    file_format = _detect_format(data, name)
    if file_format == "xlsx":
        grid, notes = _read_xlsx(data, name)
        return _finish(grid, name, "xlsx", None, None, notes)
    if file_format == "parquet":
        return _read_parquet(data, name)
    extra_notes: list[str] = []
    text, encoding = _decode(data, name)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(
            f"{name} is empty: export the table again with a header row and at least one "
            "customer row."
        )
    found = _choose_delimiter(text, name)
    # One column: split on a character the text lacks, so commas in it stay put.
    delimiter = found or ","
    grid = _parse_delimited(text, found or ONE_COLUMN_DELIMITER, name)
    if encoding not in ("utf-8", "utf-8-sig", "ascii"):
        extra_notes.append(f"Read the file as {encoding} text (it is not UTF-8).")
    if delimiter != ",":
        label = {"\t": "tabs", " ": "spaces", ";": "semicolons", "|": "pipes"}[delimiter]
        extra_notes.append(f"Columns are separated by {label}.")
    return _finish(grid, name, "csv", encoding, delimiter, extra_notes)


def _read_source(
    source: bytes | str | os.PathLike[str] | BinaryIO, filename: str | None, max_bytes: int
) -> tuple[bytes, str]:
    """The file's bytes and the name to use in messages; refuses files over the limit."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = filename or "upload"
        size = len(data)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        name = filename or path.name
        try:
            size = path.stat().st_size
            if size > max_bytes:
                _raise_too_big(name, size, max_bytes)
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(
                f"{name} could not be opened ({exc.strerror}): check the path."
            ) from exc
    else:
        name = filename or Path(str(getattr(source, "name", "") or "upload")).name
        try:
            if source.seekable():
                source.seek(0, io.SEEK_END)
                size = source.tell()
                source.seek(0)
                if size > max_bytes:
                    _raise_too_big(name, size, max_bytes)
            data = source.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{name} could not be read ({exc}): upload it again.") from exc
        size = len(data)
    if size > max_bytes:
        _raise_too_big(name, size, max_bytes)
    return data, name


def _raise_too_big(name: str, size: int, max_bytes: int) -> None:
    raise InputError(
        f"{name} is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:g} MB limit: split it "
        "into smaller files or upload a sample of the rows."
    )


def _detect_format(data: bytes, name: str) -> str:
    """``"xlsx"``, ``"parquet"`` or ``"csv"``: magic bytes first, then the extension."""
    suffix = Path(name).suffix.lower()
    if data.startswith(ZIP_SIGNATURES):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                is_workbook = any(n.startswith("xl/") for n in archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise (
                _corrupt_xlsx(name)
                if suffix in (".xlsx", ".xlsm")
                else InputError(f"{name} is a damaged ZIP archive, not a table: {SUPPORTED}.")
            ) from exc
        if not is_workbook:
            raise InputError(
                f"{name} is a ZIP archive, not an Excel workbook: unzip it and upload the table "
                "inside."
            )
        return "xlsx"
    if data.startswith(PARQUET_SIGNATURE):
        return "parquet"
    if data.startswith(OLE2_SIGNATURE):
        raise InputError(
            f"{name} is an old Excel .xls or a password-protected workbook: save it as .xlsx "
            "(without a password) or CSV and upload that."
        )
    for signature, what in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise InputError(f"{name} is {what}, not a table: {SUPPORTED}.")
    if suffix in (".xlsx", ".xlsm"):
        raise _corrupt_xlsx(name)
    if suffix in (".parquet", ".pq"):
        raise InputError(
            f"{name} is not a readable Parquet file (it does not start with PAR1): export it "
            "again or upload a CSV instead."
        )
    return "csv"


def _corrupt_xlsx(name: str) -> InputError:
    return InputError(
        f"{name} is not a readable Excel workbook (it may be damaged or truncated): open it in "
        "Excel, save it again as .xlsx or CSV, and upload that."
    )


def _short(exc: BaseException) -> str:
    """The first line of an exception, short enough for a one-line message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


# --- Decoding --------------------------------------------------------------------------------

_C1_OR_NUL = re.compile("[\x00\x80-\x9f]")
"""Wrongly decoded bytes show up as NULs or C1 control characters."""

_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 26), *range(27, 32), 127])


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text and its encoding: BOMs and strict UTF-8 first, then charset-normalizer."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise _undecodable(name) from exc
    head = data[:65536]
    if b"\x00" in head:
        # UTF-16 without a BOM is the one text format full of NUL bytes.
        wide = from_bytes(head, cp_isolation=["utf_16_le", "utf_16_be"]).best()
        text = _try_decode(data, wide.encoding) if wide is not None else None
        if wide is None or text is None:
            raise InputError(f"{name} contains binary data, not text: {SUPPORTED}.")
        return text, codecs.lookup(wide.encoding).name
    if sum(head.count(byte) for byte in _CONTROL_BYTES) > BINARY_CONTROL_SHARE * len(head):
        raise InputError(f"{name} contains binary data, not text: {SUPPORTED}.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:ENCODING_SAMPLE_BYTES]
    if len(data) > len(sample) and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]  # don't cut a multi-byte character
    guess = from_bytes(sample, cp_isolation=list(PREFERRED_LEGACY_ENCODINGS)).best()
    if guess is None:
        guess = from_bytes(sample, cp_isolation=list(OTHER_LEGACY_ENCODINGS)).best()
    candidates = [guess.encoding] if guess is not None else []
    candidates += [e for e in PREFERRED_LEGACY_ENCODINGS if e not in candidates]
    for encoding in candidates:
        text = _try_decode(data, encoding)
        if text is not None:
            return text, codecs.lookup(encoding).name
    raise _undecodable(name)


def _try_decode(data: bytes, encoding: str) -> str | None:
    """Strictly decoded text, or None when it fails or yields control characters."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return None if _C1_OR_NUL.search(text) else text


def _undecodable(name: str) -> InputError:
    return InputError(
        f"{name} is not readable text in any common encoding (UTF-8, GB18030, Windows-1252): "
        "save it again as 'CSV UTF-8' and upload that."
    )


# --- Delimited text --------------------------------------------------------------------------


def _dialect(delimiter: str, *, strict: bool = False) -> dict[str, Any]:
    # Runs of spaces separate columns in whitespace-aligned exports.
    return {
        "delimiter": delimiter,
        "quotechar": '"',
        "doublequote": True,
        "skipinitialspace": delimiter == " ",
        "strict": strict,
    }


def _clean_record(record: list[str], delimiter: str) -> list[str]:
    if delimiter == " ":
        # Leading/trailing spaces on a whitespace-separated line are not empty cells.
        while record and record[-1] == "":
            record.pop()
    return record


def _first_lines(text: str, n: int) -> tuple[str, bool]:
    """The first ``n`` physical lines and whether there is more text after them."""
    stream = io.StringIO(text, newline="")
    lines = [stream.readline() for _ in range(n)]
    return "".join(lines), bool(stream.read(1))


def _filled(records: Sequence[list[str]]) -> list[int]:
    return [sum(1 for cell in r if cell.strip()) for r in records]


def _mode_width(widths: Sequence[int]) -> int:
    """The most common width above one (ties go to the wider), else 1."""
    counts = Counter(w for w in widths if w > 1)
    if not counts:
        return 1
    return max(counts, key=lambda w: (counts[w], w))


def _choose_delimiter(text: str, name: str) -> str | None:
    """The delimiter giving the most rows with one consistent column count above one.

    csv.Sniffer guesses badly on real exports, so each candidate parses the first lines
    and is scored by how many rows share its most common width. With no delimiter
    giving two or more columns on at least half the lines, the file has one column
    (returns None).
    """
    sample, truncated = _first_lines(text, SNIFF_LINES)
    hint = "\t" if Path(name).suffix.lower() in (".tsv", ".tab") else ","
    order = [hint, *[d for d in DELIMITERS if d != hint]]
    best: str | None = None
    best_score = 0
    for delimiter in order:
        try:
            records = list(csv.reader(io.StringIO(sample, newline=""), **_dialect(delimiter)))
        except csv.Error:
            continue
        if truncated and records:
            records = records[:-1]  # may be cut inside a quoted field
        records = [_clean_record(r, delimiter) for r in records]
        widths = [len(r) for r in records if _is_content(r)]
        mode = _mode_width(widths)
        score = sum(1 for w in widths if w == mode) if mode > 1 else 0
        # Free text has spaces too, so runs of spaces must split nearly every line alike.
        share = WHITESPACE_MIN_CONSISTENCY if delimiter == " " else 0.5
        if score > best_score and score >= max(min(2, len(widths)), share * len(widths)):
            best, best_score = delimiter, score
    return best


def _is_content(record: Sequence[str]) -> bool:
    """False for blank lines (no cells, or one blank cell)."""
    return len(record) > 1 or (len(record) == 1 and bool(record[0].strip()))


def _parse_delimited(text: str, delimiter: str, name: str) -> _Grid:
    """All records of the text, with the line each starts on; catches truncated quotes."""
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), **_dialect(delimiter))
    records: list[list[str]] = []
    starts: list[int] = []
    previous = 0
    try:
        for record in reader:
            starts.append(previous + 1)
            previous = reader.line_num
            records.append(_clean_record(record, delimiter))
    except csv.Error as exc:
        line = previous + 1
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"{name} has a quoted field starting on line {line} that never closes (or is "
                f"longer than {MAX_CELL_CHARS >> 20} MB): the file may be cut off; export it "
                "again and upload the complete file."
            ) from exc
        raise InputError(
            f"{name} could not be read as delimited text near line {line} ({_short(exc)}): "
            "export it again as CSV."
        ) from exc
    # Quotes come in pairs in a complete file; an odd count is worth the strict check.
    if records and text.count('"') % 2 == 1:
        _check_final_quote(text, starts[-1], delimiter, name)
    return _Grid(records, starts, "line")


def _check_final_quote(text: str, start_line: int, delimiter: str, name: str) -> None:
    """Raise when the last record runs into the end of the file inside a quoted field."""
    stream = io.StringIO(text, newline="")
    for _ in range(start_line - 1):
        stream.readline()
    try:
        for _record in csv.reader(stream, **_dialect(delimiter, strict=True)):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(
                f"{name} ends inside a quoted field that starts on line {start_line}: the file "
                "looks cut off; export it again (or close that quote) and upload the complete "
                "file."
            ) from exc


# --- Excel and Parquet -----------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """One Excel/Parquet cell as text: integral floats without ``.0``, missing as ``""``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        # Spreadsheets store every number as a float: ID 12923 arrives as 12923.0.
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _read_xlsx(data: bytes, name: str) -> tuple[_Grid, list[str]]:
    """The first non-empty sheet as rows of text cells."""
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and data validation it does not need.
            warnings.simplefilter("ignore")
            book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
            sheets = [str(s) for s in book.sheet_names]
            sheet, grid = sheets[0] if sheets else "", pd.DataFrame()
            for sheet in sheets:
                grid = book.parse(sheet, header=None, dtype=object)
                if grid.notna().any().any():
                    break
    except Exception as exc:  # openpyxl and zipfile raise many types for damaged files
        raise _corrupt_xlsx(name) from exc
    if len(sheets) > 1:
        notes.append(f"Read sheet '{sheet}' (the workbook has {len(sheets)} sheets).")
    records = []
    for row in grid.itertuples(index=False, name=None):
        cells = [_cell_text(v) for v in row]
        while cells and not cells[-1].strip():
            cells.pop()
        records.append(cells)
    return _Grid(records, list(range(1, len(records) + 1)), "row"), notes


def _read_parquet(data: bytes, name: str) -> LoadedTable:
    """A Parquet file with every column turned into text the way Excel cells are."""
    try:
        table = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
        raise InputError(
            f"{name} is not a readable Parquet file ({_short(exc)}): export it again or upload "
            "a CSV instead."
        ) from exc
    header = [str(c) for c in table.columns]
    rows = [[_cell_text(v) for v in column.tolist()] for _, column in table.items()]
    records = [header, *map(list, zip(*rows, strict=True))] if rows else [header]
    grid = _Grid(records, list(range(1, len(records) + 1)), "row")
    return _finish(grid, name, "parquet", None, None, [], header_index=0)


# --- From rows of cells to a table ------------------------------------------------------------


def _find_header(records: Sequence[list[str]]) -> int:
    """Index of the header: the first row from which the column count stays consistent.

    Junk lines before the header (titles, "Exported by CRM", blank lines) have fewer
    cells, fewer named cells, or more cells than any row after them.
    """
    sample = list(records[: SNIFF_LINES * 2])
    content = [i for i, r in enumerate(sample) if _is_content(r)]
    if not content:
        return 0
    widths = {i: len(sample[i]) for i in content}
    filled = dict(zip(content, _filled([sample[i] for i in content]), strict=True))
    mode = _mode_width(list(widths.values()))
    need = max(2, math.ceil(HEADER_MIN_FILLED * mode)) if mode > 1 else 1
    later_max: dict[int, int] = {}
    running = 0
    for i in reversed(content):
        later_max[i] = running
        running = max(running, widths[i])
    plausible = [i for i in content if widths[i] >= mode and filled[i] >= need]
    for i in plausible:
        if later_max[i] == 0 or widths[i] <= later_max[i]:
            return i
    return plausible[0] if plausible else content[0]


def _repair_cells(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Cells without stray byte-order marks and with mojibake undone (by ftfy).

    Returns the frame and how many cells lost a mark and how many were repaired.
    """
    marks = repaired = 0
    for column in frame.columns:
        cells = frame[column]
        with_mark = cells.str.contains("\ufeff", regex=False)
        if with_mark.any():
            marks += int(with_mark.sum())
            cells = cells.str.replace("\ufeff", "", regex=False)
        suspect = cells.str.contains(MOJIBAKE_HINT)
        if suspect.any():
            fixed = cells[suspect].map(ftfy.fix_encoding)
            changed = fixed != cells[suspect]
            repaired += int(changed.sum())
            cells = cells.copy()
            cells[suspect] = fixed
        frame[column] = cells
    return frame, marks, repaired


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _unique_names(raw: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Header names made non-empty and unique ("column_3", "plan_2"), with the renames."""
    cleaned = [n.replace("\ufeff", "").strip() for n in raw]
    taken = {n for n in cleaned if n}
    used: set[str] = set()
    names: list[str] = []
    renamed: list[tuple[str, str]] = []
    for position, original in enumerate(cleaned, start=1):
        new = original if original and original not in used else ""
        if not new:
            stem = original or "column"
            k = 2 if original else position
            while f"{stem}_{k}" in used or f"{stem}_{k}" in taken:
                k += 1
            new = f"{stem}_{k}"
            renamed.append((original, new))
        used.add(new)
        names.append(new)
    return names, renamed


def _finish(
    grid: _Grid,
    name: str,
    file_format: str,
    encoding: str | None,
    delimiter: str | None,
    notes: list[str],
    *,
    header_index: int | None = None,
) -> LoadedTable:
    """Choose the header, square the rows, name the columns and write the report."""
    records = grid.records
    header_at = _find_header(records) if header_index is None else header_index
    skipped = grid.starts[header_at] - 1 if records else 0
    header = records[header_at] if records else []
    body = records[header_at + 1 :]
    rows = [r for r in body if _is_content(r)]
    blank = len(body) - len(rows)
    if not rows:
        raise InputError(
            f"{name} has a header row but no customer rows: export the table again with the "
            "data rows included."
        )
    # Trailing delimiters leave cells with no name and no value: drop those, keep the rest.
    width = len(header)
    while (
        width > 1
        and not header[width - 1].strip()
        and all(len(r) < width or not r[width - 1].strip() for r in rows)
    ):
        width -= 1
    header = header[:width]
    short = long = 0
    extra = 0
    squared: list[list[str]] = []
    for row in rows:
        if len(row) > width:
            end = len(row)
            while end > width and not row[end - 1].strip():
                end -= 1
            row = row[:end]
            if end > width:
                long += 1
                extra = max(extra, end - width)
        if len(row) < width:
            short += 1
        squared.append(row + [""] * (width - len(row)) if len(row) < width else row)
    names, renamed = _unique_names(header)
    extra_names = []
    for k in range(1, extra + 1):
        candidate = f"extra_{k}"
        while candidate in names or candidate in extra_names:
            candidate += "_"
        extra_names.append(candidate)
    full = width + extra
    if full > MAX_COLUMNS:
        raise InputError(
            f"{name} has {full:,} columns; Segmenter reads at most {MAX_COLUMNS:,}: keep the "
            "columns you need (the ID, the text and the attributes to segment on) and export "
            "the table again."
        )
    frame = pd.DataFrame(
        [r + [""] * (full - len(r)) for r in squared], columns=[*names, *extra_names], dtype=object
    )
    if not any(frame[c].str.strip().ne("").any() for c in frame.columns):
        raise InputError(
            f"{name} has no usable column: every cell is empty; check the export and upload "
            "the table again."
        )
    frame, stray_marks, repaired = _repair_cells(frame)
    duplicates = int(frame.duplicated().sum())

    found: list[str] = []
    if stray_marks:
        found.append(
            f"Removed invisible byte-order marks (U+FEFF) from {_plural(stray_marks, 'cell')}."
        )
    if repaired:
        found.append(
            f"Repaired {_plural(repaired, 'cell')} of mojibake (text decoded with the wrong "
            "encoding somewhere before this file, such as 'CafÃ©' for 'Café')."
        )
    if skipped:
        found.append(f"Skipped {_plural(skipped, grid.unit)} before the header.")
    if blank:
        found.append(f"Ignored {_plural(blank, 'blank ' + grid.unit)}.")
    for original, new in renamed:
        what = f"'{original}'" if original else "an unnamed column"
        found.append(f"Renamed {what} to '{new}'.")
    if long:
        found.append(
            f"{_plural(long, 'row')} had more cells than the header; the extra cells are in "
            f"{', '.join(extra_names)}."
        )
    if short:
        found.append(
            f"{_plural(short, 'row')} had fewer cells than the header (filled with blanks)."
        )
    if duplicates:
        found.append(f"Found {_plural(duplicates, 'duplicate row')} (kept).")
    report = IngestReport(
        filename=name,
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        skipped_lines=skipped,
        n_rows=len(frame),
        n_columns=frame.shape[1],
        duplicate_rows=duplicates,
        renamed_columns=tuple(renamed),
        notes=tuple(found + notes),
    )
    return LoadedTable(frame=frame, report=report)


# --- Column parsing --------------------------------------------------------------------------

_CURRENCY = re.compile(r"[$€£¥₹₩]|\b(?:USD|EUR|GBP|CNY|RMB)\b")
_GROUP_SPACE = "[ \u00a0\u202f']"
_GROUPED = re.compile(rf"[+-]?\d{{1,3}}(?:(?:,\d{{3}})+|(?:{_GROUP_SPACE}\d{{3}})+)(?:\.\d+)?")
_GROUPED_DECIMAL_COMMA = re.compile(
    rf"[+-]?\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_GROUP_SPACE}\d{{3}})+),\d+"
)
_DOT_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3}){2,}")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_NUMBER_CHARS = r"[\s\d.,+\-()%'eE$€£¥₹₩]"
_NUMBER_LIKE = re.compile(rf"{_NUMBER_CHARS}*(?:(?:USD|EUR|GBP|CNY|RMB){_NUMBER_CHARS}*)?")
"""Every cell the rules below can turn into a number matches this; free text fails at its
first letter, so it skips the dozen regex passes (100k feedback cells: 8 s -> 0.1 s)."""


def _as_text(values: pd.Series) -> pd.Series:
    """Values as an object Series of ``str`` with ``""`` for missing."""
    textual = pd.api.types.is_string_dtype(values.dtype) or values.dtype == object
    if textual and all(isinstance(v, str) for v in values.tolist()):
        return values.astype(object)
    return pd.Series([_cell_text(v) for v in values.tolist()], index=values.index, dtype=object)


def _missing_mask(stripped: pd.Series) -> pd.Series:
    return stripped.str.lower().isin(MISSING_TOKENS)


def _per_distinct(text: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert`` applied once per distinct cell (columns repeat a lot), aligned to ``text``."""
    codes, uniques = pd.factorize(text)
    converted = convert(pd.Series(uniques, dtype=object))
    return converted.take(codes).set_axis(text.index)


def _parse_number_texts(values: pd.Series) -> pd.Series:
    """Floats from distinct text cells, NaN where a cell is not a finite number."""
    try:  # plain numbers only: the C parser alone, a hundred times faster per column
        numbers = pd.to_numeric(values, errors="raise").astype("float64")
        return numbers.where(np.isfinite(numbers))
    except (ValueError, TypeError):
        pass
    candidates = values.str.fullmatch(_NUMBER_LIKE).fillna(False).astype(bool)
    numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    if candidates.any():
        numbers[candidates] = _parse_formatted_numbers(values[candidates])
    return numbers


def _parse_formatted_numbers(values: pd.Series) -> pd.Series:
    """Floats from text cells with currency, percent, grouping or decimal commas."""
    text = values.str.strip()
    text = text.str.replace(_CURRENCY, "", regex=True).str.strip()
    text = text.str.replace(r"%$", "", regex=True).str.strip()
    text = text.str.replace(r"^\((.+)\)$", r"-\1", regex=True)  # accounting negatives
    text = text.str.replace(r"^([+-])\s+", r"\1", regex=True)
    grouped = text.str.fullmatch(_GROUPED)
    text = text.where(~grouped, text.str.replace(rf"[,{_GROUP_SPACE[1:-1]}]", "", regex=True))
    european = text.str.fullmatch(_GROUPED_DECIMAL_COMMA)
    text = text.where(
        ~european,
        text.str.replace(rf"[.{_GROUP_SPACE[1:-1]}]", "", regex=True).str.replace(",", "."),
    )
    dotted = text.str.fullmatch(_DOT_GROUPED)
    text = text.where(~dotted, text.str.replace(".", ""))
    comma = text.str.fullmatch(_DECIMAL_COMMA)
    text = text.where(~comma, text.str.replace(",", "."))
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))
    return numbers


def parse_numbers(values: pd.Series) -> tuple[pd.Series, int]:
    """Numbers from text cells: spaces, currency signs, percent, "1,234" and "1.234,5".

    Args:
        values: text cells.

    Returns:
        A float64 Series (NaN where a cell is not a number) and how many cells became
        NaN, blank and "N/A" cells included.

    >>> parse_numbers(pd.Series(["$1,234.50", " ", "12%"]))[0].tolist()
    [1234.5, nan, 12.0]
    """
    numbers = _per_distinct(_as_text(values), _parse_number_texts).astype("float64")
    return numbers, int(numbers.isna().sum())


def normalise_ids(values: pd.Series) -> pd.Series:
    """IDs as stripped text, keeping leading zeros; "12923.0" becomes "12923" when every
    non-missing ID ends in ".0" (a spreadsheet turned them into floats).

    >>> normalise_ids(pd.Series(["0012", " 7 "])).tolist()
    ['0012', '7']
    """
    text = _as_text(values).str.strip()
    present = text[text != ""]
    if len(present) and present.str.fullmatch(r"[+-]?\d+\.0+").all():
        text = text.str.replace(r"\.0+$", "", regex=True)
    return text.astype(object)


def parse_dates(values: pd.Series, dayfirst: bool | None = None) -> pd.Series:
    """Datetimes (UTC) from text cells, NaT where a cell is not a date; ``dayfirst`` decided
    from these values unless given (see ``date_evidence`` for tables read in parts)."""
    return _per_distinct(_as_text(values), lambda text: _parse_date_texts(text, dayfirst))


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}\b")


def date_evidence(values: pd.Series) -> tuple[bool, bool]:
    """Whether some date such as ``25/12/2024`` has a first number above 12, and whether some
    has a second number above 12: evidence from parts of a table combines with ``or``."""
    parts = values.str.extract(_NUMERIC_DATE).dropna().astype(int)
    if parts.empty:
        return False, False
    return bool((parts[0] > 12).any()), bool((parts[1] > 12).any())


def day_first(values: pd.Series) -> bool:
    """Whether dates such as ``03/04/2025`` in this column put the day first.

    Decided once per column, so one file never mixes the two readings: day first when
    some date's first number is above 12 and no date's second number is.

    >>> day_first(pd.Series(["25/12/2024", "03/04/2025"]))
    True
    """
    first_over_12, second_over_12 = date_evidence(values)
    return first_over_12 and not second_over_12


def _date_text(values: pd.Series) -> pd.Series:
    text = values.str.strip()
    return text.str.replace(r"[年月]", "-", regex=True).str.replace("日", "", regex=False)


def _parse_date_texts(values: pd.Series, dayfirst: bool | None = None) -> pd.Series:
    text = _date_text(values)
    plain = text.str.fullmatch(PLAIN_NUMBER) | _missing_mask(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(
            text.where(~plain, None),
            format="mixed",
            dayfirst=day_first(text) if dayfirst is None else dayfirst,
            errors="coerce",
            utc=True,
        )
    return pd.Series(parsed, index=values.index)


def _word_counts(text: pd.Series) -> pd.Series:
    latin = text.str.count(rf"[^\s{CJK_CLASS}]+")
    cjk = text.str.count(rf"[{CJK_CLASS}]")
    return latin + cjk / CJK_CHARS_PER_WORD


# --- Schema ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnProfile:
    """What a column holds and the role proposed for it.

    ``categories`` and ``value_range`` describe the detected role: they are filled for
    categorical/label and numeric columns respectively and are not recomputed when the
    user changes a role.
    """

    name: str
    role: Role
    distinct: int
    missing: int
    numeric_share: float
    examples: tuple[str, ...]
    categories: tuple[str, ...]
    value_range: tuple[float, float] | None
    mean_length: float
    reason: str


@dataclass(frozen=True)
class Schema:
    """The role of every column, in table order."""

    columns: tuple[ColumnProfile, ...]

    def _column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        known = ", ".join(c.name for c in self.columns)
        raise SchemaError(f"Unknown column {name!r}: choose one of {known}.")

    def role_of(self, name: str) -> Role:
        """The role of column ``name``; SchemaError when there is no such column."""
        return self._column(name).role

    def names(self, role: Role) -> list[str]:
        """Columns with ``role``, in table order."""
        _check_role(role, "")
        return [c.name for c in self.columns if c.role == role]

    @property
    def id_column(self) -> str | None:
        """The ID column, or None."""
        ids = self.names("id")
        return ids[0] if ids else None

    @property
    def text_columns(self) -> list[str]:
        return self.names("text")

    @property
    def numeric_columns(self) -> list[str]:
        return self.names("numeric")

    @property
    def categorical_columns(self) -> list[str]:
        return self.names("categorical")

    @property
    def date_columns(self) -> list[str]:
        return self.names("date")

    @property
    def label_columns(self) -> list[str]:
        return self.names("label")

    def with_roles(self, roles: Mapping[str, Role]) -> Schema:
        """A copy with the user's roles; a new ID column demotes the old one to ignored.

        Raises:
            SchemaError: an unknown column or role, or more than one ID column.
        """
        for name, role in roles.items():
            self._column(name)
            _check_role(role, name)
        new_ids = [name for name, role in roles.items() if role == "id"]
        if len(new_ids) > 1:
            raise SchemaError(
                f"Only one column can be the ID, but {', '.join(new_ids)} are marked as ID: "
                "keep one and mark the others ignored."
            )
        columns = []
        for column in self.columns:
            wanted = roles.get(column.name)
            if wanted is None and new_ids and column.role == "id" and column.name != new_ids[0]:
                column = replace(column, role="ignored", reason=f"replaced as ID by {new_ids[0]}")
            elif wanted is not None and wanted != column.role:
                keep = wanted in ("categorical", "label")
                column = replace(
                    column,
                    role=wanted,
                    reason="set by user",
                    categories=column.categories if keep else (),
                    value_range=column.value_range if wanted == "numeric" else None,
                )
            columns.append(column)
        return Schema(tuple(columns))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """The schema recorded by ``to_dict`` (in ``run.json``)."""
        columns = []
        for c in data["columns"]:
            value_range = c.get("value_range")
            _check_role(str(c["role"]), str(c["name"]))
            columns.append(
                ColumnProfile(
                    name=str(c["name"]),
                    role=c["role"],
                    distinct=int(c.get("distinct", 0)),
                    missing=int(c.get("missing", 0)),
                    numeric_share=float(c.get("numeric_share", 0.0)),
                    examples=tuple(str(e) for e in c.get("examples", ())),
                    categories=tuple(str(v) for v in c.get("categories", ())),
                    value_range=(float(value_range[0]), float(value_range[1]))
                    if value_range
                    else None,
                    mean_length=float(c.get("mean_length", 0.0)),
                    reason=str(c.get("reason", "")),
                )
            )
        return cls(tuple(columns))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record of every column's role and summary, for the run sidecar."""
        return {
            "id_column": self.id_column,
            "columns": [
                {
                    "name": c.name,
                    "role": c.role,
                    "distinct": int(c.distinct),
                    "missing": int(c.missing),
                    "numeric_share": float(c.numeric_share),
                    "examples": list(c.examples),
                    "categories": list(c.categories),
                    "value_range": (
                        [float(c.value_range[0]), float(c.value_range[1])]
                        if c.value_range is not None
                        else None
                    ),
                    "mean_length": float(c.mean_length),
                    "reason": c.reason,
                }
                for c in self.columns
            ],
        }


def _check_role(role: str, name: str) -> None:
    if role not in ROLES:
        where = f" for column {name!r}" if name else ""
        raise SchemaError(f"Unknown role {role!r}{where}: choose one of {', '.join(ROLES)}.")


def detect_schema(frame: pd.DataFrame) -> Schema:
    """Propose a role for every column from its name and values.

    The rules, in order (thresholds are the module constants): all missing -> ignored;
    named like an ID and unique -> id; two values and a target-like name or value
    (churn, exited, converted, ...) -> label; dates -> date; emails or phone numbers
    -> ignored; unique short codes -> id (when no ID yet); digit codes with leading
    zeros -> categorical or ignored; mostly numbers -> numeric; long varied values ->
    text; few distinct values -> categorical; anything else -> ignored.

    >>> frame = pd.DataFrame({"customer_id": ["0001", "0002"], "plan": ["a", "b"]})
    >>> [column.role for column in detect_schema(frame).columns]
    ['id', 'categorical']
    """
    columns: list[ColumnProfile] = []
    has_id = False
    for position, name in enumerate(frame.columns):
        profile = _profile_column(str(name), frame[name], len(frame), position, has_id)
        has_id = has_id or profile.role == "id"
        columns.append(profile)
    return Schema(tuple(columns))


MEAN_SAMPLE = 20_000


@dataclass(frozen=True)
class _Distinct:
    """A column's distinct non-missing values (stripped, in order of first appearance) and
    how often each occurs; rules run once per distinct value, since columns repeat a lot."""

    values: pd.Series
    counts: np.ndarray
    numbers: pd.Series

    @property
    def n_present(self) -> int:
        return int(self.counts.sum())

    def share(self, mask: pd.Series | np.ndarray) -> float:
        """Share of non-missing cells where ``mask`` (one entry per distinct value) holds."""
        return float(self.counts[np.asarray(mask, dtype=bool)].sum() / self.n_present)

    def mean(self, per_value: pd.Series) -> float:
        """Mean over non-missing cells of a per-distinct-value quantity."""
        return float((np.asarray(per_value, dtype="float64") * self.counts).sum() / self.n_present)

    def sampled_mean(self, quantity: Callable[[pd.Series], pd.Series]) -> float:
        """``mean`` of ``quantity(values)``, estimated on a fixed random sample of
        ``MEAN_SAMPLE`` distinct values when there are more (a 1M-row text column)."""
        if len(self.values) <= MEAN_SAMPLE:
            return self.mean(quantity(self.values))
        rows = np.sort(np.random.default_rng(0).choice(len(self.values), MEAN_SAMPLE, False))
        per_value = np.asarray(quantity(self.values.iloc[rows]), dtype="float64")
        counts = self.counts[rows]
        return float((per_value * counts).sum() / counts.sum())


def _profile_column(
    name: str, values: pd.Series, n_rows: int, position: int, has_id: bool
) -> ColumnProfile:
    raw = _as_text(values).value_counts(sort=False)  # first appearance order
    stripped = pd.Series(raw.to_numpy(), index=raw.index.astype(str).str.strip())
    all_counts = stripped.groupby(level=0, sort=False).sum()
    is_missing = np.asarray(all_counts.index.str.lower().isin(MISSING_TOKENS), dtype=bool)
    missing = int(all_counts[is_missing].sum())
    present = all_counts[~is_missing]
    if present.empty:
        return ColumnProfile(name, "ignored", 0, missing, 0.0, (), (), None, 0.0, "empty")
    texts = pd.Series(present.index, dtype=object)
    column = _Distinct(texts, present.to_numpy(dtype="int64"), parse_numbers(texts)[0])
    numeric_share = column.share(column.numbers.notna())
    mean_length = column.mean(texts.str.len())
    role, reason = _propose_role(name, column, n_rows, mean_length, position, has_id)
    categories: tuple[str, ...] = ()
    if role in ("categorical", "label"):
        top = present.sort_values(ascending=False, kind="stable").index[:MAX_CATEGORIES]
        categories = tuple(str(v) for v in top)
    value_range = None
    if role == "numeric" and column.numbers.notna().any():
        value_range = (float(column.numbers.min()), float(column.numbers.max()))
    return ColumnProfile(
        name=name,
        role=role,
        distinct=len(texts),
        missing=missing,
        numeric_share=numeric_share,
        examples=tuple(str(v) for v in texts.head(3)),
        categories=categories,
        value_range=value_range,
        mean_length=mean_length,
        reason=reason,
    )


def _propose_role(
    name: str, column: _Distinct, n_rows: int, mean_length: float, position: int, has_id: bool
) -> tuple[Role, str]:
    """The role for a non-empty column and a short phrase saying why."""
    values, numbers = column.values, column.numbers
    n_present, distinct = column.n_present, len(values)
    numeric_share = column.share(numbers.notna())
    unique_share = distinct / n_present
    if (
        not has_id
        and ID_NAME_PATTERN.search(name)
        and unique_share >= ID_MIN_UNIQUE_SHARE
        and n_present >= ID_MIN_UNIQUE_SHARE * n_rows
    ):
        return "id", "name looks like an ID"
    if distinct == 2:
        if LABEL_NAME_PATTERN.search(re.sub(r"([a-z])([A-Z])", r"\1 \2", name)):
            return "label", "two values, name looks like a target"
        if any(LABEL_NAME_PATTERN.search(str(v)) for v in values):
            return "label", "two values that look like an outcome"
    date_share = _date_share(values)
    if date_share >= DATE_SHARE:
        return "date", f"{date_share:.0%} of cells are dates"
    if column.share(values.str.fullmatch(EMAIL_PATTERN)) >= CONTACT_SHARE:
        return "ignored", "email addresses"
    phone_like = values.str.fullmatch(PHONE_VALUE_PATTERN)
    if column.share(phone_like) >= CONTACT_SHARE and (
        PHONE_NAME_PATTERN.search(name)
        or column.share(phone_like & numbers.isna()) >= CONTACT_SHARE
    ):
        return "ignored", "phone numbers"
    if (
        not has_id
        and distinct == n_present == n_rows
        and values.str.len().max() <= ID_MAX_LENGTH
        and values.str.fullmatch(ID_VALUE_PATTERN).all()
        and not (numeric_share == 1 and values.str.contains(".", regex=False).any())
        and (column.share(values.str.contains(r"[A-Za-z]")) >= 0.5 or position == 0)
    ):
        return "id", "unique short codes"
    categorical_limit = max(CATEGORICAL_MAX_DISTINCT, CATEGORICAL_MAX_SHARE * n_rows)
    if column.share(values.str.fullmatch(r"0\d+")) >= LEADING_ZERO_SHARE:
        if distinct <= categorical_limit:
            return "categorical", "codes with leading zeros"
        return "ignored", "many codes with leading zeros"
    if numeric_share >= NUMERIC_SHARE:
        return "numeric", f"{numeric_share:.0%} of cells are numbers"
    mean_words = column.sampled_mean(_word_counts)
    is_long = mean_length >= TEXT_MIN_MEAN_LENGTH or mean_words >= TEXT_MIN_MEAN_WORDS
    if is_long and (unique_share >= TEXT_MIN_DISTINCT_SHARE or distinct > categorical_limit):
        return "text", f"free text (about {mean_words:.0f} words per cell)"
    if distinct <= categorical_limit:
        return "categorical", f"{distinct} distinct values"
    return "ignored", f"{distinct:,} distinct short values"


def _date_share(values: pd.Series) -> float:
    """Share of distinct values (sampled) that are dates; 0 unless most look date-shaped."""
    sample = values.head(DATE_SAMPLE)
    if sample.str.contains(DATE_HINT).mean() < DATE_SHARE:
        return 0.0
    return float(parse_dates(sample).notna().mean())


# --- Features --------------------------------------------------------------------------------


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
            key = f"{column.name} (days)"
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

    Parts are joined with ". "; with two or more text columns each part starts with
    "column: " so the embedding knows which answer is which.

    >>> frame = pd.DataFrame({"q1": ["Late delivery", ""], "q2": ["Kind support", "N/A"]})
    >>> build_documents(frame, detect_schema(frame).with_roles({"q1": "text", "q2": "text"}))
    ['q1: Late delivery. q2: Kind support', '']
    """
    _check_columns(frame, schema)
    names = schema.text_columns
    prefix = len(names) > 1
    cleaned = []
    for name in names:
        text = _as_text(frame[name])
        # Collapse newlines and runs of spaces: same text, same cache key.
        text = text.str.split().str.join(" ")
        cleaned.append(text.where(~_missing_mask(text), "").tolist())
    documents = []
    for parts in zip(*cleaned, strict=True) if cleaned else [() for _ in range(len(frame))]:
        pieces = [f"{n}: {p}" if prefix else p for n, p in zip(names, parts, strict=True) if p]
        document = ""
        for piece in pieces:
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
        raise SchemaError(
            "There is no column to segment on: mark at least one column as text, numeric or "
            "categorical on the Upload page."
        )
