"""Which columns each stage reads, decided once for both engines (``pipeline`` and
``distributed``).

The segmentation learns from text, numeric, date and categorical columns; label columns
(what a model may predict) are left out of it and profiled as categories; the sentiment
reads the feedback columns, which are the text columns without lists of things bought.
"""

from __future__ import annotations

import re

import pandas as pd

from segmenter.ingest import DATE_FEATURE_SUFFIX, MISSING_CATEGORY, Role, Schema

PRODUCT_LIST_COLUMN = re.compile(
    r"(?i)(?:^|[^a-z])(?:products?|items?|skus?|purchases|bought|basket|categories)(?:$|[^a-z])"
)
"""Text columns named like lists of things bought: embedded, but they carry no sentiment."""


def numeric_features(schema: Schema) -> list[str]:
    """The numeric features, in table order as ``ingest.prepare_columns`` makes them: each
    numeric column, and each date column as days (``DATE_FEATURE_SUFFIX``)."""
    names = []
    for column in schema.columns:
        if column.role == "numeric":
            names.append(column.name)
        elif column.role == "date":
            names.append(f"{column.name}{DATE_FEATURE_SUFFIX}")
    return names


def feedback_columns(schema: Schema) -> list[str]:
    """The text columns that hold what customers wrote: product lists are left out."""
    return [c for c in schema.text_columns if not PRODUCT_LIST_COLUMN.search(c)]


def feedback_only_schema(schema: Schema) -> Schema | None:
    """The schema whose documents are the feedback texts, when they differ from the
    segmentation's (``None`` when every text column is feedback)."""
    columns = feedback_columns(schema)
    if columns == schema.text_columns:
        return None
    others: dict[str, Role] = {c: "ignored" for c in schema.text_columns if c not in columns}
    return schema.with_roles(others)


def sentiment_candidates(schema: Schema) -> list[str]:
    """The columns where a rating (the sentiment's source when there is one) is looked for."""
    return [*schema.numeric_columns, *schema.categorical_columns, *schema.label_columns]


def profiled_categories(
    frame: pd.DataFrame, schema: Schema, categorical: pd.DataFrame
) -> pd.DataFrame:
    """The categorical columns the profiles read: the segmented ones (``categorical``, as
    prepared) and the label columns, which are never segmented on but are described."""
    profiled = categorical.copy()
    for column in schema.label_columns:
        profiled[column] = frame[column].astype(str).replace("", MISSING_CATEGORY)
    return profiled
