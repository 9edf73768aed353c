"""Feedback sentiment and urgent-risk flags: rating detection, learning from labels,
the rule behind each flag, per-segment shares, and accuracy on the shipped check set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import get_embedder
from segmenter.errors import InputError
from segmenter.export import profiles_json, results_frame
from segmenter.ingest import LoadedTable, detect_schema
from segmenter.pipeline import feedback_columns, run_segmentation
from segmenter.profile import SegmentProfile
from segmenter.sentiment import (
    NO_TEXT,
    SENTIMENTS,
    FeedbackResult,
    SentimentResult,
    SentimentSource,
    analyse_feedback,
    classify_with_prototypes,
    find_sentiment_source,
    learn_from_labels,
    prototype_phrases,
    rating_to_sentiment,
    segment_feedback,
    urgent_flags,
    urgent_topics,
)

CHECK_SET = Path(__file__).parent / "data" / "sentiment_check.csv"


def _clustered_vectors(labels: list[str], seed: int = 0) -> np.ndarray:
    """One direction per sentiment plus noise: a learnable signal."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 12))
    rows = [centres[SENTIMENTS.index(label)] + rng.normal(scale=0.4, size=12) for label in labels]
    vectors = np.array(rows)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_ratings_map_to_sentiments_on_five_and_ten_point_scales() -> None:
    five = rating_to_sentiment(pd.Series([1, 2, 3, 4, 5]), (1, 5)).tolist()
    ten = rating_to_sentiment(pd.Series([1, 4, 5, 6, 7, 10]), (1, 10)).tolist()
    assert five == ["negative", "negative", "neutral", "positive", "positive"]
    assert ten == ["negative", "negative", "neutral", "neutral", "positive", "positive"]


def test_rating_column_is_found_by_name_and_values() -> None:
    frame = pd.DataFrame(
        {
            "age": ["31", "45", "22", "60"] * 5,
            "review_rating": ["1", "5", "3", ""] * 5,
            "sentiment_label": ["Positive", "negative", "neutral", "positive"] * 5,
        }
    )
    assert find_sentiment_source(frame, ["age"]).method == "prototypes"
    numeric = find_sentiment_source(frame, ["age", "review_rating"])
    assert (numeric.method, numeric.column, numeric.scale) == ("rating", "review_rating", (1, 5))
    words = find_sentiment_source(frame, ["sentiment_label"])
    assert (words.column, words.scale) == ("sentiment_label", None)
    # A "score" column of large numbers is not a rating.
    credit = pd.DataFrame({"credit_score": ["650", "720", "580", "800"] * 5})
    assert find_sentiment_source(credit, ["credit_score"]).method == "prototypes"


def test_learning_from_ratings_keeps_rated_rows_and_fills_in_the_rest() -> None:
    truth = ["negative", "neutral", "positive"] * 40
    vectors = _clustered_vectors(truth)
    labels = pd.Series(truth, dtype=object)
    labels.iloc[::10] = np.nan  # unrated rows, to be predicted
    has_text = np.ones(len(truth), dtype=bool)
    has_text[-1] = False
    labels.iloc[-1] = np.nan
    source = SentimentSource("rating", column="stars", scale=(1, 5))

    result = learn_from_labels(vectors, has_text, labels, source)

    rated = labels.notna().to_numpy()
    assert (result.labels[rated] == labels[rated].to_numpy()).all()
    unrated = ~rated & has_text
    assert (result.labels[unrated] == np.array(truth)[unrated]).mean() >= 0.9
    assert result.labels[-1] == NO_TEXT and np.isnan(result.scores[-1])
    assert result.cv_accuracy is not None and result.cv_accuracy >= 0.9


def test_too_few_rated_rows_of_a_sentiment_is_explained() -> None:
    truth = ["negative"] * 3 + ["positive"] * 40
    source = SentimentSource("rating", column="stars", scale=(1, 5))
    with pytest.raises(InputError, match="too few rows of some sentiment.*negative: 3"):
        learn_from_labels(
            _clustered_vectors(truth), np.ones(len(truth), bool), pd.Series(truth), source
        )


def test_a_thin_rating_column_falls_back_to_prototypes_with_a_note() -> None:
    truth = ["negative"] * 3 + ["positive"] * 40
    frame = pd.DataFrame({"stars": ["1"] * 3 + ["5"] * 40})
    vectors = _clustered_vectors(truth)
    phrases, phrase_labels = prototype_phrases()
    result = analyse_feedback(
        ["text"] * len(truth),
        vectors,
        np.ones(len(truth), bool),
        _clustered_vectors(phrase_labels, seed=0),
        frame,
        ["stars"],
    )
    assert result.sentiment.source.method == "prototypes"
    assert "too few rows" in result.sentiment.note
    assert len(phrases) == len(phrase_labels) and set(phrase_labels) == set(SENTIMENTS)


