"""Large tables: the fast embedding mode, UMAP through a sample, and sampled sentiment."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import normalized_mutual_info_score

from segmenter import cluster, kmeans, pipeline, reduce
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import (
    FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    EmbeddingResult,
    get_embedder,
    lexical_topics,
    teacher,
)
from segmenter.embedding.static import STATIC_FOLDER, StaticEmbedder, ensure_static_model
from segmenter.errors import SegmenterError
from segmenter.ingest import detect_schema, load_table
from segmenter.sentiment import NO_TEXT, SentimentResult, SentimentSource, carry_sentiment
from tests.conftest import FakeEmbedder, make_customers

ENGLISH = ["The parcel came late", "Great price for the plan", "Support fixed it fast"] * 4


def test_auto_mode_switches_minilm_to_the_fast_model_for_many_texts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "has_gpu", lambda: False)
    many = [f"{text} ({i})" for i, text in enumerate(ENGLISH * 10)]
    small = EmbedConfig(fast_min_texts=100)
    assert pipeline.resolve_embedder_name(many[:50], small) == "minilm"
    assert pipeline.resolve_embedder_name(many, small) == FAST_EMBEDDER
    assert pipeline.resolve_embedder_name(many, replace(small, mode="accurate")) == "minilm"
    assert pipeline.resolve_embedder_name(ENGLISH, replace(small, mode="fast")) == FAST_EMBEDDER
    # A model the user chose is kept, and the multilingual model has no fast twin.
    assert pipeline.resolve_embedder_name(many, replace(small, model="multilingual")) == (
        "multilingual"
    )
    chinese = [f"快递太慢了，等了一个星期 {i}" for i in range(200)]
    assert pipeline.resolve_embedder_name(chinese, small) == "multilingual"
    monkeypatch.setattr(pipeline, "has_gpu", lambda: True)
    assert pipeline.resolve_embedder_name(many, small) == "minilm"


def test_the_fast_mode_is_explained_to_the_user() -> None:
    note = pipeline.embedding_note(FAST_EMBEDDER, ENGLISH)
    assert note is not None and "3 texts" in note and "accurate" in note
    assert "aligned" not in note  # too few texts to align on
    many = pipeline.embedding_note(FAST_EMBEDDER, [f"text {i}" for i in range(2_500)])
    assert many is not None and "aligned with MiniLM on 250 of your texts" in many
    assert pipeline.embedding_note("minilm", ENGLISH) is None


def test_a_wrong_mode_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEGMENTER_EMBED_MODE", "turbo")
    with pytest.raises(SegmenterError, match="auto, accurate or fast"):
        EmbedConfig.from_env()


def test_lexical_topics_are_unit_rows_and_zero_without_text() -> None:
    texts = [
        *(f"late parcel delivery courier {i}" for i in range(20)),
        *(f"price discount plan cost {i}" for i in range(20)),
        "",
    ]
    has_text = np.array([bool(t) for t in texts])
    topics = lexical_topics(texts, has_text, dims=8)
    assert topics.shape[0] == len(texts) and 1 <= topics.shape[1] <= 8
    np.testing.assert_allclose(np.linalg.norm(topics[:-1], axis=1), 1.0, atol=1e-5)
    assert not topics[-1].any()
    # The two themes point different ways.
    assert float(topics[0] @ topics[20]) < float(topics[0] @ topics[1])


def test_lexical_topics_give_up_quietly_without_shared_words() -> None:
    texts = ["alpha", "beta", "gamma", "delta"]
    topics = lexical_topics(texts, np.ones(4, dtype=bool))
    assert topics.shape == (4, 0)


def test_large_tables_reduce_through_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reduce, "UMAP_FIT_ROWS", 300)
    features, truth = make_blobs(1200, n_features=60, centers=4, random_state=0)
    reduction = cluster.reduce_features(features.astype(np.float32))
    assert reduction.cluster_space.shape == (1200, 5)
    assert reduction.map_coords.shape == (1200, 2)
    assert np.isfinite(reduction.cluster_space).all() and np.isfinite(reduction.map_coords).all()
    labels = cluster.assign_segments(reduction.cluster_space, 4).labels
    assert normalized_mutual_info_score(truth, labels) > 0.95


def test_kmeans_learns_from_a_sample_on_large_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kmeans, "KMEANS_FIT_ROWS", 200)
    space, truth = make_blobs(3000, n_features=5, centers=4, random_state=2)
    assignment = cluster.assign_segments(space.astype(np.float32), 4)
    assert len(assignment.labels) == 3000 and sum(assignment.sizes) == 3000
    assert normalized_mutual_info_score(truth, assignment.labels) > 0.95


def test_nearest_sampled_rows_are_exact_and_sorted() -> None:
    rng = np.random.default_rng(1)
    sampled, queries = rng.normal(size=(50, 4)), rng.normal(size=(30, 4))
    distances, indices = cluster.nearest_sampled(queries, sampled, 3)
    brute = np.linalg.norm(queries[:, None, :] - sampled[None, :, :], axis=2)
    assert (indices == np.argsort(brute, axis=1)[:, :3]).all()
    assert np.allclose(distances, np.sort(brute, axis=1)[:, :3])


def test_the_batch_size_is_automatic_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENTER_BATCH_SIZE", raising=False)
    assert EmbedConfig.from_env().batch_size is None
    monkeypatch.setenv("SEGMENTER_BATCH_SIZE", "256")
    assert EmbedConfig.from_env().batch_size == 256
    monkeypatch.setenv("SEGMENTER_BATCH_SIZE", "lots")
    with pytest.raises(SegmenterError, match="SEGMENTER_BATCH_SIZE='lots'"):
        EmbedConfig.from_env()


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


def test_large_tables_read_sentiment_on_a_sample(
    fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "SENTIMENT_FULL_ROWS", 50)
    monkeypatch.setattr(pipeline, "SENTIMENT_SAMPLE_ROWS", 60)
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


@pytest.fixture(scope="session")
def distilled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static model, distilled once for the session (about 45 s on 2 cores)."""
    return ensure_static_model(tmp_path_factory.mktemp("static"))


