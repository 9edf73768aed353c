"""Read any uploaded customer table (delimited text, ``.xlsx`` or Parquet) into text cells."""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ftfy
import pandas as pd
from charset_normalizer import from_bytes

from segmenter.config import MAX_UPLOAD_MB
from segmenter.errors import InputError
from segmenter.ingest.values import _cell_text

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
    """False for blank lines (no cells, or one blank cell), when choosing the delimiter."""
    return len(record) > 1 or (len(record) == 1 and bool(record[0].strip()))


def _blank_unquoted(text: str, records: list[list[str]], starts: list[int]) -> None:
    """Empty the records of lines holding nothing but spaces, so they count as blank.

    A line holding a quoted empty value (``""``) is a record with one empty field (RFC
    4180): in a one-column file it is a customer with no answer, not a blank line, so
    rows out equal rows in. The raw lines are read only when such records exist.
    """
    single_blank = [i for i, r in enumerate(records) if len(r) == 1 and not r[0].strip()]
    if not single_blank:
        return
    lines = io.StringIO(text, newline="").readlines()
    for i in single_blank:
        if '"' not in lines[starts[i] - 1]:
            records[i] = []


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
    _blank_unquoted(text, records, starts)
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
    content = [i for i, r in enumerate(sample) if r]
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
    rows = [r for r in body if r]  # blank lines and sheet rows have no cells left
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