def test_urgent_topics_in_english_and_chinese() -> None:
    assert urgent_topics("I want my money back or I'll call my lawyer") == ("refund", "legal")
    assert urgent_topics("Please cancel my plan, this is a scam") == ("cancel", "fraud")
    assert urgent_topics("充电器冒烟了，太危险") == ("safety",)
    assert urgent_topics("银行卡被盗刷，我要退款") == ("refund", "fraud")
    assert urgent_topics("The jacket fits well") == ()
    # Word boundaries: "issue" is not "sue".
    assert urgent_topics("I have an issue with my order") == ()


def test_flags_need_negative_feedback_except_for_severe_topics() -> None:
    texts = [
        "Still waiting on my refund, unacceptable",  # negative refund: urgent
        "My refund came through quickly",  # positive refund: not urgent
        "How do refunds work?",  # neutral refund: not urgent
        "I have asked my lawyer to look at the contract",  # neutral legal: urgent
        "This charger is a fire hazard",  # negative safety
    ]
    sentiments = ["negative", "positive", "neutral", "neutral", "negative"]
    assert urgent_flags(texts, sentiments) == ["refund", "", "", "legal", "safety"]


def test_segment_feedback_shares_and_examples() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, -1])
    sentiments = np.array(
        ["negative", "negative", "positive", NO_TEXT, "neutral", "positive", "negative"],
        dtype=object,
    )
    scores = np.array([-0.9, -0.5, 0.8, np.nan, 0.0, 0.7, -0.9])
    flags = ("refund; legal", "", "", "", "", "", "fraud")
    docs = ["refund now or lawyer", "slow", "great", "", "ok", "nice", "scam"]
    feedback = FeedbackResult(
        SentimentResult(sentiments, scores, SentimentSource("prototypes")), flags
    )

    by_segment = segment_feedback(labels, feedback, docs)

    first = by_segment[0]
    assert first.rows_with_text == 3
    assert first.share_negative == pytest.approx(2 / 3, abs=1e-4)
    assert first.share_urgent == pytest.approx(1 / 3, abs=1e-4)
    assert first.urgent_topics == (("legal", 1), ("refund", 1))
    assert first.examples == ("refund now or lawyer",)
    assert by_segment[1].share_urgent == 0 and by_segment[1].examples == ()
    assert -1 not in by_segment


def test_the_pipeline_exports_sentiment_and_profiles_keep_it(customers, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    frame = customers.drop(columns=["theme"])
    frame.loc[0, "feedback"] = "Cancel my plan now, I want a refund, the delivery is a joke"
    frame.loc[1, "feedback"] = ""
    loaded = LoadedTable(frame=frame, report=_report(len(frame), len(frame.columns)))
    run = run_segmentation(
        loaded,
        detect_schema(frame),
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=3),
    )

    out = results_frame(frame, run.result)
    assert {"sentiment", "sentiment_score", "urgent_flags"} <= set(out.columns)
    assert out.loc[1, "sentiment"] == NO_TEXT
    assert set(out["sentiment"]) <= {*SENTIMENTS, NO_TEXT}
    assert run.parameters()["feedback"]["method"] == "prototypes"
    assert all(p.feedback is not None for p in run.result.profiles)
    restored = [SegmentProfile.from_dict(p) for p in json.loads(profiles_json(run.result.profiles))]
    assert restored == list(run.result.profiles)


def test_sentiment_reads_feedback_columns_not_product_lists(customers) -> None:  # type: ignore[no-untyped-def]
    frame = customers.drop(columns=["theme"])
    frame["products_bought"] = "Red mug; Tea towel; Lamp; Garden hose; Notebook; Candle set"
    schema = detect_schema(frame).with_roles({"products_bought": "text"})
    assert feedback_columns(schema) == ["feedback"]
    only_products = schema.with_roles({"feedback": "ignored"})
    assert feedback_columns(only_products) == []


def _report(rows: int, columns: int):  # type: ignore[no-untyped-def]
    from segmenter.ingest import IngestReport

    return IngestReport("t.csv", "csv", "utf-8", ",", 0, rows, columns, 0, (), ())


@pytest.mark.model
def test_accuracy_on_the_check_set_in_english_and_chinese() -> None:
    """The shipped check set (75 remarks, written apart from the prototype phrases)."""
    check = pd.read_csv(CHECK_SET)
    embedder = get_embedder("multilingual")
    phrases, _ = prototype_phrases()
    result = classify_with_prototypes(
        embedder.embed(check["text"].tolist()),
        np.ones(len(check), dtype=bool),
        embedder.embed(phrases),
    )
    correct = result.labels == check["sentiment"].to_numpy()
    by_language = {lang: float(correct[check["language"] == lang].mean()) for lang in ("en", "zh")}
    print(f"check-set accuracy {correct.mean():.3f} {by_language}")
    assert correct.mean() >= 0.85
    assert min(by_language.values()) >= 0.8