@pytest.mark.model
def test_the_static_model_is_distilled_locally_and_embeds(distilled: Path) -> None:
    assert (distilled / "model.safetensors").exists()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    embedder = StaticEmbedder(distilled.parents[1])
    vectors = embedder.embed(["The parcel came late", "Late delivery again", "Great price"])
    assert vectors.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.model
def test_a_fast_mode_run_segments_every_row(
    distilled: Path, isolated_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Align with MiniLM on half the texts (a large table's tenth, here 90 of 180).
    monkeypatch.setattr(teacher, "TEACHER_SHARE", 0.5)
    monkeypatch.setattr(teacher, "TEACHER_MIN_TEXTS", 20)
    (isolated_cache / "models").mkdir(parents=True, exist_ok=True)
    (isolated_cache / "models" / STATIC_FOLDER).symlink_to(distilled)
    rng = np.random.default_rng(0)
    words = {
        "delivery": "parcel courier late delivery shipping package tracking arrived days",
        "price": "price expensive cost discount cheaper fee bill money charge",
        "support": "support agent helpful friendly call chat answered solved service",
    }
    themes = np.repeat(list(words), 60)
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(len(themes))],
            "feedback": [" ".join(rng.choice(words[t].split(), 6)) for t in themes],
            "theme": themes,
        }
    )
    path = tmp_path / "customers.csv"
    frame.drop(columns=["theme"]).to_csv(path, index=False)
    loaded = load_table(path, path.name)
    config = replace(EmbedConfig.from_env(), mode="fast", sentiment_model="none")
    schema = detect_schema(loaded.frame)
    steps: list[str] = []
    run = pipeline.run_segmentation(
        loaded, schema, config, ClusterConfig(n_segments=3), lambda m, _f: steps.append(m)
    )
    assert run.embedder_name == FAST_EMBEDDER
    assert "lexical" in run.timings
    assert "Aligning the fast model with MiniLM on 90 sampled texts" in steps
    assert "Aligning the fast model with MiniLM on 90 sampled texts: 0 of 90 new texts" in steps
    assert get_embedder(TEACHER_EMBEDDER).is_loaded  # type: ignore[attr-defined]
    assert (run.result.labels >= 0).all()
    assert normalized_mutual_info_score(frame["theme"], run.result.labels) > 0.9


