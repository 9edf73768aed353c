"""Churn / propensity: label reading, leaks, cross-validated metrics on a known signal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.cli import main
from segmenter.predict import (
    BinaryLabel,
    FeatureSet,
    PredictError,
    Prediction,
    binary_label,
    build_features,
    cross_validate_models,
    find_leaks,
    label_candidates,
    label_kind,
    label_wording,
    predict_label,
    risk_words,
    segment_risk,
    top_customers,
)
from tests.conftest import FakeEmbedder


def churn_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Customers whose churn follows spend (strongly) and a complaint word (weakly)."""
    rng = np.random.default_rng(seed)
    spend = rng.normal(50, 15, n)
    complains = rng.random(n) < 0.3
    logit = -(spend - 50) / 6 + 1.2 * complains - 1.0
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": [f"{i:05d}" for i in range(n)],
            "spend": [f"{v:.2f}" for v in spend],
            "plan": rng.choice(["basic", "plus"], n),
            "feedback": np.where(complains, "late delivery again", "all fine thanks"),
            "churned": np.where(churned, "Yes", "No"),
        }
    )


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        (["Yes", "No"], "Yes"),
        (["0", "1"], "1"),
        (["False", "True"], "True"),
        (["stayed", "left"], "left"),
        (["A", "B"], "B"),  # no hint: the rarer value
    ],
)
def test_the_positive_class_is_read_from_the_values(values: list[str], positive: str) -> None:
    frame = pd.DataFrame({"label": [values[0]] * 30 + [values[1]] * 12 + [""] * 3})
    label = binary_label(frame, "label")
    assert label.positive == positive
    assert label.known.sum() == 42
    assert label.y[label.known].sum() == (12 if positive == values[1] else 30)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["Yes"] * 40, "holds only 'Yes'"),
        (["a", "b", "c"] * 20, "has 3 values"),
        (["Yes"] * 5 + ["No"] * 50, "Only 5 customers"),
    ],
)
def test_labels_that_cannot_be_modelled_say_why(values: list[str], message: str) -> None:
    with pytest.raises(PredictError, match=message):
        binary_label(pd.DataFrame({"churn": values}), "churn")


def test_label_candidates_are_two_valued_columns() -> None:
    frame = churn_table(60)
    assert label_candidates(frame, preferred=["churned"])[0] == "churned"
    assert "plan" in label_candidates(frame)
    assert "spend" not in label_candidates(frame)


def test_a_campaign_tables_response_is_offered_before_its_numbered_campaigns() -> None:
    flags = ["0", "1"] * 10
    frame = pd.DataFrame(
        {"AcceptedCmp3": flags, "AcceptedCmp1": flags, "Complain": flags, "Response": flags}
    )
    preferred = list(frame.columns)
    assert label_candidates(frame, preferred) == [
        "Response",
        "Complain",
        "AcceptedCmp3",
        "AcceptedCmp1",
    ]


def test_a_copy_of_the_label_is_a_leak() -> None:
    frame = churn_table(200)
    frame["churn_flag"] = np.where(frame["churned"] == "Yes", "0", "1")  # the opposite coding
    label = binary_label(frame, "churned")
    assert find_leaks(frame, label, ["plan", "churn_flag", "spend"]) == ["churn_flag"]


def test_cross_validation_finds_the_known_signal() -> None:
    frame = churn_table(400)
    label = binary_label(frame, "churned")
    embedder = FakeEmbedder()
    text = embedder.embed(frame["feedback"].tolist())
    numeric = pd.DataFrame({"spend": frame["spend"].astype(float)})
    features = build_features(text, numeric, frame[["plan"]])
    result = cross_validate_models(features, label, random_state=0)
    table = result.table.set_index(["model", "features"])
    assert set(table.index) == {
        (m, f) for m in ("logistic", "boosting") for f in ("text", "structured", "both")
    }
    assert table.loc[("logistic", "structured"), "roc_auc"] > 0.8  # spend drives churn
    assert 0.5 < table.loc[("logistic", "text"), "roc_auc"] < 0.75  # complaints, weakly
    assert table.loc[("logistic", "both"), "roc_auc"] >= table.loc[("logistic", "text"), "roc_auc"]
    assert result.best[1] in ("structured", "both")
    assert np.isfinite(result.risk).all() and ((result.risk >= 0) & (result.risk <= 1)).all()
    again = cross_validate_models(features, label, random_state=0)
    assert np.array_equal(again.risk, result.risk)  # same folds, same scores


def test_unlabelled_rows_are_scored_by_a_model_fitted_on_the_rest() -> None:
    frame = churn_table(200)
    frame.loc[:19, "churned"] = ""
    label = binary_label(frame, "churned")
    features = FeatureSet(None, frame[["spend"]].astype(float).to_numpy(), ("spend",), ("spend",))
    result = cross_validate_models(features, label, models=("logistic",))
    assert [s.features for s in result.scores] == ["structured"]
    assert np.isfinite(result.risk[:20]).all()


