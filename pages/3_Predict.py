"""Predict: churn or propensity from a yes/no column, with honest cross-validated metrics."""

import pandas as pd
import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.maps import map_frame, segment_map
from segmenter.predict import DEFAULT_THRESHOLD, TOP_CUSTOMERS, label_candidates, predict_label
from segmenter.predict_charts import calibration_chart, confusion_chart, gains_chart, lift_at
from segmenter.ui import state
from segmenter.ui.data import named_profiles
from segmenter.ui.jobs import heavy_job
from segmenter.ui.widgets import plain
from segmenter.views import (
    RISK_SCORE,
    colour_values,
    comparison_table,
    risk_by_segment,
    score_colour,
    segment_names,
    top_customers_table,
)

state.init_state()
st.title("Predict")

run = state.require_run("Find segments first: the models reuse the segmentation's text embeddings.")

frame = run.loaded.frame
candidates = label_candidates(frame, preferred=run.schema.label_columns)
if not candidates:
    st.info(
        "No yes/no column to predict: add one such as churned, responded or converted "
        "(two values, like Yes/No or 1/0) and upload the table again."
    )
    st.stop()

with st.form("predict_settings"):
    left, middle, right = st.columns(3)
    column = left.selectbox("Label to predict", candidates, key="predict_label")
    values = sorted(v for v in frame[column].astype(str).str.strip().unique() if v)
    positive = middle.selectbox(
        "Value that counts as yes",
        ["auto", *values],
        key="predict_positive",
        help="auto reads Yes/1/True/churned as yes, else takes the rarer value.",
    )
    threshold = right.slider(
        "Threshold for F1 and the confusion matrix",
        0.05,
        0.95,
        DEFAULT_THRESHOLD,
        0.05,
        key="predict_threshold",
    )
    submitted = st.form_submit_button("Train and compare models", type="primary")

if submitted:
    with heavy_job(), st.spinner("Cross-validating 2 models × 3 feature sets on the same 5 folds…"):
        try:
            prediction = predict_label(
                frame,
                run.docs,
                run.embedding.vectors if run.embedding is not None else None,
                run.prepared.numeric,
                run.prepared.categorical,
                column,
                positive=None if positive == "auto" else positive,
                threshold=float(threshold),
            )
        except SegmenterError as error:
            st.error(str(error))
            st.stop()
    st.session_state[state.PREDICTION] = prediction

prediction = state.get(state.PREDICTION)
if prediction is None:
    st.info("Pick the label and click **Train and compare models**.")
    st.stop()

cv = prediction.cv
label = cv.label
wording = prediction.wording
st.caption(
    f"{plain(label.column)} = {plain(label.positive)} for {label.n_positive:,} of "
    f"{int(label.known.sum()):,} labelled customers ({label.n_positive / label.known.sum():.0%})."
)
for leak in prediction.leaks:
    st.warning(
        f"“{plain(leak)}” matches {plain(label.column)} on nearly every row: it is a copy of "
        "the answer, so it was left out of the features."
    )

st.subheader(
    "Text against structured columns, same folds"
    if prediction.has_text
    else "Models compared on the same folds (the table has no text)"
)
st.dataframe(comparison_table(cv), hide_index=True, key="predict_table")
best_model, best_features = cv.best
st.write(
    f"Best: **{best_model}** on **{best_features}** features. Scores are out-of-fold: no "
    "customer is scored by a model that saw their answer."
)

known = label.known
y = label.y[known]
probability = cv.out_of_fold[cv.best]
metrics = st.columns(3)
best_row = next(s for s in cv.scores if (s.model, s.features) == cv.best)
metrics[0].metric("ROC AUC", f"{best_row.roc_auc:.3f}")
metrics[1].metric("PR AUC", f"{best_row.pr_auc:.3f}", help=f"Base rate {best_row.base_rate:.3f}.")
metrics[2].metric("Lift in the top 10%", f"{lift_at(y, probability):.1f}×")
charts = st.columns(3)
charts[0].plotly_chart(calibration_chart(y, probability), key="predict_calibration")
charts[1].plotly_chart(confusion_chart(y, probability, cv.threshold), key="predict_confusion")
charts[2].plotly_chart(gains_chart(y, probability), key="predict_gains")

st.subheader(wording.by_segment)
names = segment_names(named_profiles(run))
st.dataframe(
    risk_by_segment(prediction, run.result.labels, names), hide_index=True, key="predict_segments"
)
points = map_frame(
    frame,
    run.result.labels,
    run.result.coords,
    names,
    run.docs,
    id_values=run.prepared.ids,
    id_name=run.prepared.id_name,
)
st.plotly_chart(
    segment_map(
        points,
        colour=wording.score,
        colour_values=colour_values(run, score_colour(prediction), prediction),
        id_name=run.prepared.id_name,
    ),
    key="predict_map",
)

st.subheader("Why")
drivers = pd.DataFrame(prediction.drivers, columns=["column", "ROC AUC lost when shuffled"])
if prediction.has_text:
    left, right = st.columns(2)
    right.markdown(f"**{wording.words}**")
    right.dataframe(
        pd.DataFrame(prediction.words, columns=["word", f"{wording.score} above average"]).round(3),
        hide_index=True,
        key="predict_words",
    )
else:
    left = st.container()
left.markdown("**Strongest columns** (permutation importance)")
left.dataframe(drivers.round(4), hide_index=True, key="predict_drivers")

st.subheader(f"The {TOP_CUSTOMERS} customers {wording.top}")
top = top_customers_table(prediction, run, names)
st.dataframe(top, hide_index=True, key="predict_top")
st.caption(f"The {wording.score}s join the export as the column {RISK_SCORE}.")
