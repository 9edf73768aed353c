"""Campaign results: what earlier campaigns gave per segment and variant, and who to contact
next."""

import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.results import MIN_CUSTOMERS, target_list
from segmenter.results.charts import rates_forest, rates_heatmap
from segmenter.ui import state
from segmenter.ui.data import named_profiles
from segmenter.ui.results import (
    FROM_FILE,
    FROM_TABLE,
    PREVIEW_CUSTOMERS,
    campaigns_for,
    comparisons_table,
    customer_preview,
    file_source,
    keep_results,
    prediction_scores,
    rates_table,
    restore_results,
    result_downloads,
    run_ids,
    segment_ranking,
    show_read,
    table_source,
    uplift_table,
)
from segmenter.ui.widgets import plain
from segmenter.views import segment_names

state.init_state()
st.title("Campaign results")
st.caption(
    "What earlier campaigns gave in each segment: response rates with their 95% intervals, "
    "variant against variant, uplift over a control group, and who to contact next."
)
run = state.require_run("Find segments first: campaign results are measured per segment.")
names = segment_names(named_profiles(run))

st.subheader("Results in")
source = st.radio(
    "Where are the results?", [FROM_TABLE, FROM_FILE], horizontal=True, key="results_source"
)
restore_results(run)
try:
    results = table_source(run) if source == FROM_TABLE else file_source(run)
    if results is not None:
        with st.spinner("Measuring rates, variant comparisons and uplift…"):
            keep_results(run, results)
        st.session_state.pop(state.RESULTS_TARGETS, None)
except SegmenterError as error:
    st.error(plain(str(error)))
    st.stop()

report = state.get(state.RESULTS_REPORT)
if report is None:
    st.info("Choose where the results are, then confirm them with the button above.")
    st.stop()
show_read(report.results)

st.subheader("What worked")
left, right = st.columns(2)
outcome = left.selectbox("Outcome", report.results.outcomes, key="results_outcome")
campaign = right.selectbox(
    "Campaign", campaigns_for(report.results, outcome), key=f"results_campaign_{outcome}"
)
charts = st.columns(2)
charts[0].plotly_chart(rates_forest(report.rates, outcome, campaign), key="results_forest")
charts[1].plotly_chart(rates_heatmap(report.rates, outcome), key="results_heatmap")
st.dataframe(rates_table(report.rates, outcome, campaign), hide_index=True, key="results_rates")
st.caption(
    "Lift: the segment's rate over all customers' rate. A cell with fewer than "
    f"{MIN_CUSTOMERS} customers shows no rate: one or two responses would swing it."
)

if report.results.has_variants:
    st.subheader("Variant comparison")
    st.caption(
        "B − A in percentage points with its 95% interval. A variant is called better only "
        "when its Holm-adjusted p (corrected for every segment comparison in this table; the "
        "all-customers rows are corrected among themselves) is below "
        "0.05; a comparison with too few customers to find a difference worth having says so."
    )
    st.dataframe(comparisons_table(report.comparisons), hide_index=True, key="results_variants")

st.subheader("Uplift")
if report.results.has_control:
    st.caption("Contacted minus control response, in percentage points, with its 95% interval.")
    st.dataframe(uplift_table(report.uplift), hide_index=True, key="results_uplift")
else:
    st.info(report.uplift_note)

st.subheader("Who to contact next")
left, right = st.columns(2)
goal = left.selectbox("Goal", report.results.outcomes, key="results_goal")
choices = campaigns_for(report.results, goal)
learn_from = right.multiselect(
    "Campaigns to learn from", choices, default=choices, key=f"results_learn_{goal}"
)
scores, scored = prediction_scores(state.get(state.PREDICTION), goal, learn_from)
targets = target_list(
    report.results,
    run_ids(run),
    run.result.labels,
    names,
    outcome=goal,
    campaigns=learn_from,
    scores=scores,
)
st.session_state[state.RESULTS_TARGETS] = targets
st.write(plain(targets.note))
if scored:
    st.caption(plain(scored))
st.dataframe(segment_ranking(targets), hide_index=True, key="results_segments")
st.caption(f"The first {PREVIEW_CUSTOMERS} of {len(targets.frame):,} customers:")
st.dataframe(customer_preview(targets), hide_index=True, key="results_targets")

result_downloads(report, targets)