def test_no_features_at_all_is_a_clear_error() -> None:
    label = BinaryLabel("y", "1", "0", np.array([0, 1] * 20, np.int8), np.ones(40, bool))
    with pytest.raises(PredictError, match="nothing to learn from"):
        cross_validate_models(FeatureSet(None, None), label)


def test_risk_words_and_segment_risk() -> None:
    docs = ["late delivery again"] * 10 + ["all fine thanks"] * 10
    risk = np.array([0.8] * 10 + [0.2] * 10)
    words = [w for w, _ in risk_words(docs, risk)]
    assert set(words) == {"late", "delivery"}  # "again" is a stop word
    table = segment_risk(risk, np.array([0] * 10 + [1] * 9 + [-1]))
    assert table["mean risk"].tolist() == [0.8, 0.2]
    assert table["share high risk"].tolist() == [1.0, 0.0]


def test_cli_predict_writes_scores_for_every_row_and_metrics(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    frame = churn_table(150)
    frame["tier"] = np.where(frame["churned"] == "Yes", "gold", "silver")  # a disguised copy
    frame["feedback"] = [f"{text} (visit {i})" for i, text in enumerate(frame["feedback"])]
    source = tmp_path / "customers.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "out"
    status = main(
        ["predict", str(source), "--label", "churned", "--out", str(out), "--embedder", "fake"]
    )
    assert status == 0
    scores = pd.read_csv(out / "scores.csv", dtype=str, keep_default_na=False)
    assert scores["customer_id"].tolist() == frame["customer_id"].tolist()
    assert list(scores.columns) == [*frame.columns, "risk_score"]
    assert scores["risk_score"].astype(float).between(0, 1).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["leaks_left_out"] == ["tier"]
    assert {s["features"] for s in metrics["scores"]} == {"text", "structured", "both"}
    assert {(s["model"], s["features"]) for s in metrics["scores"]} >= {("logistic", "both")}
    assert all(0 <= s["roc_auc"] <= 1 for s in metrics["scores"])


def test_cli_predict_with_a_bad_label_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "customers.csv"
    churn_table(60).to_csv(source, index=False)
    assert main(["predict", str(source), "--label", "spend", "--out", str(tmp_path)]) == 2
    assert "not two" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("column", "positive", "kind"),
    [
        ("Churn", "Yes", "risk"),  # Telco
        ("Exited", "1", "risk"),  # bank churn
        ("Attrition_Flag", "Attrited Customer", "risk"),
        ("status", "cancelled", "risk"),  # the value says it
        ("is_unsubscribed", "True", "risk"),  # not a subscription
        ("是否流失", "是", "risk"),
        ("Response", "1", "response"),  # campaign table
        ("AcceptedCmp3", "1", "response"),
        ("converted", "yes", "response"),
        ("subscribed", "yes", "response"),
        ("plan", "premium", "neutral"),
        ("y", "yes", "neutral"),
        ("churned", "No", "neutral"),  # the model scores staying
        ("Attrition_Flag", "Existing Customer", "neutral"),
    ],
)
def test_wording_follows_the_label(column: str, positive: str, kind: str) -> None:
    assert label_kind(column, positive) == kind


def test_wording_of_each_kind() -> None:
    assert label_wording("Churn", "Yes").top == "most at risk"
    assert label_wording("Response", "1").top == "most likely to respond"
    neutral = label_wording("plan", "premium")
    assert "risk" not in neutral.top and "respond" not in neutral.top
    assert "plan = premium" in neutral.top and neutral.score == "score"


def _prediction(frame: pd.DataFrame, text: np.ndarray | None, label: str) -> Prediction:
    numeric = pd.DataFrame({"spend": frame["spend"].astype(float)})
    return predict_label(frame, frame["feedback"].tolist(), text, numeric, frame[["plan"]], label)


def test_top_customers_show_text_only_when_the_models_had_text() -> None:
    frame = churn_table(200)
    ids, names = frame["customer_id"], ["A"] * len(frame)
    docs = frame["feedback"].tolist()
    with_text = _prediction(frame, FakeEmbedder().embed(docs), "churned")
    table = top_customers(with_text, ids, "customer_id", names, docs, top=10)
    assert with_text.has_text and with_text.wording.kind == "risk"
    assert list(table.columns) == [
        "customer_id",
        "risk score",
        "segment",
        "risk words in their text",
        "text",
    ]
    assert table["risk score"].is_monotonic_decreasing
    without = _prediction(frame, None, "churned")
    table = top_customers(without, ids, "customer_id", names, [""] * len(frame), top=10)
    assert not without.has_text
    assert list(table.columns) == ["customer_id", "risk score", "segment"]
    assert table["customer_id"].tolist() == [
        ids.iloc[i] for i in np.argsort(-without.risk, kind="stable")[:10]
    ]
