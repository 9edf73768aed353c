"""What the pages show of a run, computed without Streamlit (``segmenter.views``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmenter.ingest import detect_schema
from segmenter.maps import HOVER_FIELDS, ROW_KEY, SEGMENT_COLOUR
from segmenter.sentiment import FeedbackResult
from segmenter.sentiment.reading import SentimentResult
from segmenter.views import (
    RISK_SCORE,
    SENTIMENT_COLOUR,
    UNSEGMENTED,
    colour_choices,
    colour_values,
    comparison_table,
    hover_columns,
    in_view,
    risk_by_segment,
    roles_table,
    row_segment_names,
    selected_customers,
    selected_rows,
    session_export,
    top_customers_table,
    with_risk_score,
)


def _feedback() -> FeedbackResult:
    labels = np.array(["negative", "positive", "negative", "neutral", "positive"], dtype=object)
    sentiment = SentimentResult(
        labels=labels,
        scores=np.array([-0.9, 0.8, -0.2, 0.0, 0.5]),
        source=SimpleNamespace(describe=lambda: "fake"),  # type: ignore[arg-type]
    )
    return FeedbackResult(sentiment=sentiment, flags=("", "", "refund", "", "fraud"))


def _prediction(risk: list[float]) -> Any:
    return SimpleNamespace(
        risk=np.array(risk),
        wording=SimpleNamespace(score="response score"),
        has_text=False,
        words=(),
    )


def _run(feedback: FeedbackResult | None = None) -> Any:
    frame = pd.DataFrame(
        {"plan": ["a", "b", "a", "c", "b"], "spend": [1, 2, 3, 4, 5]},
        index=[10, 11, 12, 13, 14],  # not row positions: the values must follow positions
    )
    return SimpleNamespace(
        loaded=SimpleNamespace(frame=frame),
        feedback=feedback,
        result=SimpleNamespace(labels=np.array([0, 1, -1, 1, 0])),
        prepared=SimpleNamespace(
            ids=pd.Series(["c1", "c2", "c3", "c4", "c5"]), id_name="customer_id"
        ),
        docs=["", "", "", "", ""],
    )


def test_row_names_mark_unsegmented_rows() -> None:
    names = row_segment_names(np.array([1, -1, 0, 1]), {0: "Savers", 1: "Spenders"})
    assert names == ["Spenders", UNSEGMENTED, "Savers", "Spenders"]


def test_colour_choices_add_the_score_and_sentiment_only_when_there_are_some() -> None:
    assert colour_choices(_run()) == [SEGMENT_COLOUR, "plan", "spend"]
    with_all = colour_choices(_run(_feedback()), _prediction([0.1] * 5))
    assert with_all == [
        SEGMENT_COLOUR,
        "response score (Predict)",
        SENTIMENT_COLOUR,
        "plan",
        "spend",
    ]


def test_colour_values_follow_row_positions() -> None:
    run = _run(_feedback())
    prediction = _prediction([0.12345, 0.5, 0.9, 0.0, 1.0])
    assert colour_values(run, SEGMENT_COLOUR, prediction) is None
    score = colour_values(run, "response score (Predict)", prediction)
    assert score is not None
    assert score.tolist() == [0.123, 0.5, 0.9, 0.0, 1.0]
    sentiment = colour_values(run, SENTIMENT_COLOUR)
    assert sentiment is not None
    assert sentiment.tolist()[:2] == ["negative", "positive"]
    plan = colour_values(run, "plan")
    assert plan is not None
    assert plan.index.tolist() == [0, 1, 2, 3, 4]
    assert plan.tolist() == ["a", "b", "a", "c", "b"]
    # Without a prediction its colour is unknown: nothing to colour by.
    assert colour_values(_run(), "response score (Predict)") is None


def test_feedback_views_keep_the_negative_or_urgent_points() -> None:
    points = pd.DataFrame({ROW_KEY: [4, 0, 2, 3]})  # a sample, in any order
    feedback = _feedback()
    assert in_view(points, None, feedback)[ROW_KEY].tolist() == [4, 0, 2, 3]
    assert in_view(points, "negative", feedback)[ROW_KEY].tolist() == [0, 2]
    assert in_view(points, "urgent", feedback)[ROW_KEY].tolist() == [4, 2]


def test_a_lasso_on_a_sampled_map_selects_the_rows_not_drawn() -> None:
    coords = np.array([[-1.0, 0.5], [0.5, 0.5], [0.6, 0.4], [5.0, 5.0], [0.4, 0.6]])
    lasso = {"lasso": [{"x": [0.0, 1.0, 1.0, 0.0], "y": [0.0, 0.0, 1.0, 1.0]}]}
    shown = [0, 1, 2, 3]  # row 4 is filtered out of the view: the lasso must not bring it
    sampled = selected_rows([1], lasso, coords, shown, sampled=True)
    assert sampled == [1, 2]
    # Every point drawn: the chart's own points are the selection.
    assert selected_rows([1], lasso, coords, shown, sampled=False) == [1]
    # A 3-D map has no areas to match.
    assert selected_rows([1], lasso, np.zeros((5, 3)), shown, sampled=True) == [1]


def test_risk_by_segment_names_the_score_and_the_segments() -> None:
    prediction = _prediction([0.2, 0.9, 0.5, 0.7, 0.4])
    table = risk_by_segment(prediction, np.array([0, 1, -1, 1, 0]), {0: "Savers", 1: "Spenders"})
    assert list(table.columns) == [
        "segment_id",
        "segment",
        "customers scored",
        "mean response score",
        "share above 0.5",
    ]
    assert table["segment"].tolist() == ["Savers", "Spenders"]
    assert table["mean response score"].tolist() == pytest.approx([0.3, 0.8])


def test_top_customers_carry_their_segment_names() -> None:
    run = _run()
    table = top_customers_table(_prediction([0.2, 0.9, 0.95, 0.7, 0.4]), run, {0: "S", 1: "T"})
    assert table["customer_id"].tolist()[:3] == ["c3", "c2", "c4"]
    assert table["segment"].tolist()[:3] == [UNSEGMENTED, "T", "T"]


def test_session_columns_join_the_export_by_row_position() -> None:
    frame = _run().loaded.frame
    out = session_export(frame, groups={"vip": [0, 3]}, risk=np.array([0.123456, 1, 0, 0.5, 0]))
    assert out["in_vip"].tolist() == [True, False, False, True, False]
    assert out[RISK_SCORE].tolist() == [0.1235, 1.0, 0.0, 0.5, 0.0]
    assert RISK_SCORE not in frame.columns  # the run's table is not changed
    assert RISK_SCORE not in session_export(frame).columns
    assert with_risk_score(frame, np.full(5, 1 / 3))[RISK_SCORE].iloc[0] == 0.3333


def test_selected_customers_are_the_rows_at_those_positions() -> None:
    frame = _run().loaded.frame
    table = selected_customers(frame, [3, 0], ["S", "T", "S", "T", "S"])
    assert table["segment"].tolist() == ["T", "S"]
    assert table["plan"].tolist() == ["c", "a"]
    assert "segment" not in frame.columns


def test_roles_table_and_hover_columns_follow_the_schema() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(40)],
            "plan": ["basic", "plus"] * 20,
            **{f"n{i}": [float(j * (i + 1)) for j in range(40)] for i in range(5)},
        }
    )
    schema = detect_schema(frame)
    table = roles_table(schema, {"plan": "subscription plan"})
    assert table["column"].tolist() == list(frame.columns)
    assert table.set_index("column").loc["plan", "label"] == "subscription plan"
    assert table.set_index("column").loc["n0", "label"] == "n0"
    assert table["role"].tolist() == [c.role for c in schema.columns]
    hover = hover_columns(schema)
    assert len(hover) == HOVER_FIELDS
    assert hover == [*schema.numeric_columns, *schema.categorical_columns][:HOVER_FIELDS]
    assert "customer_id" not in hover


def test_comparison_table_names_the_threshold_and_drops_the_base_rate() -> None:
    scores = pd.DataFrame(
        {
            "model": ["logistic", "boosting"],
            "features": ["both", "text"],
            "roc_auc": [0.91234, 0.7],
            "pr_auc": [0.5, 0.45678],
            "f1": [0.4, 0.3],
            "base_rate": [0.2, 0.2],
        }
    )
    table = comparison_table(SimpleNamespace(table=scores, threshold=0.35))  # type: ignore[arg-type]
    assert list(table.columns) == ["model", "features", "ROC AUC", "PR AUC", "F1 at 0.35"]
    assert table["ROC AUC"].tolist() == [0.912, 0.7]
    assert table["PR AUC"].tolist() == [0.5, 0.457]
