"""Transaction logs to one row per customer: RFM, tenure, basket, products, lifecycle.

A transaction log has a customer id, a date, and an amount (or a quantity and a unit
price), one row per line or order. ``aggregate_transactions`` turns it into a customer
table the rest of the pipeline segments like any other. Nothing is lost on the way:
returns and cancellations are counted and netted into each customer's value, and rows
that cannot be attributed (no customer id, no readable date or amount) come back in a
table of their own, each with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from segmenter.errors import InputError
from segmenter.ingest import (
    MISSING_TOKENS,
    IngestReport,
    LoadedTable,
    Role,
    Schema,
    detect_schema,
    normalise_ids,
    parse_dates,
    parse_numbers,
)

CUSTOMER_NAME = re.compile(
    r"(?i)^(?:customer|cust|client|user|member|account|buyer|shopper)[\s_.-]*(?:id|no|number|code|key)?$"
    r"|^customerid$|^(?:客户|用户|会员|顾客)(?:编号|号|ID|id)?$"
)
DATE_NAME = re.compile(r"(?i)date|time|timestamp|^day$|^created|^ordered|日期|时间")
AMOUNT_NAME = re.compile(
    r"(?i)^(?:amount|total|revenue|sales|value|spend|line[\s_]?total|order[\s_]?total|"
    r"net[\s_]?amount|gross[\s_]?amount|金额|总额|销售额)$"
)
QUANTITY_NAME = re.compile(r"(?i)^(?:quantity|qty|units|count|数量)$")
PRICE_NAME = re.compile(r"(?i)^(?:unit[\s_]?price|price|unitprice|单价|价格)$")
INVOICE_NAME = re.compile(
    r"(?i)^(?:invoice[\s_]?(?:no|number|id)?|order[\s_]?(?:no|number|id)|receipt|"
    r"transaction[\s_]?id|订单号|发票号)$"
)
PRODUCT_NAMES = (
    re.compile(r"(?i)^(?:description|product[\s_]?(?:name|description)|item[\s_]?name|商品名称)$"),
    re.compile(r"(?i)^(?:product|item|商品|产品)$"),
    re.compile(r"(?i)^(?:category|product[\s_]?category|品类)$"),
    re.compile(r"(?i)^(?:sku|stock[\s_]?code|product[\s_]?(?:id|code)|item[\s_]?(?:id|code))$"),
)
"""Column names of what was bought, most readable first: names beat codes as text."""

MIN_ROWS_PER_CUSTOMER = 1.2
"""A log has, on average, more rows than customers; a customer table has one each."""
PARSE_SHARE = 0.8
"""Share of present cells that must parse as dates or numbers for a column to qualify."""
CANCELLED_INVOICE = re.compile(r"^\s*[Cc]")
"""Invoice numbers of cancellations (the UCI Online Retail convention)."""

N_PRODUCTS = 15
"""Products kept in each customer's products text, most bought first."""
NEW_CUSTOMER_DAYS = 90
"""A customer whose first purchase is this recent (or within the log's last fifth) is new."""

ATTRIBUTE_CONSTANT_SHARE = 0.95
"""A column of a log is a customer attribute (country, segment, channel) when it holds one
value on every line of at least this share of the customers with two or more lines. Not
all: the UCI Online Retail log has a handful of customers who ordered from two countries,
and their attribute is the value on most of their lines."""

STAGES = ("new", "active", "champion", "at risk", "lapsed")
"""Lifecycle stages, in the order the map legend lists them."""

FIGURES = (
    "first_purchase", "last_purchase", "recency_days", "frequency", "monetary", "tenure_days",
    "avg_basket", "returns", "returned_value", "products", "r_score", "f_score", "m_score",
    "lifecycle_stage",
)  # fmt: skip
"""Columns ``aggregate_transactions`` computes; a log column of the same name is not carried."""


@dataclass(frozen=True)
class TransactionColumns:
    """Which columns of a log hold what."""

    customer: str
    date: str
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    invoice: str | None = None
    product: str | None = None

    def describe(self) -> str:
        """One line naming the columns used."""
        value = (
            f"amount '{self.amount}'"
            if self.amount
            else f"quantity '{self.quantity}' × price '{self.price}'"
        )
        parts = [f"customer '{self.customer}'", f"date '{self.date}'", value]
        if self.invoice:
            parts.append(f"invoice '{self.invoice}'")
        if self.product:
            parts.append(f"product '{self.product}'")
        return ", ".join(parts)


def _named(frame: pd.DataFrame, pattern: re.Pattern[str]) -> list[str]:
    return [str(c) for c in frame.columns if pattern.search(str(c).strip())]


