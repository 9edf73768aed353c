"""Feedback sentiment and urgent-risk flags: rating detection, learning from labels,
the rule behind each flag, per-segment shares, complaints read as complaints, and accuracy
on the shipped check set and on real labelled reviews (read in place in ../shared/data)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmenter import feedback_stage, pipeline, sampling
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import EmbeddingResult, get_embedder
from segmenter.errors import InputError
from segmenter.export import profiles_json, results_frame
from segmenter.ingest import LoadedTable, detect_schema
from segmenter.pipeline import feedback_columns, run_segmentation
from segmenter.profile import SegmentProfile
from segmenter.sentiment import (
    NO_TEXT,
    PROTOTYPE_SOURCE,
    SENTIMENTS,
    FeedbackResult,
    SegmentFeedback,
    SentimentReader,
    SentimentResult,
    SentimentSource,
    TextModel,
    analyse_feedback,
    carry_sentiment,
    classify_text,
    complaint_cues,
    describe_feedback,
    find_sentiment_source,
    fit_prototype_classifier,
    learn_from_labels,
    lexicon_scores,
    prototype_phrases,
    rating_to_sentiment,
    reader_phrases,
    segment_feedback,
    urgent_flags,
    urgent_topics,
)
from tests.conftest import FakeEmbedder, make_customers
from tests.labelled import SHARED_DATA, load_labelled

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
    phrases, phrase_labels = reader_phrases()
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
    # The prototype phrases come first, then the corpus sentences (two sentiments only).
    n_prototypes = len(prototype_phrases()[0])
    assert set(phrase_labels[n_prototypes:]) == {"negative", "positive"}


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


COMPLAINTS = (
    "I have disputed this charge with XXXX three times and they keep reporting it to the "
    "credit bureaus as late.",
    "Please cancel my account and stop billing my card.",
    "I want a full refund, the blender arrived cracked.",
    "On XX/XX/2019 I called to close my account. They said it was closed but charged me a "
    "fee again in March.",
    "I am still waiting for my money back after returning the phone six weeks ago.",
    "I never received the replacement card and nobody answers the phone.",
    "Cancel my subscription immediately.",
    "我要求退款，商品收到就是坏的，客服一直不回复。",
    "请帮我注销账户，不要再扣费了。",
)
"""Complaint narratives, cancellation requests and refund demands, written for this test."""

NEUTRAL_REMARKS = ("What time do you open on Saturdays?", "我想问一下会员积分怎么查询？")


def test_complaint_cues_are_found_and_calm_praise_has_none() -> None:
    cues = complaint_cues(
        [
            "They keep reporting it to the bureau",
            "I disputed the charge and still haven't heard back",
            "Cancel my subscription",
            "等了一个星期还没到，我要投诉",
            "Lovely staff, quick service",
            "How do I change my address?",
        ]
    )
    assert cues.tolist() == [1, 2, 1, 2, 0, 0]


def test_lexicon_reads_english_with_vader_and_chinese_with_ngrams() -> None:
    scores = lexicon_scores(
        ["I was overcharged and the agent was rude", "Great service", "", "太难用了，非常失望"]
    )
    assert scores[0] < -0.3 and scores[1] > 0.3 and scores[2] == 0 and scores[3] < 0


def test_cues_turn_a_calm_complaint_negative_and_questions_stay_neutral() -> None:
    """Rows whose vectors sit on the neutral prototypes (calm wording) and a reader without
    the corpus classifier: the lexicon and the complaint cues decide."""
    phrases, labels = prototype_phrases()
    model = TextModel(fit_prototype_classifier(_clustered_vectors(labels), labels), None)
    reader = SentimentReader(None, PROTOTYPE_SOURCE, text_model=model)
    texts = [
        "I have disputed this charge three times and they keep reporting it",
        "Please cancel my account",
        "What time do you open?",
        "",
    ]
    calm = _clustered_vectors(["neutral"] * len(texts))
    result = reader.read(calm, np.array([True, True, True, False]), texts=texts)
    assert result.labels.tolist() == ["negative", "negative", "neutral", NO_TEXT]
    assert result.scores[0] < 0 and np.isnan(result.scores[3])
    # A rating, where there is one, still wins over the text.
    rated = np.array(["positive", np.nan, np.nan, np.nan], dtype=object)
    assert reader.read(calm, np.ones(4, bool), rated, texts=texts).labels[0] == "positive"
    with pytest.raises(ValueError, match="pass texts"):
        reader.read(calm, np.ones(4, bool))
    assert len(phrases) == len(labels)


@pytest.fixture(scope="module")
def multilingual():  # type: ignore[no-untyped-def]
    """The bundled multilingual model and ``reader_phrases()`` embedded with it."""
    embedder = get_embedder("multilingual")
    return embedder, embedder.embed(reader_phrases()[0])


@pytest.mark.model
def test_accuracy_on_the_check_set_in_english_and_chinese(multilingual) -> None:  # type: ignore[no-untyped-def]
    """The shipped check set (75 remarks, written apart from the prototype phrases)."""
    embedder, phrase_vectors = multilingual
    check = pd.read_csv(CHECK_SET)
    result = classify_text(
        check["text"].tolist(),
        embedder.embed(check["text"].tolist()),
        np.ones(len(check), dtype=bool),
        phrase_vectors,
    )
    correct = result.labels == check["sentiment"].to_numpy()
    by_language = {lang: float(correct[check["language"] == lang].mean()) for lang in ("en", "zh")}
    print(f"check-set accuracy {correct.mean():.3f} {by_language}")
    assert correct.mean() >= 0.85
    assert min(by_language.values()) >= 0.8


@pytest.mark.model
def test_complaints_read_negative_and_questions_neutral(multilingual) -> None:  # type: ignore[no-untyped-def]
    embedder, phrase_vectors = multilingual
    texts = [*COMPLAINTS, *NEUTRAL_REMARKS]
    result = classify_text(
        texts, embedder.embed(texts), np.ones(len(texts), dtype=bool), phrase_vectors
    )
    assert result.labels.tolist() == ["negative"] * len(COMPLAINTS) + ["neutral"] * 2
    assert (result.scores[: len(COMPLAINTS)] < 0).all()


ACCURACY_ROWS = 600
"""Rows sampled (fixed seed) from each labelled set: the three read in about 30 s on 2 cores."""

ACCURACY_FLOORS = {"yelp": (0.82, 0.78), "amazon": (0.85, 0.82), "waimai": (0.82, 0.85)}
"""(agreement, negative recall) each set must reach: about two points below what was measured
on these samples (Yelp 83.8% / 80.5%, Amazon 87.7% / 84.5%, waimai 83.7% / 87.6%)."""


@pytest.mark.model
@pytest.mark.parametrize("name", ["yelp", "amazon", "waimai"])
def test_accuracy_on_labelled_reviews(multilingual, name: str) -> None:  # type: ignore[no-untyped-def]
    """Agreement with human positive/negative labels (neutral counts as a miss) and the
    share of negative reviews read negative, on reviews nobody here wrote or trained on."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the labelled sets are read in place from {SHARED_DATA}, absent here")
    embedder, phrase_vectors = multilingual
    frame = load_labelled(name, ACCURACY_ROWS)
    texts = frame["text"].tolist()
    result = classify_text(
        texts, embedder.embed(texts), np.ones(len(texts), dtype=bool), phrase_vectors
    )
    truth = np.where(frame["label"].to_numpy() == 1, "positive", "negative")
    agreement = float((result.labels == truth).mean())
    negative_recall = float((result.labels[truth == "negative"] == "negative").mean())
    print(f"{name}: agreement {agreement:.3f}, negative recall {negative_recall:.3f}")
    floor_agreement, floor_recall = ACCURACY_FLOORS[name]
    assert agreement >= floor_agreement
    assert negative_recall >= floor_recall


