"""Cell values: text cells to numbers, dates and IDs, and what counts as missing."""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd

from segmenter.script_ranges import CJK_RANGES

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "nil", "-", "--", "#n/a"})
"""Cell values (case-insensitive, stripped) that mean "no value"."""

PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
"""Numbers alone are not dates (20260105 or 2026.01 stay numbers)."""

CJK_CLASS = CJK_RANGES
"""Han, kana and hangul (``script_ranges``), to put inside a character class."""
CJK_CHARS_PER_WORD = 2.0
"""Chinese and Japanese have no spaces: count CJK characters as words, two to a word,
since words average about two characters (a 15-character review is free text, a
4-character city name is not)."""

MISSING_CATEGORY = "(missing)"


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