def _parses(values: pd.Series, parser: str) -> bool:
    present = values[values.astype(str).str.strip() != ""]
    if present.empty:
        return False
    sample = present.head(500)
    parsed = parse_dates(sample) if parser == "date" else parse_numbers(sample)[0]
    return bool(parsed.notna().mean() >= PARSE_SHARE)


def detect_transaction_columns(frame: pd.DataFrame) -> TransactionColumns | None:
    """The log's columns, when ``frame`` looks like a transaction log; else ``None``.

    It needs a customer id that repeats, a column of dates, and an amount or a
    quantity with a unit price, found by their names and checked on their values.
    """
    customers = [c for c in _named(frame, CUSTOMER_NAME)]
    dates = [c for c in _named(frame, DATE_NAME) if _parses(frame[c], "date")]
    if not customers or not dates:
        return None
    customer = customers[0]
    ids = normalise_ids(frame[customer])
    present = ids[ids != ""]
    if present.empty or len(present) < MIN_ROWS_PER_CUSTOMER * present.nunique():
        return None
    amounts = [c for c in _named(frame, AMOUNT_NAME) if _parses(frame[c], "number")]
    quantities = [c for c in _named(frame, QUANTITY_NAME) if _parses(frame[c], "number")]
    prices = [c for c in _named(frame, PRICE_NAME) if _parses(frame[c], "number")]
    if not amounts and not (quantities and prices):
        return None
    invoices = _named(frame, INVOICE_NAME)
    products = [c for pattern in PRODUCT_NAMES for c in _named(frame, pattern)]
    return TransactionColumns(
        customer=customer,
        date=dates[0],
        amount=amounts[0] if amounts else None,
        quantity=None if amounts else quantities[0],
        price=None if amounts else prices[0],
        invoice=invoices[0] if invoices else None,
        product=products[0] if products else None,
    )


@dataclass(frozen=True)
class TransactionReport:
    """What the aggregation found and did, for the page, the CLI and ``run.json``."""

    rows: int
    customers: int
    purchase_rows: int
    return_rows: int
    """Rows with a negative quantity or amount, or a cancelled (``C``) invoice."""
    cancelled_invoice_rows: int
    missing_id_rows: int
    bad_date_rows: int
    bad_value_rows: int
    first_date: str
    last_date: str
    attributes: tuple[str, ...] = ()
    """Columns carried to the customer table: one value per customer (see
    ``ATTRIBUTE_CONSTANT_SHARE``)."""

    def notes(self) -> list[str]:
        """One line per thing the user should know."""
        notes = [
            f"{self.rows:,} transaction rows became {self.customers:,} customers "
            f"({self.first_date} to {self.last_date}).",
        ]
        if self.attributes:
            notes.append(
                f"Kept {', '.join(self.attributes)}: the same on every line of a customer, "
                "so each customer has one value."
            )
        if self.return_rows:
            notes.append(
                f"{self.return_rows:,} rows are returns or cancellations "
                f"({self.cancelled_invoice_rows:,} on 'C' invoices): they are netted "
                "from each customer's value and counted in 'returns'."
            )
        for count, why in (
            (self.missing_id_rows, "have no customer id"),
            (self.bad_date_rows, "have no readable date"),
            (self.bad_value_rows, "have no readable amount"),
        ):
            if count:
                notes.append(
                    f"{count:,} rows {why}: they are kept apart, with the reason, as "
                    "unattributed transactions."
                )
        return notes

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {**self.__dict__, "notes": self.notes()}


@dataclass(frozen=True)
class CustomerTable:
    """A transaction log aggregated to customers."""

    customers: LoadedTable
    """One row per customer, every cell text, as ``load_table`` would give."""
    report: TransactionReport
    unattributed: pd.DataFrame
    """The original rows that belong to no customer, with a ``reason`` column."""
    columns: TransactionColumns


def rfm_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Quintile scores 1–5 by rank; ties share a score.

    >>> rfm_score(pd.Series([1, 2, 3, 4, 5])).tolist()
    [1, 2, 3, 4, 5]
    """
    ranked = (values if higher_is_better else -values).rank(pct=True, method="average")
    return pd.Series(np.ceil(ranked * 5), index=values.index).clip(1, 5).astype(int)


def lifecycle_stage(
    r: pd.Series, f: pd.Series, m: pd.Series, days_since_first: pd.Series, new_days: float
) -> pd.Series:
    """Stage per customer from RFM scores, first rule that applies:

    lapsed (R = 1), at risk (R = 2), new (first purchase within ``new_days``),
    champion (R, F and M all ≥ 4), otherwise active.
    """
    conditions = [r <= 1, r == 2, days_since_first <= new_days, (r >= 4) & (f >= 4) & (m >= 4)]
    chosen = np.select(conditions, ["lapsed", "at risk", "new", "champion"], default="active")
    return pd.Series(chosen, index=r.index)


def _line_values(frame: pd.DataFrame, columns: TransactionColumns) -> tuple[pd.Series, pd.Series]:
    """Each row's value (amount, or quantity × price) and whether it is a return."""
    if columns.amount:
        value, _ = parse_numbers(frame[columns.amount])
        negative = value < 0
    else:
        assert columns.quantity and columns.price
        quantity, _ = parse_numbers(frame[columns.quantity])
        price, _ = parse_numbers(frame[columns.price])
        value = quantity * price
        negative = (quantity < 0) | (price < 0)
    cancelled = pd.Series(False, index=frame.index)
    if columns.invoice:
        cancelled = frame[columns.invoice].astype(str).str.match(CANCELLED_INVOICE)
    is_return = negative | cancelled
    # A cancelled line recorded with a positive quantity still takes value away.
    value = value.where(~is_return, -value.abs())
    return value, is_return


