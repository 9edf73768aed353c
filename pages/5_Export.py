"""Export: every input row with its segment, as CSV, a ZIP per segment, and JSON."""

from dataclasses import replace

import streamlit as st

from segmenter.export import (
    profiles_json,
    results_frame,
    run_sidecar,
    segments_zip,
    to_csv_bytes,
)
from segmenter.ui import state
from segmenter.ui.campaign import (
    all_drafts,
    campaign_plan_downloads,
    draft_downloads,
    restore_campaign,
)
from segmenter.ui.data import named_profiles
from segmenter.ui.widgets import plain
from segmenter.views import RISK_SCORE, session_export

state.init_state()
st.title("Export")

run = state.require_run("Nothing to export yet: find segments first.")

profiles = tuple(named_profiles(run))
prediction = state.get(state.PREDICTION)
frame = session_export(
    results_frame(run.loaded.frame, replace(run.result, profiles=profiles)),
    groups=st.session_state[state.SAVED_SELECTIONS],
    risk=prediction.risk if prediction is not None else None,
)

stem = run.loaded.report.filename.rsplit(".", 1)[0] or "customers"
added = "`segment_id`, `segment_name`, map coordinates"
if run.feedback is not None:
    added += ", `sentiment`, `sentiment_score`, `urgent_flags`"
if prediction is not None:
    added += f", `{RISK_SCORE}`"
st.write(
    f"{len(frame):,} rows — every row of **{plain(run.loaded.report.filename)}** with its original "
    f"columns, plus {added}."
)
excel = st.checkbox(
    "For Excel (UTF-8 with BOM)",
    False,
    key="export_excel",
    help="Excel opens plain UTF-8 CSV as the wrong encoding; the BOM tells it otherwise.",
)
left, middle, right = st.columns(3)
left.download_button(
    "Download all rows (CSV)",
    to_csv_bytes(frame, excel_bom=excel),
    file_name=f"{stem}_segments.csv",
    mime="text/csv",
    type="primary",
    key="export_csv",
)
middle.download_button(
    "One CSV per segment (ZIP)",
    segments_zip(frame, excel_bom=excel),
    file_name=f"{stem}_segments.zip",
    mime="application/zip",
    key="export_zip",
)
right.download_button(
    "Profiles (JSON)",
    profiles_json(profiles),
    file_name=f"{stem}_profiles.json",
    mime="application/json",
    key="export_profiles",
)
st.download_button(
    "Run details: parameters, models, versions (JSON)",
    run_sidecar(run.parameters()),
    file_name=f"{stem}_run.json",
    mime="application/json",
    key="export_run",
)
st.caption(
    "Cells that begin with =, +, -, @ or a tab (other than plain numbers) get a leading "
    "apostrophe so that spreadsheets show them as text instead of running them as formulas."
)
transactions = state.get(state.TRANSACTIONS)
if transactions is not None and len(transactions.unattributed):
    st.download_button(
        f"Unattributed transactions: {len(transactions.unattributed):,} rows with a reason (CSV)",
        to_csv_bytes(transactions.unattributed, excel_bom=excel),
        file_name=f"{stem}_unattributed.csv",
        mime="text/csv",
        key="export_unattributed",
        help="Transaction rows that belong to no customer (no id, date or amount), "
        "kept so that nothing from the upload is lost.",
    )
st.subheader("Campaign drafts")
restore_campaign(run)
drafts = all_drafts()
if drafts:
    kept = "1 draft" if len(drafts) == 1 else f"{len(drafts)} drafts"
    st.write(f"{kept} kept from the Campaigns page and the Segments page's campaign panel.")
    draft_downloads(drafts, key="export_drafts")
    campaign_plan_downloads(run, profiles, drafts, stem=stem, excel=excel)
else:
    st.caption("No campaign drafts yet: draft copy on the Campaigns page.")
    st.page_link("pages/4_Campaigns.py", label="Go to Campaigns", icon="✍️")

st.subheader("Preview")
st.dataframe(frame.head(200), hide_index=True, key="export_preview")
