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

from segmenter.ingest.prepare import (
    DATE_FEATURE_SUFFIX,
    DateReading,
    PreparedTable,
    build_documents,
    prepare_columns,
    validate_for_segmentation,
)
from segmenter.ingest.read import MOJIBAKE_HINT, IngestReport, LoadedTable, load_table
from segmenter.ingest.schema import ROLES, ColumnProfile, Role, Schema, detect_schema
from segmenter.ingest.values import (
    MISSING_CATEGORY,
    MISSING_TOKENS,
    date_evidence,
    day_first,
    normalise_ids,
    parse_dates,
    parse_numbers,
)

__all__ = [
    "DATE_FEATURE_SUFFIX",
    "ROLES",
    "ColumnProfile",
    "DateReading",
    "MISSING_CATEGORY",
    "MISSING_TOKENS",
    "MOJIBAKE_HINT",
    "IngestReport",
    "LoadedTable",
    "PreparedTable",
    "Role",
    "Schema",
    "build_documents",
    "date_evidence",
    "day_first",
    "detect_schema",
    "load_table",
    "normalise_ids",
    "parse_dates",
    "parse_numbers",
    "prepare_columns",
    "validate_for_segmentation",
]
