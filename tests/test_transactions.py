"""Transaction logs to customers: detection, RFM with returns and missing ids, stages."""

from __future__ import annotations

import pandas as pd
import pytest

from segmenter.errors import InputError
from segmenter.ingest import detect_schema
from segmenter.transactions import (
    STAGES,
    TransactionColumns,
    aggregate_transactions,
    customer_schema,
    detect_transaction_columns,
    lifecycle_stage,
    rfm_score,
)
from tests import shapes


def _log() -> pd.DataFrame:
    """A small online-retail style log, every cell text, as ingest delivers it."""
    rows = [
        # invoice, customer, date, product, quantity, unit price
        ("536365", "17850", "2024-01-05 08:26", "Red mug", "6", "2.55"),
        ("536365", "17850", "2024-01-05 08:26", "Tea towel", "2", "3.00"),
        ("536370", "17850", "2024-03-01 09:00", "Red mug", "4", "2.55"),
        ("C536379", "17850", "2024-03-02 10:00", "Red mug", "-1", "2.55"),
        ("536400", "12583", "2024-02-10 12:00", "Lamp", "1", "40"),
        ("536401", "12583", "2024-03-30 12:00", "Lamp", "1", "40"),
        ("536402", "12583", "2024-03-31 12:00", "Bulb", "10", "1.5"),
        ("536500", "13047", "2024-03-28 15:30", "Notebook", "3", "4"),
        ("536501", "", "2024-03-29 11:00", "Pen", "5", "1"),  # no customer id
        ("536502", "14000", "not a date", "Pen", "5", "1"),  # no date
        ("536503", "14000", "2024-01-02 11:00", "Pen", "five", "1"),  # no quantity
        ("C536504", "15000", "2024-01-03 11:00", "Bulb", "-2", "1.5"),  # a return only
    ]
    columns = ["InvoiceNo", "CustomerID", "InvoiceDate", "Description", "Quantity", "UnitPrice"]
    return pd.DataFrame(rows, columns=columns)


def test_a_log_is_detected_and_a_customer_table_is_not() -> None:
    found = detect_transaction_columns(_log())
    assert found == TransactionColumns(
        customer="CustomerID",
        date="InvoiceDate",
        quantity="Quantity",
        price="UnitPrice",
        invoice="InvoiceNo",
        product="Description",
    )
    customers = pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(20)],
            "signup_date": ["2024-01-01"] * 20,
            "total": ["10"] * 20,
        }
    )
    assert detect_transaction_columns(customers) is None  # one row per customer


def test_rfm_with_returns_and_missing_ids_loses_no_row() -> None:
    log = _log()
    result = aggregate_transactions(log, detect_transaction_columns(log), "orders.csv")
    table = result.customers.frame.set_index("CustomerID")

    assert list(table.index) == ["17850", "12583", "13047", "15000"]
    mug = table.loc["17850"]
    assert mug["first_purchase"] == "2024-01-05" and mug["last_purchase"] == "2024-03-01"
    assert mug["frequency"] == "2"  # two purchase invoices; the C invoice is a return
    assert float(mug["monetary"]) == pytest.approx(6 * 2.55 + 2 * 3 + 4 * 2.55 - 2.55)
    assert mug["returns"] == "1" and float(mug["returned_value"]) == pytest.approx(2.55)
    assert float(mug["avg_basket"]) == pytest.approx((6 * 2.55 + 6 + 4 * 2.55) / 2)
    assert mug["products"] == "Red mug; Tea towel"
    assert table.loc["12583", "recency_days"] == "0"  # bought on the log's last day
    assert table.loc["12583", "tenure_days"] == "50"
    assert table.loc["15000", "frequency"] == "0"
    assert table.loc["15000", "lifecycle_stage"] == "lapsed"
    assert set(table["lifecycle_stage"]) <= set(STAGES)

    report = result.report
    assert (report.rows, report.customers) == (12, 4)
    assert (report.return_rows, report.cancelled_invoice_rows) == (2, 2)
    assert (report.missing_id_rows, report.bad_date_rows, report.bad_value_rows) == (1, 1, 1)
    # Every input row is either in a customer's figures or kept apart with its reason.
    assert report.purchase_rows + report.return_rows + len(result.unattributed) == len(log)
    assert sorted(result.unattributed["reason"]) == [
        "no customer id",
        "no readable amount",
        "no readable date",
    ]
    assert list(result.unattributed.columns[1:]) == list(log.columns)
    assert any("returns or cancellations" in note for note in report.notes())
    assert result.customers.report.filename == "orders (per customer).csv"