def test_the_same_table_and_settings_come_back_from_the_run_cache(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    frame = make_customers()
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    config = EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")
    loaded = load_table(path, path.name)
    schema = detect_schema(loaded.frame)
    first = pipeline.run_segmentation(loaded, schema, config, ClusterConfig())
    calls = len(fake_embedder.calls)
    again = pipeline.run_segmentation(load_table(path, path.name), schema, config, ClusterConfig())
    assert again.reused and not first.reused
    assert len(fake_embedder.calls) == calls  # nothing embedded again
    np.testing.assert_array_equal(again.result.labels, first.result.labels)
    # Another table, or other settings, is a new run.
    changed = frame.copy()
    changed.loc[0, "feedback"] = "Something else entirely"
    changed.to_csv(path, index=False)
    other = pipeline.run_segmentation(load_table(path, path.name), schema, config, ClusterConfig())
    assert not other.reused
    seeded = pipeline.run_segmentation(loaded, schema, config, ClusterConfig(random_state=3))
    assert not seeded.reused


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


def test_a_large_map_draws_a_stratified_sample_but_selects_every_row() -> None:
    from segmenter.maps import SEGMENT_COLOUR, rows_in_areas, screen_sample

    rng = np.random.default_rng(0)
    labels = np.array(["big"] * 900 + ["small"] * 30)
    coords = rng.uniform(0, 10, size=(930, 2))
    points = pd.DataFrame({SEGMENT_COLOUR: labels, "x": coords[:, 0], "y": coords[:, 1]})
    drawn = screen_sample(points, max_points=300)
    assert len(drawn) < 930
    assert (drawn[SEGMENT_COLOUR] == "small").sum() == 30  # small segments stay whole
    box = {"box": [{"x": [2.0, 4.0], "y": [1.0, 9.0]}]}
    inside = rows_in_areas(coords, box)
    expected = np.flatnonzero(
        (coords[:, 0] >= 2) & (coords[:, 0] <= 4) & (coords[:, 1] >= 1) & (coords[:, 1] <= 9)
    )
    assert inside == expected.tolist()
    triangle = {"lasso": [{"x": [0, 10, 0], "y": [0, 0, 10]}]}
    below = rows_in_areas(coords, triangle)
    assert below == np.flatnonzero(coords.sum(axis=1) < 10).tolist()
    assert rows_in_areas(coords, {}) == []


def test_the_map_legend_lists_segments_in_segment_order() -> None:
    from segmenter.maps import SEGMENT_COLOUR, map_frame, segment_map  # noqa: PLC0415

    labels = np.array([2, 0, 1, 2, 0, -1])
    coords = np.array([[0.0, 0.0]] * 5 + [[np.nan, np.nan]])
    names = {0: "Zeta", 1: "Alpha", 2: "Mid"}
    points = map_frame(
        pd.DataFrame({"id": range(6)}),
        labels,
        coords,
        names,
        ["a"] * 6,
        id_values=pd.Series(range(6)),
        id_name="id",
    )
    assert len(points) == 5 and set(points[SEGMENT_COLOUR]) == {"Zeta", "Alpha", "Mid"}
    legend = [trace.name for trace in segment_map(points).data]
    assert legend == ["Zeta", "Alpha", "Mid"]
