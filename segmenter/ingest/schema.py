"""Propose a role for every column (``detect_schema``) and hold the roles (``Schema``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from segmenter.errors import SchemaError
from segmenter.ingest.values import (
    MISSING_TOKENS,
    _as_text,
    _word_counts,
    parse_dates,
    parse_numbers,
)
from segmenter.script_ranges import HAN

Role = Literal["id", "text", "numeric", "categorical", "date", "label", "ignored"]
ROLES: tuple[Role, ...] = get_args(Role)

# --- Schema detection: thresholds -----------------------------------------------------------

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
    r"|label|target|outcome|class|fraud|default(?:ed)?|cancell?ed|subscribed|unsubscribed"
    r"|retained|renewed|recommend(?:ed)?|accept(?:ed)?|complain(?:ed)?|purchased|bought"
    r"|clicked|y)"
    r"(?:$|[^a-z])|流失|标签|转化|响应|推荐"
)
"""Column names (or values) that look like a prediction target: a two-valued column so
named (``Response``, ``Churn``, ``Recommended IND``, ``AcceptedCmp1``, ``Complain``) is the
outcome a campaign wants to predict, never a feature to cluster on or a trait to name."""

IDENTIFIER_TOKENS = frozenset(
    {"id", "ids", "no", "nr", "num", "number", "code", "key", "uuid", "guid", "sku", "ref"}
)
"""Last words of a column name (after splitting CamelCase and separators) that name an
identifier: ``Complaint ID``, ``productId``, ``order_id``, ``InvoiceNo``, ``StockCode``,
``number``. An identifier's values are labels of things, not quantities or traits."""

IDENTIFIER_CJK_NAME = re.compile(rf"(?:编号|代码|号码|单号|序号)$|{HAN}(?:ID|Id|id)$")
"""Chinese names of identifiers: 订单编号, 商品代码, 手机号码, 会员ID ..."""

DOMINANT_VALUE_SHARE = 0.99
"""A column whose most common value (blank counted as a value) fills this share of the rows
is constant or near-constant: it cannot tell customers apart (``Z_CostContact`` is 3 in
every row of the campaign table). Measured on rows, not on filled cells, so a column that
is blank in 99% of rows is near-constant too, while one filled in half the rows with a
single value still separates the filled half from the rest."""

CONSTANT_REASONS = ("constant", "near-constant", "almost always blank")
"""How the reason of a column ignored by ``DOMINANT_VALUE_SHARE`` starts."""

CODE_VALUE_PATTERN = re.compile(r"[A-Za-z]{0,4}\d+[A-Za-z]{0,3}")
"""One token of digits with at most a short letter prefix or suffix: ``85123A``,
``C536379``, ``22423``; no spaces, decimal points or signs, so quantities do not match."""

CODE_MIN_SHARE = 0.9
CODE_MIN_LETTER_SHARE = 0.01
"""Codes: nearly all cells are code tokens and at least 1% carry letters. A stock code
column is mostly digits (``22423``) with letter suffixes on about a tenth of its lines
(``85123A``); its cells parse as numbers 90% of the time, so without this rule it read as a
quantity. One cell in a hundred is enough evidence: a true quantity never has letters."""

SEQUENCE_MIN_ROWS = 50
SEQUENCE_MAX_SPAN = 1.05
"""Integers that are (nearly) all distinct and fill a contiguous run (their span at most
5% more than their count) are row numbers or sequential IDs, such as the unnamed index
column pandas writes first; a quantity with 50 or more distinct values is never that
tightly packed."""

DATE_SHARE = 0.9
"""Share of non-missing cells that must parse as dates."""

DATE_SAMPLE = 200
"""Distinct values parsed when testing for dates (parsing is slow)."""

DATE_HINT = re.compile(
    r"\d{1,4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s+[A-Za-z]{3,9}|[A-Za-z]{3,9}\.?\s+\d{1,2}"
)
"""A cell must contain something date-shaped before the (slow) date parser sees it."""

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

TEXT_MIN_WORDS = 4
"""A cell of prose has at least this many words (CJK characters count two to a word):
more than a short title or a city name ("Love this dress!" has 3, "北京市" 1.5), as many
as the shortest answers people write ("Delivery was late again"). Longer names
("WELLS FARGO & COMPANY" has 4) are told apart by repetition and capitals, below."""

