"""Column roles, number parsing and the features handed to segmentation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.errors import SchemaError
from segmenter.ingest import (
    ROLES,
    Schema,
    build_documents,
    detect_schema,
    load_table,
    normalise_ids,
    parse_numbers,
    prepare_columns,
    validate_for_segmentation,
)
from tests import shapes

REVIEWS_ZH = [
    "这个产品质量很好，物流也很快，下次还会再买",
    "价格太贵了，而且客服态度很差，不会再买了",
    "包装破损，快递送了一个星期才到，非常失望",
    "客服回复很及时，帮我解决了账户的问题",
]


@pytest.fixture
def rich(customers: pd.DataFrame) -> pd.DataFrame:
    """The fixture customers plus a churn flag, a signup date, Chinese text and charges."""
    n = len(customers)
    frame = customers.copy()
    frame["Churn"] = ["Yes" if i % 3 == 0 else "No" for i in range(n)]
    frame["signup"] = [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)]
    frame["review_zh"] = [f"{REVIEWS_ZH[i % 4]}（{i}）" for i in range(n)]
    frame["TotalCharges"] = [" " if i % 40 == 0 else f"{10 + i * 1.5:.2f}" for i in range(n)]
    frame["email"] = [f"user{i}@example.com" for i in range(n)]
    frame["notes"] = [""] * n
    return frame.astype(object)


def test_fixture_roles(customers: pd.DataFrame) -> None:
    schema = detect_schema(customers)
    assert schema.id_column == "customer_id"
    assert schema.text_columns == ["feedback"]
    assert schema.numeric_columns == ["spend"]
    assert schema.categorical_columns == ["theme", "plan"]
    plan = schema.columns[4]
    assert plan.categories == ("basic", "premium")
    assert plan.distinct == 2 and plan.missing == 0
    spend = schema.columns[3]
    assert spend.value_range is not None and spend.value_range[0] < 30 < 100 < spend.value_range[1]
    assert spend.numeric_share == 1.0


def test_rich_roles(rich: pd.DataFrame) -> None:
    schema = detect_schema(rich)
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "customer_id": "id",
        "theme": "categorical",
        "feedback": "text",
        "spend": "numeric",
        "plan": "categorical",
        "Churn": "label",
        "signup": "date",
        "review_zh": "text",
        "TotalCharges": "numeric",
        "email": "ignored",
        "notes": "ignored",
    }
    charges = schema.columns[8]
    assert charges.missing == 3 and charges.numeric_share == 1.0
    assert schema.columns[10].reason == "empty"
    assert schema.label_columns == ["Churn"] and schema.date_columns == ["signup"]
    assert all(c.reason for c in schema.columns)


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("Exited", ["0", "1"] * 10, "label"),
        ("status", ["churned", "stayed"] * 10, "label"),
        ("Partner", ["Yes", "No"] * 10, "categorical"),  # Yes/No alone is a feature
        ("contact_type", ["Complaint", "Question"] * 10, "categorical"),
        ("SeniorCitizen", ["0", "1"] * 10, "numeric"),
        ("zip", [f"0{2100 + i}" for i in range(20)], "categorical"),
        ("phone", [f"+1 555 010 {1000 + i}" for i in range(20)], "ignored"),
        ("created", [f"2026/01/{1 + i:02d} 10:30" for i in range(20)], "date"),
        ("日期", [f"2026年1月{1 + i}日" for i in range(20)], "date"),
        ("year", [str(2000 + i % 5) for i in range(20)], "numeric"),  # numbers alone aren't dates
        ("city", ["北京", "上海", "广州", "哈尔滨市"] * 5, "categorical"),
        ("code", [f"X{i:03d}Q{i * 7}" for i in range(300)], "ignored"),  # not first column
        ("amount", ["$1,234.50", "€12", "1 500", "12%", "N/A", "-"] * 4, "numeric"),
    ],
)
def test_single_column_roles(name: str, values: list[str], role: str) -> None:
    frame = pd.DataFrame({"customer_id": [f"{i:04d}" for i in range(len(values))], name: values})
    assert detect_schema(frame).role_of(name) == role


def test_unique_codes_become_the_id_without_an_id_name() -> None:
    frame = pd.DataFrame({"member": [f"AB-{i:05d}" for i in range(30)], "plan": ["a", "b"] * 15})
    schema = detect_schema(frame)
    assert schema.id_column == "member"
    assert schema.columns[0].reason == "unique short codes"


def test_at_most_one_id() -> None:
    frame = pd.DataFrame(
        {"customer_id": [f"{i:04d}" for i in range(30)], "user_id": [str(i) for i in range(30)]}
    )
    assert detect_schema(frame).names("id") == ["customer_id"]


def test_schema_from_loaded_csv_keeps_leading_zeros() -> None:
    text = "CustomerID,Genre,Age\r\n" + "\r\n".join(
        f"{i:04d},{'Male' if i % 2 else 'Female'},{20 + i % 40}" for i in range(1, 61)
    )
    loaded = load_table(text.encode(), "mall.csv")
    schema = detect_schema(loaded.frame)
    assert schema.id_column == "CustomerID"
    assert prepare_columns(loaded.frame, schema).ids.iloc[0] == "0001"
    assert schema.categorical_columns == ["Genre"] and schema.numeric_columns == ["Age"]


# --- parse_numbers and normalise_ids -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12.0),
        (" 29.85 ", 29.85),
        ("1,234", 1234.0),
        ("1,234,567.5", 1234567.5),
        ("1 234", 1234.0),
        ("1.234,5", 1234.5),
        ("12,5", 12.5),
        ("$1,234.50", 1234.5),
        ("€ 12", 12.0),
        ("£3", 3.0),
        ("¥100", 100.0),
        ("15%", 15.0),
        ("(42)", -42.0),
        ("-3.5", -3.5),
        ("1e3", 1000.0),
    ],
)
def test_parse_numbers_values(text: str, number: float) -> None:
    values, coerced = parse_numbers(pd.Series([text]))
    assert values.dtype == np.float64
    assert values.iloc[0] == pytest.approx(number)
    assert coerced == 0


def test_formatted_numbers_parse_the_same_beside_free_text() -> None:
    cells = ["$1,234.50", "1.234,5", "(42)", "15%", "USD 7", "1 234", "1e3", "€ 12"]
    text = ["Great service, 10/10", "C0000001", "about 5 dollars", "inf"]
    values, coerced = parse_numbers(pd.Series(cells + text))
    assert values.tolist()[: len(cells)] == [1234.5, 1234.5, -42.0, 15.0, 7.0, 1234.0, 1e3, 12.0]
    assert values.iloc[len(cells) :].isna().all() and coerced == len(text)


def test_parse_numbers_counts_coerced_cells() -> None:
    values, coerced = parse_numbers(
        pd.Series(["1", " ", "", "N/A", "-", "n/a", "null", "none", "x"])
    )
    assert values.iloc[0] == 1.0 and values.iloc[1:].isna().all()
    assert coerced == 8


def test_parse_numbers_keeps_index() -> None:
    values, _ = parse_numbers(pd.Series(["1", "2", "1"], index=[5, 6, 7]))
    assert values.index.tolist() == [5, 6, 7] and values.tolist() == [1.0, 2.0, 1.0]


def test_normalise_ids() -> None:
    assert normalise_ids(pd.Series(["12923.0", " 12924.0", ""])).tolist() == ["12923", "12924", ""]
    assert normalise_ids(pd.Series(["0012", "7.0"])).tolist() == ["0012", "7.0"]
    assert normalise_ids(pd.Series([12923.0, 5.0])).tolist() == ["12923", "5"]


# --- with_roles and to_dict --------------------------------------------------------------


def test_with_roles_overrides_and_validates(customers: pd.DataFrame) -> None:
    schema = detect_schema(customers)
    changed = schema.with_roles({"theme": "label", "spend": "ignored"})
    assert changed.role_of("theme") == "label" and changed.role_of("spend") == "ignored"
    assert changed.columns[2] == schema.columns[2]  # untouched columns stay as they were
    assert schema.role_of("spend") == "numeric"  # the original is not mutated
    with pytest.raises(SchemaError, match="Unknown column 'nope'"):
        schema.with_roles({"nope": "text"})
    with pytest.raises(SchemaError, match="Unknown role 'words'"):
        schema.with_roles({"feedback": "words"})  # type: ignore[dict-item]
    with pytest.raises(SchemaError, match="Only one column can be the ID"):
        schema.with_roles({"theme": "id", "plan": "id"})
    with pytest.raises(SchemaError, match="Unknown column"):
        schema.role_of("nope")


def test_new_id_demotes_the_old_one(customers: pd.DataFrame) -> None:
    schema = detect_schema(customers).with_roles({"feedback": "id"})
    assert schema.id_column == "feedback"
    assert schema.role_of("customer_id") == "ignored"
    assert schema.names("id") == ["feedback"]


def test_to_dict_is_json_ready(rich: pd.DataFrame) -> None:
    record = json.loads(json.dumps(detect_schema(rich).to_dict()))
    assert record["id_column"] == "customer_id"
    first = record["columns"][0]
    assert set(first) == {
        "name", "role", "distinct", "missing", "numeric_share", "examples", "categories",
        "value_range", "mean_length", "reason",
    }  # fmt: skip
    assert {c["role"] for c in record["columns"]} <= set(ROLES)


# --- prepare_columns, build_documents, validate_for_segmentation ---------------------------


def test_prepare_columns(rich: pd.DataFrame) -> None:
    rich.loc[5, "plan"] = " N/A "
    schema = detect_schema(rich)
    prepared = prepare_columns(rich, schema)
    assert prepared.id_name == "customer_id"
    assert prepared.ids.tolist() == rich["customer_id"].tolist()
    assert prepared.numeric.columns.tolist() == ["spend", "signup (days)", "TotalCharges"]
    assert (prepared.numeric.dtypes == np.float64).all()
    assert prepared.numeric["signup (days)"].min() == 0.0
    assert prepared.coerced_cells["TotalCharges"] == 3
    assert prepared.numeric["TotalCharges"].isna().sum() == 3
    assert any(note.startswith("TotalCharges: 3 cells were not numbers") for note in prepared.notes)
    assert prepared.categorical.columns.tolist() == ["theme", "plan"]
    assert prepared.categorical.loc[5, "plan"] == "(missing)"
    assert "Churn" not in prepared.numeric and "Churn" not in prepared.categorical
    for part in (prepared.ids, prepared.numeric, prepared.categorical):
        assert len(part) == len(rich)


def test_prepare_without_id_uses_row_numbers() -> None:
    frame = pd.DataFrame({"plan": ["a", "b", "a"], "spend": ["1", "2", "3"]})
    prepared = prepare_columns(frame, detect_schema(frame))
    assert prepared.id_name == "row_number"
    assert prepared.ids.tolist() == ["1", "2", "3"]


def test_build_documents(customers: pd.DataFrame) -> None:
    schema = detect_schema(customers)
    docs = build_documents(customers, schema)
    assert len(docs) == len(customers)
    assert docs[0] == customers.loc[0, "feedback"]


def test_build_documents_joins_several_text_columns() -> None:
    frame = pd.DataFrame(
        {
            "q1": ["Delivery was late", "", "Fine.", "N/A"],
            "q2": ["Support was  great\nthanks", "", "Cheap", ""],
        }
    )
    schema = Schema(detect_schema(frame).columns).with_roles({"q1": "text", "q2": "text"})
    assert build_documents(frame, schema) == [
        "Delivery was late. Support was great thanks",
        "",
        "Fine. Cheap",
        "",
    ]
    no_text = schema.with_roles({"q1": "categorical", "q2": "ignored"})
    assert build_documents(frame, no_text) == ["", "", "", ""]


def test_validate_for_segmentation(customers: pd.DataFrame) -> None:
    schema = detect_schema(customers)
    validate_for_segmentation(customers, schema)
    with pytest.raises(SchemaError, match="only 4 rows: segmentation needs at least 10 customers"):
        validate_for_segmentation(customers.head(4), schema)
    nothing = schema.with_roles({c: "ignored" for c in ("theme", "feedback", "spend", "plan")})
    with pytest.raises(SchemaError, match="no column to segment on"):
        validate_for_segmentation(customers, nothing)
    with pytest.raises(SchemaError, match="lacks"):
        validate_for_segmentation(customers.drop(columns="plan"), schema)


def test_dates_with_gaps_count_as_coerced() -> None:
    frame = pd.DataFrame(
        {"joined": ["2026-01-01", "2026-01-11", "", "2026-01-03"] * 5, "plan": ["a", "b"] * 10}
    )
    prepared = prepare_columns(frame, detect_schema(frame))
    days = prepared.numeric["joined (days)"]
    assert days.iloc[1] == 10.0 and math.isnan(days.iloc[2])
    assert prepared.coerced_cells["joined (days)"] == 5


# --- Roles on tables shaped like real exports (issue 15) ------------------------------------


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    return {c.name: c.role for c in detect_schema(frame).columns}


def test_complaints_export_roles() -> None:
    frame = shapes.complaints_export()
    schema = detect_schema(frame)
    assert _roles(frame) == {
        "Date received": "date",
        "Product": "categorical",
        "Sub-product": "categorical",
        "Issue": "categorical",
        "Consumer complaint narrative": "text",  # blank in 70% of rows, prose where filled
        "Company": "categorical",  # repeated names, never text
        "State": "categorical",
        "ZIP code": "ignored",
        "Complaint ID": "id",
    }
    assert schema.columns[5].reason == "10 distinct values (names or titles, not free text)"
    assert schema.columns[7].reason.startswith("identifier (")
    docs = build_documents(frame, schema)
    assert sum(bool(d) for d in docs) == (frame["Consumer complaint narrative"] != "").sum()
    assert not any("Company" in d or "TRANSUNION" in d for d in docs)


def test_a_table_whose_only_long_strings_are_company_names_segments_on_its_columns() -> None:
    frame = shapes.complaints_export(narrative_share=0.0)
    schema = detect_schema(frame)
    assert schema.text_columns == [] and "Company" in schema.categorical_columns
    validate_for_segmentation(frame, schema)
    assert build_documents(frame, schema) == [""] * len(frame)


def test_too_many_company_names_are_ignored_not_text() -> None:
    frame = shapes.complaints_export(n=400)
    frame["Company"] = [
        f"{shapes.COMPANIES[i % 10].split(',')[0]} HOLDINGS NO {i % 150}" for i in range(400)
    ]
    column = detect_schema(frame).columns[5]
    assert column.role == "ignored"
    assert (
        column.reason
        == "150 distinct short values (names or titles, not free text), too many for categories"
    )


def test_clothing_review_roles() -> None:
    text = shapes.clothing_reviews().to_csv(index=False).encode()
    loaded = load_table(text, "Womens Clothing E-Commerce Reviews.csv")
    schema = detect_schema(loaded.frame)
    assert _roles(loaded.frame) == {
        "column_1": "id",  # the unnamed row number pandas wrote first
        "Clothing ID": "ignored",  # a product number, repeated across reviews
        "Age": "numeric",
        "Title": "ignored",  # short titles: neither prose nor few enough for categories
        "Review Text": "text",
        "Rating": "numeric",
        "Recommended IND": "label",
        "Positive Feedback Count": "numeric",
        "Division Name": "categorical",
        "Department Name": "categorical",
        "Class Name": "categorical",
    }
    assert schema.columns[1].reason.startswith("identifier (name looks like an ID")
    prepared = prepare_columns(loaded.frame, schema)
    assert "Clothing ID" not in prepared.numeric and "Recommended IND" not in prepared.numeric
    # Two text columns: the documents carry no field labels.
    both = schema.with_roles({"Title": "text"})
    docs = build_documents(loaded.frame, both)
    assert not any("Title" in d or "Review Text" in d for d in docs)
    assert docs[0].startswith(loaded.frame.loc[0, "Title"] or loaded.frame.loc[0, "Review Text"])


def test_marketing_campaign_roles() -> None:
    frame = shapes.marketing_campaign()
    roles = _roles(frame)
    labels = [f"AcceptedCmp{k}" for k in range(1, 6)] + ["Complain", "Response"]
    assert [name for name, role in roles.items() if role == "label"] == labels
    assert roles["ID"] == "id" and roles["Dt_Customer"] == "date"
    assert roles["Education"] == roles["Marital_Status"] == "categorical"
    assert roles["Z_CostContact"] == roles["Z_Revenue"] == "ignored"
    numeric = [n for n in frame.columns if n.startswith(("Mnt", "Num"))]
    numeric += ["Year_Birth", "Income", "Kidhome", "Teenhome", "Recency"]
    assert all(roles[n] == "numeric" for n in numeric)
    schema = detect_schema(frame)
    assert schema.columns[frame.columns.get_loc("Z_CostContact")].reason == "constant (always '3')"
    prepared = prepare_columns(frame, schema)
    assert not set(labels) & (set(prepared.numeric) | set(prepared.categorical))


def test_chinese_reviews_with_a_category_column() -> None:
    assert _roles(shapes.chinese_reviews()) == {
        "cat": "categorical",
        "label": "label",
        "review": "text",
    }


def test_order_lines_roles() -> None:
    roles = _roles(shapes.online_retail_lines())
    assert roles == {
        "InvoiceNo": "ignored",  # "C536379" cells made it 2% not numbers; it is an identifier
        "StockCode": "categorical",  # only a dozen products here: a code with few values
        "Description": "categorical",
        "Quantity": "numeric",
        "InvoiceDate": "date",
        "UnitPrice": "numeric",
        "CustomerID": "ignored",  # repeats on every line of a customer: not this table's ID
        "Country": "categorical",
    }


@pytest.mark.parametrize(
    "name",
    ["Complaint ID", "productId", "order_id", "InvoiceNo", "number", "code", "StockCode",
     "Account #", "订单编号", "商品代码", "SKU", "id_product"],
)  # fmt: skip
def test_identifier_names_are_never_features(name: str) -> None:
    n = 200
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(n)],
            name: [str(100 + (i * 37) % 90) for i in range(n)],  # 90 values, repeated
            "spend": [str(i % 17) for i in range(n)],
        }
    )
    column = detect_schema(frame).columns[1]
    assert column.role == "ignored" and column.reason.startswith("identifier (name looks like")
    assert prepare_columns(frame, detect_schema(frame)).numeric.columns.tolist() == ["spend"]


@pytest.mark.parametrize(
    "name", ["NumWebPurchases", "Kidhome", "Paid", "Positive Feedback Count", "Recency", "Income"]
)
def test_quantities_are_not_identifiers(name: str) -> None:
    frame = pd.DataFrame(
        {"customer_id": [f"{i:04d}" for i in range(200)], name: [str(i % 90) for i in range(200)]}
    )
    assert detect_schema(frame).role_of(name) == "numeric"


def test_a_few_valued_code_is_a_category() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(60)],
            "Store ID": [str(i % 4) for i in range(60)],
        }
    )
    column = detect_schema(frame).columns[1]
    assert column.role == "categorical" and "name looks like an ID" in column.reason


def test_alphanumeric_codes_are_identifiers_though_most_parse_as_numbers() -> None:
    n = 300
    codes = [f"{20000 + i % 120}" + ("A" if i % 10 == 0 else "") for i in range(n)]
    frame = pd.DataFrame({"customer_id": [f"{i:04d}" for i in range(n)], "item": codes})
    column = detect_schema(frame).columns[1]
    assert column.numeric_share >= 0.9  # the old rule read these as quantities
    assert column.role == "ignored" and column.reason.startswith("identifier (codes such as 20000A")
    few = frame.assign(item=[("85123A", "22423", "POST")[i % 3] for i in range(n)])
    assert detect_schema(few).role_of("item") == "categorical"


def test_row_numbers_are_identifiers_and_quantities_are_not() -> None:
    n = 120
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "row": [str(i + 1) for i in range(n)],
            "income": [str(20000 + (i * 7919) % 50000) for i in range(n)],  # unique, spread out
        }
    )
    schema = detect_schema(frame)
    assert schema.role_of("row") == "ignored" and "row numbers" in schema.columns[1].reason
    assert schema.role_of("income") == "numeric"


@pytest.mark.parametrize(
    ("values", "role", "reason"),
    [
        (["3"] * 400, "ignored", "constant (always '3')"),
        (["a"] * 397 + ["b", "c", "d"], "ignored", "near-constant ('a' in 99.2% of rows)"),
        ([""] * 397 + ["x", "y", "z"], "ignored", "almost always blank (99.2% of rows)"),
        (["a"] * 392 + ["b"] * 8, "categorical", "2 distinct values"),  # 98%: still informative
        (["yes"] * 200 + [""] * 200, "categorical", "1 distinct values"),  # filled vs blank
    ],
)
def test_constant_and_near_constant_columns_are_ignored(
    values: list[str], role: str, reason: str
) -> None:
    frame = pd.DataFrame({"customer_id": [f"{i:04d}" for i in range(len(values))], "flag": values})
    column = detect_schema(frame).columns[1]
    assert (column.role, column.reason) == (role, reason)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("Response", ["0", "1"]),
        ("Churn", ["Yes", "No"]),
        ("Recommended IND", ["1", "0"]),
        ("AcceptedCmp3", ["0", "1"]),
        ("Complain", ["0", "1"]),
        ("Exited", ["0", "1"]),
        ("converted", ["true", "false"]),
        ("responded", ["yes", "no"]),
        ("default", ["no", "yes"]),
    ],
)
def test_binary_outcomes_are_labels_never_features(name: str, values: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(40)],
            name: [values[int(i % 5 == 0)] for i in range(40)],
            "spend": [str(i) for i in range(40)],
        }
    )
    schema = detect_schema(frame)
    assert schema.label_columns == [name]
    prepared = prepare_columns(frame, schema)
    assert name not in prepared.numeric and name not in prepared.categorical


def test_a_rare_outcome_is_a_label_not_a_constant() -> None:
    frame = pd.DataFrame({"Complain": ["1" if i in (3, 500) else "0" for i in range(1000)]})
    assert detect_schema(frame).role_of("Complain") == "label"


def test_short_answers_are_text_but_titles_are_not() -> None:
    answers = [
        "Delivery was late again",
        "Support never called me back",
        "Too expensive for what you get",
    ]
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(60)],
            "comment": [f"{answers[i % 3]} ({i})" for i in range(60)],
            "title": [f"Great Dress No. {i % 40}" for i in range(60)],
        }
    )
    roles = _roles(frame)
    assert roles["comment"] == "text" and roles["title"] == "ignored"


SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_real_tables_keep_their_roles() -> None:
    telco = detect_schema(load_table(SHARED / "Telco-Customer-Churn.csv").frame)
    assert telco.id_column == "customerID" and telco.label_columns == ["Churn"]
    assert telco.numeric_columns == ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
    assert len(telco.categorical_columns) == 15 and not telco.names("ignored")
    mall = detect_schema(load_table(SHARED / "Mall_Customers.csv").frame)
    assert mall.id_column == "CustomerID" and mall.categorical_columns == ["Genre"]
    assert mall.numeric_columns == ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