def customer_attributes(
    frame: pd.DataFrame, customers: pd.Series, columns: TransactionColumns
) -> pd.DataFrame:
    """Columns of the log that describe the customer, not the line: one value per customer.

    A column other than those the log's figures come from (and other than invoice and
    product columns) qualifies when, among customers with two or more lines where it is
    filled, it is constant for at least ``ATTRIBUTE_CONSTANT_SHARE`` of them. Each
    customer gets the value on most of their lines ("" when never filled).

    Args:
        frame: the log's usable lines, every cell text.
        customers: each line's customer id, aligned with ``frame``.
        columns: the log's columns.

    Returns:
        One row per customer (indexed by id, in order of first appearance), one column per
        attribute, in the log's column order.
    """
    used = {
        columns.customer, columns.date, columns.amount, columns.quantity, columns.price,
        columns.invoice, columns.product,
    }  # fmt: skip
    line_columns = {c for pattern in (INVOICE_NAME, *PRODUCT_NAMES) for c in _named(frame, pattern)}
    order = pd.Index(customers.drop_duplicates())
    repeated = customers.map(customers.value_counts()) >= 2
    attributes: dict[str, pd.Series] = {}
    for name in frame.columns:
        if name in used or name in line_columns or name in FIGURES:
            continue
        text = frame[name].astype(str).str.strip()
        filled = ~text.str.lower().isin(MISSING_TOKENS)
        sample = pd.DataFrame({"customer": customers, "value": text})[filled & repeated]
        if sample.empty:
            continue
        constant = sample.groupby("customer", sort=False)["value"].nunique() == 1
        if constant.mean() < ATTRIBUTE_CONSTANT_SHARE:
            continue
        lines = pd.DataFrame({"customer": customers, "value": text})[filled]
        counts = lines.groupby(["customer", "value"], sort=False).size()
        ranked = counts.sort_values(ascending=False, kind="stable").reset_index()
        most = ranked.drop_duplicates("customer").set_index("customer")["value"]
        attributes[str(name)] = most.reindex(order).fillna("")
    return pd.DataFrame(attributes, index=order, dtype=object)