TEXT_MIN_SENTENCE_SHARE = 0.5
"""Free text: at least half of the filled cells are sentences (``TEXT_MIN_WORDS`` or more).
Measured on filled cells only, so a narrative column blank in 70% of rows still counts."""

TEXT_MIN_DISTINCT_SHARE = 0.5
"""Free text is mostly distinct: below this share of distinct values among filled cells,
long but repeated values (company names, canned answers) are categories. Real review and
complaint columns are over 90% distinct; the CFPB export's company column is under 1%."""

NAME_MAX_SHARE = 0.5
NAME_CAPITAL_SHARE = 0.7
"""Names and titles, not prose: a cell whose Latin words are 70% or more capitalised
("TRANSUNION INTERMEDIATE HOLDINGS, INC.", "Women's Classic Crew Neck Tee") is a name;
a column of names (half its filled cells or more) is never free text, however long and
varied (sentences start one word in five or more with a capital, not three in four)."""

CATEGORICAL_MAX_DISTINCT = 20
CATEGORICAL_MAX_SHARE = 0.05
"""Categorical: at most max(20, 5% of rows) distinct values."""

MAX_CATEGORIES = 20
"""Most common values kept per categorical or label column."""


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
    named like an ID and unique -> id (the first such column only); two values and an
    outcome-like name or value (churn, response, recommended, exited, ...) -> label; one
    value in 99% of rows -> ignored (constant); dates -> date; emails or phone numbers ->
    ignored; unique short codes -> id (when no ID yet); other identifiers (named like an
    ID, consecutive whole numbers, codes such as ``85123A``, digit strings with leading
    zeros) -> ignored, or categorical when they take few values; mostly numbers ->
    numeric; prose (most filled cells are sentences, mostly distinct, not names) -> text;
    few distinct values -> categorical; anything else -> ignored. Identifiers are read
    before numbers so a code is never a quantity; the export keeps every column as read.

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

    def sampled_means(self, quantity: Callable[[pd.Series], pd.DataFrame]) -> pd.Series:
        """Mean over non-missing cells of each column of ``quantity(values)``, estimated
        on a fixed random sample of ``MEAN_SAMPLE`` distinct values when there are more (a
        1M-row text column)."""
        values, counts = self.values, self.counts
        if len(values) > MEAN_SAMPLE:
            rows = np.sort(np.random.default_rng(0).choice(len(values), MEAN_SAMPLE, False))
            values, counts = values.iloc[rows], counts[rows]
        per_value = quantity(values).astype("float64")
        weighted = per_value.mul(counts, axis=0).sum() / counts.sum()
        return weighted.astype("float64")


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
    identifier_name = _named_like_identifier(name)
    if not has_id and (
        (
            ID_NAME_PATTERN.search(name)
            and unique_share >= ID_MIN_UNIQUE_SHARE
            and n_present >= ID_MIN_UNIQUE_SHARE * n_rows
        )
        # Other identifiers (a ZIP code, a product number) are the ID only when every row
        # has its own: an ID that repeats is a customer's, not just any code's.
        or (identifier_name and distinct == n_present == n_rows)
    ):
        return "id", "name looks like an ID"
    if distinct == 2:
        if LABEL_NAME_PATTERN.search(_split_camel(name)):
            return "label", "two values, name looks like an outcome to predict"
        if any(LABEL_NAME_PATTERN.search(str(v)) for v in values):
            return "label", "two values that look like an outcome"
    constant = _constant_reason(column, n_rows)
    if constant:
        return "ignored", constant
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
    if identifier_name:
        if distinct <= CATEGORICAL_MAX_DISTINCT and unique_share < ID_MIN_UNIQUE_SHARE:
            return "categorical", f"a code with {distinct} values (name looks like an ID)"
        return "ignored", f"identifier (name looks like an ID; {distinct:,} distinct values)"
    if _is_sequence(numbers, n_present, distinct):
        return "ignored", "identifier (row numbers: consecutive whole numbers)"
    if column.share(values.str.fullmatch(r"0\d+")) >= LEADING_ZERO_SHARE:
        if distinct <= categorical_limit:
            return "categorical", "codes with leading zeros"
        return "ignored", "identifier (many codes with leading zeros)"
    is_code = values.str.fullmatch(CODE_VALUE_PATTERN)
    lettered = is_code & numbers.isna()
    if column.share(is_code) >= CODE_MIN_SHARE and column.share(lettered) >= CODE_MIN_LETTER_SHARE:
        example = values[lettered].iloc[0]
        if distinct <= categorical_limit:
            return "categorical", f"codes such as {example} ({distinct} values)"
        return "ignored", f"identifier (codes such as {example}; {distinct:,} distinct values)"
    if numeric_share >= NUMERIC_SHARE:
        return "numeric", f"{numeric_share:.0%} of cells are numbers"
    means = column.sampled_means(_text_measures)
    words, sentences, names = means["words"], means["sentences"], means["names"]
    if (
        sentences >= TEXT_MIN_SENTENCE_SHARE
        and unique_share >= TEXT_MIN_DISTINCT_SHARE
        and names < NAME_MAX_SHARE
    ):
        return "text", f"free text (about {words:.0f} words per cell)"
    why = ""
    if words >= TEXT_MIN_WORDS / 2:  # long enough for the reason to say why not text
        if names >= NAME_MAX_SHARE:
            why = "names or titles, not free text"
        elif sentences >= TEXT_MIN_SENTENCE_SHARE:
            why = "repeated phrases, not free text"
    if distinct <= categorical_limit:
        return "categorical", f"{distinct} distinct values" + (f" ({why})" if why else "")
    return "ignored", f"{distinct:,} distinct short values" + (
        f" ({why}), too many for categories" if why else ""
    )


