"""Compare runs: where the customers of an earlier run's segments are in a later run."""

import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes
from segmenter.movement_charts import movement_sankey
from segmenter.runs import describe_run, find_runs, runs_root
from segmenter.ui import state
from segmenter.ui.compare import (
    a_segment_table,
    b_segment_table,
    cached_comparison,
    movement_matrix,
    pair_key,
    rule_caption,
    segment_label,
    summary_line,
    with_choices,
)
from segmenter.ui.widgets import plain

state.init_state()
st.title("Compare runs")
st.caption(
    "Follow the customers in both runs by their ID: which of run B's segments continues "
    "which of run A's, who stayed, joined and left, and who moved from a valuable segment "
    "to an at-risk one."
)

root = runs_root()
folders = find_runs(root)
if len(folders) < 2:
    found = "one run folder" if folders else "no run folders"
    st.info(
        f"Comparing needs two runs; there is {found} in `{root.resolve()}`. Segment two "
        "tables that share customer IDs (say, last month's and this month's): the app saves "
        f"each run under `{root}/`, or run `python -m segmenter segment FILE --out "
        f"{root}/NAME`."
    )
    st.stop()

labels = {describe_run(f, root): f for f in folders}
choices = list(labels)  # newest first
left, right = st.columns(2)
chosen_a = left.selectbox("Run A (earlier)", choices, index=1, key="compare_run_a")
chosen_b = right.selectbox("Run B (later)", choices, index=0, key="compare_run_b")
folder_a, folder_b = labels[chosen_a], labels[chosen_b]
if folder_a == folder_b:
    st.info("Run A and run B are the same run: pick two different runs.")
    st.stop()

try:
    rule = cached_comparison(folder_a, folder_b)
except SegmenterError as error:
    st.error(plain(str(error)))
    st.stop()

summary = st.empty()  # filled below, once the movers' segments are chosen
for note in rule.notes:
    st.warning(plain(note[:1].upper() + note[1:]) + ".")

st.plotly_chart(movement_sankey(rule), key="compare_sankey")

st.subheader("Movement matrix")
st.caption("Customers in both runs and in a segment of each: run A's segments (rows) by run B's.")
st.dataframe(movement_matrix(rule), key="compare_matrix")

st.subheader("Per segment: stayed, joined, left")
st.caption(
    "For each segment of run B: stayed in the segment of A it continues; joined from another "
    "segment, or from none (new to the table, or unsegmented in A); left the segment it "
    "continues (for another segment, or out of run B)."
)
st.dataframe(b_segment_table(rule), hide_index=True, key="compare_b_segments")
with st.expander("Where run A's segments went"):
    st.dataframe(a_segment_table(rule), hide_index=True, key="compare_a_segments")

st.subheader("From a valuable segment to an at-risk one")
key = pair_key(folder_a, folder_b)
left, right = st.columns(2)
chosen_from = left.multiselect(
    "Valuable segments of run A (movers come from)",
    list(rule.names_a),
    default=list(rule.valuable.ids),
    format_func=lambda s: segment_label("A", s, rule.names_a),
    key=f"compare_from_{key}",
)
left.caption(plain(rule_caption(rule.valuable)))
chosen_to = right.multiselect(
    "At-risk segments of run B (movers go to)",
    list(rule.names_b),
    default=list(rule.at_risk.ids),
    format_func=lambda s: segment_label("B", s, rule.names_b),
    key=f"compare_to_{key}",
)
right.caption(plain(rule_caption(rule.at_risk)))

try:
    comparison, movers, reason = with_choices(rule, folder_a, folder_b, chosen_from, chosen_to)
except SegmenterError as error:
    st.error(plain(str(error)))
    st.stop()
summary.write(summary_line(comparison, len(movers)))  # numbers only
if reason:
    st.info(f"No customers listed: {plain(reason)}.")
else:
    st.write(
        f"{len(movers):,} customers were in a valuable segment of run A and are now in an "
        "at-risk segment of run B that does not continue theirs."
    )
    st.dataframe(movers, hide_index=True, key="compare_movers")

left, middle, right = st.columns(3)
left.download_button(
    f"Movers: {len(movers):,} customers (CSV)",
    to_csv_bytes(movers),
    file_name="movers.csv",
    mime="text/csv",
    type="primary",
    key="compare_movers_csv",
)
middle.download_button(
    "Movement matrix (CSV)",
    to_csv_bytes(comparison.movement_frame()),
    file_name="movement.csv",
    mime="text/csv",
    key="compare_movement_csv",
)
right.download_button(
    "Comparison: matching, flows, mover rule (JSON)",
    comparison.to_json(),
    file_name="comparison.json",
    mime="application/json",
    key="compare_json",
)