def _format(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def aggregate_transactions(
    frame: pd.DataFrame, columns: TransactionColumns, filename: str = "transactions.csv"
) -> CustomerTable:
    """One row per customer from a transaction log (see the module docstring).

    Columns: customer id, first and last purchase, recency_days, frequency (distinct
    invoices, or purchase days without an invoice column), monetary (net of returns),
    tenure_days, avg_basket, returns, returned_value, products (text), r/f/m scores
    and lifecycle_stage. Recency counts from the log's last date.

    Raises:
        InputError: no row has a customer id, a readable date and a readable amount.
    """
    ids = normalise_ids(frame[columns.customer])
    dates = parse_dates(frame[columns.date])
    value, is_return = _line_values(frame, columns)
    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons[value.isna()] = "no readable amount"
    reasons[dates.isna()] = "no readable date"
    reasons[ids == ""] = "no customer id"
    usable = reasons == ""
    if not usable.any():
        raise InputError(
            f"No row of {filename} has a customer id, a date and an amount together "
            f"({columns.describe()}); check that these columns hold what their names say."
        )
    unattributed = frame[~usable].copy()
    unattributed.insert(0, "reason", reasons[~usable])

    lines = pd.DataFrame(
        {
            "customer": ids[usable],
            "day": dates[usable].dt.tz_convert(None).dt.normalize(),
            "value": value[usable],
            "is_return": is_return[usable],
            "invoice": (
                frame.loc[usable, columns.invoice].astype(str)
                if columns.invoice
                else dates[usable].dt.strftime("%Y-%m-%d")
            ),
            "product": (
                frame.loc[usable, columns.product].astype(str).str.strip()
                if columns.product
                else ""
            ),
        }
    )
    as_of = lines["day"].max()
    purchases = lines[~lines["is_return"]]
    returns = lines[lines["is_return"]]
    by_customer = lines.groupby("customer", sort=False)
    bought = purchases.groupby("customer", sort=False)

    out = pd.DataFrame(index=pd.Index(by_customer.size().index, name=columns.customer))
    attributes = customer_attributes(frame[usable], ids[usable], columns)
    for name in attributes.columns:
        out[name] = attributes[name].reindex(out.index).fillna("")
    first = bought["day"].min().reindex(out.index).fillna(by_customer["day"].min())
    last = bought["day"].max().reindex(out.index).fillna(by_customer["day"].min())
    out["first_purchase"] = first.dt.strftime("%Y-%m-%d")
    out["last_purchase"] = last.dt.strftime("%Y-%m-%d")
    out["recency_days"] = (as_of - last).dt.days
    out["frequency"] = bought["invoice"].nunique().reindex(out.index).fillna(0).astype(int)
    out["monetary"] = by_customer["value"].sum().round(2)
    out["tenure_days"] = (as_of - first).dt.days
    gross = bought["value"].sum().reindex(out.index).fillna(0.0)
    out["avg_basket"] = (gross / out["frequency"].replace(0, np.nan)).round(2)
    out["returns"] = returns.groupby("customer").size().reindex(out.index).fillna(0).astype(int)
    out["returned_value"] = (
        (-returns.groupby("customer")["value"].sum()).reindex(out.index).fillna(0.0).round(2)
    )
    if columns.product:
        named = purchases[purchases["product"] != ""]
        counts = named.groupby(["customer", "product"], sort=False).size()
        ranked = counts.sort_values(ascending=False, kind="stable").reset_index()
        top = ranked.groupby("customer", sort=False)["product"].agg(
            lambda names: "; ".join(names.head(N_PRODUCTS))
        )
        out["products"] = top.reindex(out.index).fillna("")
    out["r_score"] = rfm_score(out["recency_days"], higher_is_better=False)
    out["f_score"] = rfm_score(out["frequency"])
    out["m_score"] = rfm_score(out["monetary"])
    span = max((as_of - lines["day"].min()).days, 1)
    out["lifecycle_stage"] = lifecycle_stage(
        out["r_score"],
        out["f_score"],
        out["m_score"],
        out["tenure_days"],
        new_days=min(NEW_CUSTOMER_DAYS, span / 5),
    )
    # Customers with no purchase in the log (returns only) cannot be recent or new.
    out.loc[out["frequency"] == 0, "lifecycle_stage"] = "lapsed"

    table = out.reset_index()
    text = table.astype(object).map(
        lambda cell: _format(cell) if isinstance(cell, float) else str(cell)
    )
    cancelled = 0
    if columns.invoice:
        cancelled = int(frame[columns.invoice].astype(str).str.match(CANCELLED_INVOICE).sum())
    report = TransactionReport(
        rows=len(frame),
        customers=len(table),
        purchase_rows=int((~lines["is_return"]).sum()),
        return_rows=int(is_return.sum()),
        cancelled_invoice_rows=cancelled,
        missing_id_rows=int((reasons == "no customer id").sum()),
        bad_date_rows=int((reasons == "no readable date").sum()),
        bad_value_rows=int((reasons == "no readable amount").sum()),
        first_date=lines["day"].min().strftime("%Y-%m-%d"),
        last_date=as_of.strftime("%Y-%m-%d"),
        attributes=tuple(attributes.columns),
    )
    stem = filename.rsplit(".", 1)[0]
    ingest = IngestReport(
        filename=f"{stem} (per customer).csv",
        file_format="transactions",
        encoding=None,
        delimiter=None,
        skipped_lines=0,
        n_rows=len(table),
        n_columns=len(table.columns),
        duplicate_rows=0,
        renamed_columns=(),
        notes=tuple(report.notes()),
    )
    return CustomerTable(LoadedTable(text, ingest), report, unattributed, columns)


DERIVED_ROLES: dict[str, Role] = {
    "first_purchase": "ignored",
    "last_purchase": "ignored",
    "lifecycle_stage": "label",
}
"""Roles for the aggregated columns that detection would get wrong: the dates repeat
recency and tenure, and the stage summarises RFM (profiled, not clustered again)."""


def customer_schema(table: LoadedTable, columns: TransactionColumns) -> Schema:
    """Column roles for an aggregated customer table."""
    schema = detect_schema(table.frame)
    roles = {**DERIVED_ROLES, columns.customer: "id"}
    if "products" in table.frame.columns:
        roles["products"] = "text"
    return Schema(
        tuple(
            replace(c, role=roles[c.name], reason="derived from the transactions")
            if c.name in roles and roles[c.name] != c.role
            else c
            for c in schema.columns
        )
    )