def test_feedback_line_says_how_few_wrote_when_most_of_a_segment_is_silent() -> None:
    feedback = SegmentFeedback(90, 0.83, 0.17, 0.0, 0.0, (), ())
    assert describe_feedback(feedback, 100).endswith("0% positive")  # 90% wrote: enough
    line = describe_feedback(feedback, 533)
    assert "of the 90 customers (17%) who wrote something" in line
    assert line.startswith("83% negative")


def test_carried_sentiment_keeps_the_sample_and_fills_the_rest() -> None:
    rng = np.random.default_rng(0)
    directions = {"negative": 0, "neutral": 1, "positive": 2}
    truth = np.array(["negative", "neutral", "positive"] * 100, dtype=object)
    vectors = np.eye(3)[[directions[t] for t in truth]] + rng.normal(0, 0.1, (300, 3))
    has_text = np.ones(300, dtype=bool)
    has_text[-1] = False
    rows = np.arange(0, 240, 2)
    sample_labels = truth[rows].copy()
    sample_labels[0] = "positive"  # the sample's own reading wins for its rows
    sample = SentimentResult(
        sample_labels, np.linspace(-1, 1, len(rows)), SentimentSource("prototypes")
    )
    carried = carry_sentiment(sample, rows, vectors, has_text)
    assert carried.labels[0] == "positive"
    assert carried.labels[-1] == NO_TEXT and np.isnan(carried.scores[-1])
    others = np.setdiff1d(np.arange(299), rows)
    assert (carried.labels[others] == truth[others]).mean() > 0.95
    assert "sample of 120 texts" in carried.note and "agreement" in carried.note


