"""Upload: read a customer table, show what was found, and let the user set column roles."""

import pandas as pd
import streamlit as st

from segmenter.campaign import propose_labels
from segmenter.errors import SegmenterError
from segmenter.ingest import ROLES, prepare_columns
from segmenter.labels import column_label, column_labels
from segmenter.pipeline import with_labels
from segmenter.transactions import detect_transaction_columns
from segmenter.ui import state
from segmenter.ui.campaign import session_generator
from segmenter.ui.data import (
    accept_file,
    accept_sample,
    accept_sample_transactions,
    accept_transactions,
    undo_transactions,
)
from segmenter.ui.saved import apply_saved_segments
from segmenter.ui.widgets import open_finished_run, plain
from segmenter.views import roles_table

state.init_state()
st.title("Upload customers")

upload = st.file_uploader(
    "Customer table",
    type=["csv", "tsv", "txt", "xlsx", "parquet"],
    key="upload_file",
    help="Delimited text in any common encoding, Excel .xlsx or Parquet. One row per customer.",
)
if upload is not None:
    try:
        accept_file(upload.getvalue(), upload.name)
    except SegmenterError as error:
        st.error(plain(str(error)))
        st.stop()
elif state.get(state.LOADED) is None:
    limit = st.get_option("server.maxUploadSize")
    st.info(
        "Upload a customer table to begin, or try the bundled sample data. Files over "
        f"{limit} MB are refused by the browser (the file turns red): split the table, drop "
        "columns you do not need, or upload a sample of the rows."
    )
    left, right = st.columns(2)
    if left.button("Use sample data", key="upload_sample", help="2,000 customers with feedback"):
        try:
            accept_sample()
        except SegmenterError as error:
            st.error(str(error))
        st.rerun()
    if right.button(
        "Use sample transactions",
        key="upload_sample_transactions",
        help="A web shop's order lines for a year, to try the lifecycle view",
    ):
        try:
            accept_sample_transactions()
        except SegmenterError as error:
            st.error(str(error))
        st.rerun()
    open_finished_run()
    st.stop()

loaded = state.get(state.LOADED)
schema = state.get(state.SCHEMA)
report = loaded.report

summary = f"**{plain(report.filename)}** — {report.n_rows:,} rows × {report.n_columns} columns"
if report.encoding:
    delimiter = {"\t": "tab", " ": "whitespace"}.get(report.delimiter or "", report.delimiter)
    summary += f" · encoding {report.encoding} · delimiter `{delimiter}`"
st.markdown(summary)
apply_saved_segments(loaded)
transactions = state.get(state.TRANSACTIONS)
log_columns = detect_transaction_columns(loaded.frame) if transactions is None else None
if log_columns is not None:
    st.info(
        "This looks like a **transaction log** (several rows per customer: "
        f"{plain(log_columns.describe())}). Segmenter can turn it into one row per customer: "
        "recency, frequency, monetary value, tenure, average basket, returns, the products "
        "bought (as text) and a lifecycle stage (new, active, champion, at risk, lapsed)."
    )
    if st.button("Turn into one row per customer", type="primary", key="upload_transactions"):
        try:
            accept_transactions(log_columns)
        except SegmenterError as error:
            st.error(plain(str(error)))
            st.stop()
        st.rerun()
elif transactions is not None:
    st.success(
        f"One row per customer from {transactions.report.rows:,} transaction rows "
        f"({plain(transactions.columns.describe())})."
    )
    if st.button("Use the transaction rows as they are", key="upload_transactions_undo"):
        undo_transactions()
        st.rerun()
for note in (*report.notes, *prepare_columns(loaded.frame, schema).notes):
    st.info(plain(note))

st.subheader("Preview")
st.dataframe(loaded.frame.head(50), hide_index=True, key="upload_preview")

st.subheader("Column roles")
st.caption(
    "Segmenter proposes a role for each column. **text** is embedded; **numeric** and "
    "**categorical** columns join the text in the segmentation; **label** (a two-valued "
    "outcome such as churn) and **date** are profiled; **id** identifies the customer in "
    "the export; **ignored** columns are carried to the export untouched. A column's "
    "**label** is what segment names and cards call it."
)
labels = column_labels([c.name for c in schema.columns], st.session_state[state.COLUMN_LABELS])
roles = roles_table(schema, labels)
edited = st.data_editor(
    roles,
    hide_index=True,
    disabled=["column", "why", "distinct", "missing", "examples"],
    column_config={
        "role": st.column_config.SelectboxColumn("role", options=list(ROLES)),
        "label": st.column_config.TextColumn(
            "label",
            help="What names, cards and campaign prompts call this column: edit it to read "
            "as plain words (“spend on wines” for MntWines).",
        ),
    },
    key=f"upload_roles_{state.get(state.UPLOAD_FINGERPRINT)}",
    height=min(38 * (len(roles) + 1), 760),
)
changes = {
    row.column: row.role for row in edited.itertuples() if row.role != schema.role_of(row.column)
}
if changes:
    try:
        st.session_state[state.SCHEMA] = schema.with_roles(changes)
    except SegmenterError as error:
        st.error(str(error))
        st.stop()
    state.invalidate_downstream(state.SCHEMA)
    st.rerun()


def use_labels(edited_labels: dict[str, str]) -> None:
    """Keep the user's labels; a finished run's names and cards follow them at once."""
    st.session_state[state.COLUMN_LABELS] = edited_labels
    run = state.get(state.RUN)
    if run is not None:  # nothing is recomputed but the names
        state.relabel_run(with_labels(run, edited_labels))


edited_labels = {
    row.column: str(row.label).strip()
    for row in edited.itertuples()
    if str(row.label).strip() and str(row.label).strip() != column_label(row.column)
}
if edited_labels != st.session_state[state.COLUMN_LABELS]:
    use_labels(edited_labels)

if st.button(
    "Suggest labels with the language model",
    key="upload_suggest_labels",
    help="One call proposes a readable label for every column; you confirm before any is used.",
):
    try:
        generator = session_generator(st.session_state[state.LM_CONFIG])
        with st.spinner(f"Labelling {len(schema.columns)} columns with {generator.model_id}…"):
            st.session_state[state.LABEL_PROPOSALS] = propose_labels(
                {c.name: c.examples for c in schema.columns}, generator
            )
    except SegmenterError as error:
        st.error(plain(str(error)))
proposals = state.get(state.LABEL_PROPOSALS)
if proposals:
    st.markdown("**Labels the language model proposes**")
    st.dataframe(
        pd.DataFrame(
            {
                "column": list(proposals),
                "now": [labels.get(c, c) for c in proposals],
                "proposed": list(proposals.values()),
            }
        ),
        hide_index=True,
        key="upload_label_proposals",
    )
    accept, discard = st.columns(2)
    if accept.button("Use these labels", key="upload_accept_labels", type="primary"):
        use_labels({**st.session_state[state.COLUMN_LABELS], **proposals})
        st.session_state.pop(state.LABEL_PROPOSALS, None)
        st.rerun()
    if discard.button("Keep the labels I have", key="upload_discard_labels"):
        st.session_state.pop(state.LABEL_PROPOSALS, None)
        st.rerun()

changed_by_user = [c for c in schema.columns if c.reason == "set by user"]
if changed_by_user:
    st.caption(
        "Changed by you: " + ", ".join(f"{plain(c.name)} → {c.role}" for c in changed_by_user)
    )

if st.button("Continue to segments", type="primary", key="upload_continue"):
    st.switch_page("pages/2_Segments.py")