def _split_camel(name: str) -> str:
    """``AcceptedCmp1`` -> ``Accepted Cmp1``, ``InvoiceNo`` -> ``Invoice No``, ``customerID``
    -> ``customer ID``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name)


def _named_like_identifier(name: str) -> bool:
    """Whether a column's name says it holds identifiers (see ``IDENTIFIER_TOKENS``).

    >>> [_named_like_identifier(n) for n in ("InvoiceNo", "Clothing ID", "NumWebPurchases")]
    [True, True, False]
    """
    stripped = name.strip()
    if stripped.endswith("#") or IDENTIFIER_CJK_NAME.search(stripped):
        return True
    words = re.findall(r"[a-z0-9]+", _split_camel(stripped).lower())
    return bool(words) and (words[-1] in IDENTIFIER_TOKENS or words[0] == "id")


def _constant_reason(column: _Distinct, n_rows: int) -> str:
    """Why a column is (near-)constant, or "" when it is not (see DOMINANT_VALUE_SHARE)."""
    top = int(column.counts.argmax())
    blank = n_rows - column.n_present
    share = max(int(column.counts[top]), blank) / n_rows
    if share < DOMINANT_VALUE_SHARE:
        return ""
    if blank / n_rows >= DOMINANT_VALUE_SHARE:
        return f"almost always blank ({blank / n_rows:.1%} of rows)"
    value = str(column.values.iloc[top])
    if len(column.values) == 1 and blank == 0:
        return f"constant (always {value!r})"
    return f"near-constant ({value!r} in {share:.1%} of rows)"


def _is_sequence(numbers: pd.Series, n_present: int, distinct: int) -> bool:
    """Whether the values are consecutive whole numbers (see SEQUENCE_MAX_SPAN)."""
    if n_present < SEQUENCE_MIN_ROWS or distinct < ID_MIN_UNIQUE_SHARE * n_present:
        return False
    if numbers.isna().any() or not (numbers == numbers.round()).all():
        return False
    span = float(numbers.max() - numbers.min()) + 1
    return span <= SEQUENCE_MAX_SPAN * distinct


_WORD_START = r"(?<![\w'’])[A-Za-z]"
_CAPITAL_START = r"(?<![\w'’])[A-Z]"


def _text_measures(values: pd.Series) -> pd.DataFrame:
    """Per value: words, whether it is a sentence, whether it looks like a name."""
    words = _word_counts(values).to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "words": words,
            "sentences": words >= TEXT_MIN_WORDS,
            "names": _looks_like_a_name(values).to_numpy(),
        }
    )


def _looks_like_a_name(values: pd.Series) -> pd.Series:
    """Per value: two or more Latin words, most capitalised (see NAME_CAPITAL_SHARE)."""
    words = values.str.count(_WORD_START)
    capitals = values.str.count(_CAPITAL_START)
    return (words >= 2) & (capitals >= NAME_CAPITAL_SHARE * words)


def _date_share(values: pd.Series) -> float:
    """Share of distinct values (sampled) that are dates; 0 unless most look date-shaped."""
    sample = values.head(DATE_SAMPLE)
    if sample.str.contains(DATE_HINT).mean() < DATE_SHARE:
        return 0.0
    return float(parse_dates(sample).notna().mean())