def test_a_sentiment_read_on_a_few_sample_rows_does_not_stop_the_others_being_carried() -> None:
    """The reader calls about 1% of rows neutral: a sample with a handful of neutral rows
    used to give every unread row one label (the first alphabetically: negative)."""
    rng = np.random.default_rng(0)
    truth = np.array(["negative", "positive"] * 150, dtype=object)
    vectors = np.eye(2)[(truth == "positive").astype(int)] + rng.normal(0, 0.1, (300, 2))
    rows = np.arange(0, 300, 3)  # both sentiments: 0, 3, 6 ... alternate
    sample_labels = truth[rows].copy()
    sample_labels[[1, 2, 3]] = "neutral"  # three neutral readings: too few to learn
    sample = SentimentResult(sample_labels, np.zeros(len(rows)), SentimentSource("prototypes"))
    carried = carry_sentiment(sample, rows, vectors, np.ones(300, dtype=bool))
    others = np.setdiff1d(np.arange(300), rows)
    assert (carried.labels[others] == truth[others]).mean() > 0.95
    assert (carried.labels[rows] == sample_labels).all()
    assert "only read on the sample: neutral (3 sample rows)" in carried.note


def test_large_tables_read_sentiment_on_a_sample(
    fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback_stage, "SENTIMENT_FULL_ROWS", 50)
    monkeypatch.setattr(sampling, "SENTIMENT_SAMPLE_ROWS", 60)
    frame = make_customers(n_per_theme=40)
    schema = detect_schema(frame)
    docs = pipeline.build_documents(frame, schema)
    vectors = fake_embedder.embed(docs)
    embedding = EmbeddingResult(vectors, np.ones(len(docs), dtype=bool), "other-model", 0, 0)
    config = EmbedConfig(sentiment_model="fake")
    fake_embedder.calls.clear()
    feedback = pipeline.feedback_stage(docs, embedding, "other", frame, schema, config)
    assert feedback is not None
    embedded = sum(len(call) for call in fake_embedder.calls)
    prototypes = len(pipeline.reader_phrases()[0])
    assert embedded <= 60 + prototypes  # only the sample (and the prototypes) were read
    assert len(feedback.sentiment.labels) == len(frame)
    assert NO_TEXT not in set(feedback.sentiment.labels)
    assert "sample of 60 texts" in feedback.sentiment.note


def test_the_cheap_urgent_prefilter_never_hides_a_match() -> None:
    from segmenter import sentiment

    assert all(stem for stems in sentiment._STEMS.values() for stem in stems)
    check = pd.read_csv(Path(__file__).parent / "data" / "sentiment_check.csv")
    texts = [
        *check.iloc[:, 0].astype(str),
        "I will SUE you",
        "We are suing",
        "Charged me twice!",
        "double-charged again",
        "closing my account today",
        "it burnt my hand",
        "smoking charger",
        "without permission",
        "我要起诉你们",
        "申请退款",
        "sure, no issue at all",
        "support was superb",
    ]
    for text in texts:
        expected = tuple(
            topic for topic, pattern in sentiment._TOPIC_PATTERNS.items() if pattern.search(text)
        )
        assert sentiment.urgent_topics(text) == expected, text