def test_the_customer_table_segments_like_any_other() -> None:
    log = _log()
    table = aggregate_transactions(log, detect_transaction_columns(log)).customers.frame
    schema = detect_schema(table)
    assert schema.id_column == "CustomerID"
    assert {"recency_days", "frequency", "monetary"} <= set(schema.numeric_columns)


def test_an_amount_column_works_without_quantity_and_price() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "order_date": ["2024-01-01", "2024-02-01", "2024-01-15", "2024-01-20", "2024-02-01"],
            "amount": ["$10.00", "$-4.00", "20", "5", "7"],
        }
    )
    columns = detect_transaction_columns(log)
    assert columns is not None and columns.amount == "amount" and columns.invoice is None
    table = aggregate_transactions(log, columns).customers.frame.set_index("customer_id")
    assert table.loc["a", "monetary"] == "6" and table.loc["a", "returns"] == "1"
    assert table.loc["b", "frequency"] == "2"  # purchase days without an invoice column


def test_no_usable_row_is_explained() -> None:
    log = pd.DataFrame(
        {"customer_id": ["", "", ""], "date": ["2024-01-01"] * 3, "amount": ["1"] * 3}
    )
    columns = TransactionColumns(customer="customer_id", date="date", amount="amount")
    with pytest.raises(InputError, match="No row of transactions.csv has a customer id"):
        aggregate_transactions(log, columns)


def test_scores_and_stages() -> None:
    assert rfm_score(pd.Series([10, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
    assert rfm_score(pd.Series([1, 1, 1, 1]), higher_is_better=True).nunique() == 1
    assert rfm_score(pd.Series([0, 100]), higher_is_better=False).tolist() == [5, 3]
    r, f, m = (pd.Series(v) for v in ([1, 2, 5, 5, 4], [5, 5, 1, 5, 2], [5, 5, 1, 5, 2]))
    days = pd.Series([400, 400, 10, 300, 300])
    assert lifecycle_stage(r, f, m, days, new_days=90).tolist() == [
        "lapsed",
        "at risk",
        "new",
        "champion",
        "active",
    ]


def test_customer_attributes_are_carried_to_the_customer_table() -> None:
    log = shapes.online_retail_lines()
    # One customer ordered once from a second country: the country of most lines wins.
    first = log.index[log["CustomerID"] == "12346"]
    log.loc[first[-1], "Country"] = "Germany"
    columns = detect_transaction_columns(log)
    assert columns is not None and columns.product == "Description"
    result = aggregate_transactions(log, columns, "Online Retail.csv")
    table = result.customers.frame.set_index("CustomerID")
    expected = (
        log[log["CustomerID"] != ""]
        .groupby("CustomerID")["Country"]
        .agg(lambda c: c.value_counts().index[0])
    )
    assert table["Country"].to_dict() == expected.to_dict()
    assert table.loc["12346", "Country"] == "United Kingdom"
    # Line-level columns stay behind: codes and prices differ from line to line.
    assert "StockCode" not in table and "UnitPrice" not in table
    assert result.report.attributes == ("Country",)
    assert any(note.startswith("Kept Country") for note in result.report.notes())
    schema = customer_schema(result.customers, columns)
    assert schema.role_of("Country") == "categorical" and schema.id_column == "CustomerID"


def test_a_column_that_varies_within_customers_is_not_carried() -> None:
    log = _log()
    log["channel"] = ["web", "store"] * 6  # differs between one customer's lines
    result = aggregate_transactions(log, detect_transaction_columns(log))
    assert "channel" not in result.customers.frame and result.report.attributes == ()
