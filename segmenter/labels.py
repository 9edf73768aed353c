"""Readable labels for column names: ``MntWines`` -> "Spend on wines", ``Kidhome`` -> "Kids
at home".

A label is what names, cards, prompts and copy say instead of the column's name. The
default comes from the name alone (split CamelCase, underscores and digits, expand common
abbreviations, put units in brackets); the user edits it on the Upload page, and the run
keeps the edited labels (``run.json``, and each trait in ``profiles.json``).

>>> column_label("MntWines"), column_label("NumWebPurchases"), column_label("tenure_months")
('Spend on wines', 'Number of web purchases', 'Tenure (months)')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from segmenter.ingest.prepare import DATE_FEATURE_SUFFIX
from segmenter.script_ranges import CJK

WHOLE_NAMES: dict[str, str] = {
    "kidhome": "kids at home",
    "teenhome": "teenagers at home",
    "dob": "date of birth",
    "yob": "year of birth",
    "ltv": "lifetime value",
    "clv": "customer lifetime value",
    "aov": "average order value",
    # The RFM scores a transaction log's customer table carries (transactions.py).
    "rscore": "recency score (1-5)",
    "fscore": "frequency score (1-5)",
    "mscore": "spend score (1-5)",
    "monetary": "total spend",
    # The campaign-response table's own names, read as the people who made it meant them.
    "yearbirth": "year of birth",
    "birthyear": "year of birth",
    "recency": "days since last purchase",
    "recencydays": "days since last purchase",
    "numwebvisitsmonth": "number of web visits last month",
}
"""Whole column names (lower-cased, separators removed) that read as one phrase."""

ABBREVIATIONS: dict[str, str] = {
    "mnt": "spend on",
    "amt": "amount of",
    "num": "number of",
    "nb": "number of",
    "nbr": "number of",
    "qty": "quantity",
    "cnt": "count of",
    "avg": "average",
    "tot": "total",
    "pct": "percent",
    "perc": "percent",
    "cmp": "campaign",
    "camp": "campaign",
    "dt": "date",
    "yr": "year",
    "yrs": "years",
    "mo": "month",
    "mth": "month",
    "cust": "customer",
    "acct": "account",
    "acc": "account",
    "addr": "address",
    "desc": "description",
    "prod": "product",
    "prods": "products",
    "purch": "purchases",
    "bal": "balance",
    "freq": "frequency",
    "txn": "transactions",
    "trx": "transactions",
    "pmt": "payment",
    "kidhome": "kids at home",
    "teenhome": "teenagers at home",
}
"""Abbreviations common in exported customer tables, expanded word by word."""

UNITS: dict[str, str] = {
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
    "pct": "%",
    "percent": "%",
    "kg": "kg",
    "km": "km",
    "cm": "cm",
    "mins": "minutes",
    "min": "minutes",
    "minutes": "minutes",
    "secs": "seconds",
    "sec": "seconds",
    "seconds": "seconds",
    "hrs": "hours",
    "hours": "hours",
    "days": "days",
    "weeks": "weeks",
    "months": "months",
    "yrs": "years",
    "years": "years",
}
"""A last word that is a unit goes into brackets: ``tenure_months`` -> "Tenure (months)"."""


_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)
_SEPARATORS = re.compile(r"[_\-.\s/]+")
_BRACKETED = re.compile(r"\s*([(\[].*[)\]])\s*$")
_CJK = re.compile(CJK)


def column_label(name: str) -> str:
    """A readable label for a column, from its name alone.

    CamelCase, underscores, hyphens and digits split words; common abbreviations expand
    (``ABBREVIATIONS``); a trailing unit goes into brackets; acronyms (``NPS``, ``ID``)
    keep their capitals; names in Chinese, Japanese or Korean stay as they are.

    >>> column_label("Dt_Customer"), column_label("AcceptedCmp1"), column_label("customer_id")
    ('Customer date', 'Accepted campaign 1', 'Customer ID')
    """
    name = " ".join(str(name).split())
    if not name or _CJK.search(name):
        return name
    if name.endswith(DATE_FEATURE_SUFFIX):
        return column_label(name[: -len(DATE_FEATURE_SUFFIX)])
    bracket = _BRACKETED.search(name)
    suffix = f" {bracket.group(1)}" if bracket and bracket.start() > 0 else ""
    stem = name[: bracket.start()] if suffix and bracket else name
    whole = WHOLE_NAMES.get(_SEPARATORS.sub("", stem).lower())
    words = whole.split() if whole else _words(stem)
    if not words:
        return name
    if len(words) > 1 and words[-1].lower() in UNITS and not suffix:
        suffix = f" ({UNITS[words.pop().lower()]})"
    if len(words) > 1 and words[-1] == "no":  # InvoiceNo, account_no
        words[-1] = "number"
    if len(words) > 1 and words[0] == "date":  # Dt_Customer: "customer date"
        words = [*words[1:], "date"]
    text = " ".join(words) + suffix
    return text[0].upper() + text[1:]


def _words(stem: str) -> list[str]:
    words: list[str] = []
    for part in _SEPARATORS.split(_CAMEL.sub(" ", stem)):
        for piece in part.split():
            lowered = piece.lower()
            if lowered in ABBREVIATIONS:
                words.extend(ABBREVIATIONS[lowered].split())
            elif len(piece) > 1 and piece.isupper() and piece.isalpha() or lowered == "id":
                words.append(piece.upper())  # an acronym: NPS, ID
            else:
                words.append(lowered)
    return words


def column_labels(
    columns: Iterable[str], edited: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Every column's label: the user's where they gave one (not blank), else ``column_label``."""
    edited = edited or {}
    out = {}
    for column in columns:
        mine = " ".join(str(edited.get(column, "")).split())
        out[str(column)] = mine or column_label(str(column))
    return out


def label_of(column: str, labels: Mapping[str, str] | None = None) -> str:
    """The label of ``column`` (also of ``"<date> (days)"`` through its date column)."""
    labels = labels or {}
    if column in labels:
        return labels[column]
    if column.endswith(DATE_FEATURE_SUFFIX) and column[: -len(DATE_FEATURE_SUFFIX)] in labels:
        return labels[column[: -len(DATE_FEATURE_SUFFIX)]]
    return column_label(column)


def inline(label: str) -> str:
    """The label inside a sentence: "Spend on wines" -> "spend on wines"; "NPS" stays."""
    first = label.split(" ", 1)[0]
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        return label[0].lower() + label[1:]
    return label  # an acronym (NPS), a name with capitals inside (PhD), or already lower
