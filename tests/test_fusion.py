"""Fusion: no single discrete column decides the segments; Segment by; drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from segmenter import fusion
from segmenter.cluster import Segmenter
from segmenter.errors import SchemaError
from segmenter.fusion import describe_drivers, fit_fusion, fuse_features, segment_drivers
from tests.conftest import THEMES, FakeEmbedder

SPEND = {"delivery": 40.0, "price": 25.0, "support": 70.0}
VISITS = {"delivery": 4.0, "price": 8.0, "support": 12.0}


def persona_table(
    n_per: int = 100, seed: int = 0, *, informative: bool = False, flag: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers of three hidden personas, expressed in their text (one theme each) and in
    two numbers that overlap between personas, plus a 10-valued ``store`` drawn
    independently of the persona; ``tier`` agrees with the persona for 70% of rows, ``flag``
    is a 0/1 column drawn at random. Returns the table and the personas."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, (theme, sentences) in enumerate(THEMES.items()):
        for i in range(n_per):
            rows.append(
                {
                    "persona": index,
                    "feedback": f"{sentences[i % len(sentences)]} ({i})",
                    "spend": SPEND[theme] + rng.normal(0, 10),
                    "visits": float(rng.poisson(VISITS[theme])),
                }
            )
    frame = pd.DataFrame(rows)
    n_rows = len(frame)
    frame["store"] = [f"Store {v}" for v in rng.integers(0, 10, n_rows)]
    if informative:
        own = frame["persona"].to_numpy()
        drawn = np.where(rng.random(n_rows) < 0.7, own, rng.integers(0, 10, n_rows))
        frame["tier"] = [f"Tier {v}" for v in drawn]
    if flag:
        frame["flag"] = rng.integers(0, 2, n_rows).astype(float)
    return frame, frame.pop("persona").to_numpy()


def segment(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str], **settings: object
) -> Segmenter:
    vectors = FakeEmbedder().embed(frame["feedback"].tolist())
    return Segmenter(random_state=0, **settings).fit(  # type: ignore[arg-type]
        vectors,
        np.ones(len(frame), bool),
        numeric=frame[numeric] if numeric else None,
        categorical=frame[categorical] if categorical else None,
    )


@pytest.mark.parametrize(
    ("numeric", "categorical"),
    [(["spend", "visits"], ["store"]), ([], ["store"])],
    ids=["with-numbers", "store-alone"],
)
def test_a_category_unrelated_to_the_personas_does_not_make_the_segments(
    numeric: list[str], categorical: list[str]
) -> None:
    frame, persona = persona_table()
    labels = segment(frame, numeric, categorical).labels_
    assert nmi(persona, labels) >= 0.8
    assert nmi(frame["store"], labels) <= 0.1


def test_unbounded_the_same_category_would_make_the_segments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The check above can fail: one-hot columns weighted as before cut the map by store.
    monkeypatch.setattr(fusion, "ISLAND_MAX_RISE", np.inf)
    frame, persona = persona_table()
    labels = segment(frame, [], ["store"]).labels_
    assert nmi(frame["store"], labels) > 0.5
    assert nmi(persona, labels) < 0.8


def nested_product_columns(frame: pd.DataFrame, seed: int = 1) -> None:
    """Add ``product``, ``sub_product`` and ``issue``: one 5-valued choice said three times,
    as a complaints export's Product, Sub-product and Issue are, independent of the persona."""
    rng = np.random.default_rng(seed)
    product = rng.integers(0, 5, len(frame))
    frame["product"] = [f"Product {v}" for v in product]
    frame["sub_product"] = [f"Sub {v}-{i % 2}" for i, v in enumerate(product)]
    frame["issue"] = [f"Issue of product {v}" for v in product]


def test_nested_columns_are_bounded_together() -> None:
    # Each column of the hierarchy looks harmless next to the other two (they agree with
    # it); bounded one by one they made the segments between them.
    frame, persona = persona_table()
    nested_product_columns(frame)
    columns = ["product", "sub_product", "issue"]
    segmenter = segment(frame, ["spend", "visits"], columns)
    factors = dict(segmenter.fusion_.factors)
    assert factors["product"] == factors["sub_product"] == factors["issue"] < 1.0
    assert nmi(persona, segmenter.labels_) >= 0.8
    assert nmi(frame["product"], segmenter.labels_) <= 0.1


def test_nested_groups_join_only_strongly_associated_columns() -> None:
    frame, _ = persona_table()
    nested_product_columns(frame)
    codes = {
        name: pd.factorize(frame[name])[0] for name in ["store", "product", "sub_product", "issue"]
    }
    assert fusion.nested_groups(codes) == [["store"], ["product", "sub_product", "issue"]]


def test_a_random_flag_does_not_split_segments_by_columns() -> None:
    frame, persona = persona_table(flag=True)
    segmenter = segment(frame, ["spend", "visits", "flag"], ["store"], segment_by="columns")
    # 0.60-0.62 on the machines measured so far: UMAP's float arithmetic differs with the CPU.
    assert nmi(persona, segmenter.labels_) >= 0.55
    assert nmi(frame["flag"], segmenter.labels_) <= 0.1
    assert dict(segmenter.fusion_.factors)["flag"] < 1.0


def test_an_informative_category_does_not_make_segments_worse() -> None:
    frame, persona = persona_table(informative=True)
    without = segment(frame, ["spend", "visits"], ["store"]).labels_
    with_tier = segment(frame, ["spend", "visits"], ["store", "tier"]).labels_
    assert nmi(persona, with_tier) >= nmi(persona, without) - 0.02


def test_bounded_columns_are_applied_the_same_to_any_batch() -> None:
    frame, _ = persona_table()
    vectors = FakeEmbedder().embed(frame["feedback"].tolist())
    has_text = np.ones(len(frame), bool)
    model = fit_fusion(vectors, has_text, None, frame[["store"]])
    assert dict(model.factors)["store"] < 1.0
    whole, _ = model.transform(vectors, has_text, None, frame[["store"]])
    half = len(frame) // 2
    first, _ = model.transform(vectors[:half], has_text[:half], None, frame[["store"]][:half])
    np.testing.assert_allclose(whole[:half], first, rtol=1e-6)
    fused = fuse_features(vectors, has_text, None, frame[["store"]])
    np.testing.assert_allclose(fused.matrix, whole, rtol=1e-6)


def test_segment_by_chooses_the_inputs() -> None:
    frame, _ = persona_table(n_per=20)
    vectors = FakeEmbedder().embed(frame["feedback"].tolist())
    has_text = np.ones(len(frame), bool)
    numeric, categorical = frame[["spend", "visits"]], frame[["store"]]

    def blocks(**settings: object) -> list[str]:
        model = fit_fusion(vectors, has_text, numeric, categorical, **settings)  # type: ignore[arg-type]
        return [block.name for block in model.blocks]

    assert blocks() == ["text", "spend", "visits", "store"]
    assert blocks(segment_by="text") == ["text"]
    assert blocks(segment_by="columns") == ["spend", "visits", "store"]
    assert blocks(exclude=["store", "visits"]) == ["text", "spend"]


def test_segment_by_what_the_table_lacks_says_what_to_do() -> None:
    numeric = pd.DataFrame({"spend": np.arange(20.0)})
    with pytest.raises(SchemaError, match="Segment by text needs text.*Upload"):
        fit_fusion(None, None, numeric, segment_by="text")
    vectors = np.eye(20, 4, dtype=np.float32)
    with pytest.raises(SchemaError, match="Segment by columns needs a numeric"):
        fit_fusion(vectors, np.ones(20, bool), numeric, segment_by="columns", exclude=["spend"])
    with pytest.raises(SchemaError, match="Cannot leave out 'feedback'.*spend"):
        fit_fusion(vectors, np.ones(20, bool), numeric, exclude=["feedback"])
    with pytest.raises(SchemaError, match="not a choice"):
        fit_fusion(vectors, np.ones(20, bool), numeric, segment_by="everything")  # type: ignore[arg-type]


def test_a_date_column_is_left_out_by_its_own_name() -> None:
    numeric = pd.DataFrame({"spend": np.arange(40.0), "signup (days)": np.arange(40.0) % 7})
    model = fit_fusion(None, None, numeric, exclude=["signup"])
    assert [block.name for block in model.blocks] == ["spend"]


def test_drivers_name_the_column_that_sets_a_segment_apart() -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(200, 8)).astype(np.float32)  # says nothing about the segments
    spend = np.r_[rng.normal(10, 1, 100), rng.normal(50, 1, 100)]
    numeric = pd.DataFrame({"spend": spend, "age": rng.normal(40, 5, 200)})
    segmenter = Segmenter(n_segments=2, random_state=0).fit(
        text, np.ones(200, bool), numeric=numeric
    )
    for found in segmenter.drivers_.values():
        assert found[0][0] == "spend"
        assert found[0][1] > 0.5
        assert sum(share for _, share in found) == pytest.approx(1.0)
    caption = describe_drivers(segmenter.drivers_[0], {"spend": "Monthly spend"})
    assert caption.startswith("Driven by: Monthly spend ")


def test_drivers_of_an_even_split_are_empty_not_noise() -> None:
    points = np.random.default_rng(1).normal(size=(400, 6))
    labels = np.arange(400) % 2
    blocks = (fusion.Block("text", 0, 4), fusion.Block("spend", 4, 6))
    drivers = segment_drivers(points, labels, blocks)
    assert all(sum(s for _, s in found) in (0, pytest.approx(1.0)) for found in drivers.values())
    assert describe_drivers([]) == ""


@pytest.mark.model
def test_with_the_real_model_a_store_does_not_make_the_segments_and_a_tier_helps() -> None:
    # Measured (400 English customers, MiniLM), NMI with the persona: text alone / text +
    # store / text + tier; unbounded, text + store gave 0.03 (store 1.00).
    #   seed 5, Intel CI machine: 0.58 / 0.47 / 0.59
    #   seed 5, AMD EPYC:         0.58 / 0.35 / 0.63   (BLAS differs, UMAP follows)
    #   seeds 6 and 7, AMD EPYC:  0.61 / 0.48 / 0.67 and 0.46 / 0.51 / 0.35
    # At 400 rows one run moves by ±0.1 with the machine and the seed, so the bounds are
    # loose; the store's own NMI (0.02-0.08) is the claim that holds everywhere.
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from segmenter.config import EmbedConfig  # noqa: PLC0415
    from segmenter.ingest import build_documents, detect_schema  # noqa: PLC0415
    from segmenter.pipeline import embed_documents  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from make_sample_data import add_category_columns, make_sample_customers  # noqa: PLC0415

    frame = make_sample_customers(400, 5, chinese_share=0.0)
    frame = add_category_columns(frame, 5, informative=True)
    persona = frame.pop("_persona").to_numpy()
    docs = build_documents(frame.astype(str), detect_schema(frame[["feedback"]].astype(str)))
    embedding = embed_documents(docs, "minilm", EmbedConfig(sentiment_model="none"))
    assert embedding is not None

    def labels(column: str | None) -> np.ndarray:
        categorical = frame[[column]] if column else None
        segmenter = Segmenter(random_state=0)
        return segmenter.fit(embedding.vectors, embedding.has_text, categorical=categorical).labels_

    text_only, with_store, with_tier = labels(None), labels("store"), labels("tier")
    assert nmi(frame["store"], with_store) <= 0.1
    assert nmi(persona, with_store) >= 0.5 * nmi(persona, text_only)
    assert nmi(persona, with_tier) >= nmi(persona, text_only) - 0.15


def test_dates_are_profiled_not_segmented_unless_asked() -> None:
    numeric = pd.DataFrame({"spend": np.arange(40.0), "received (days)": np.arange(40.0) % 7})
    assert [block.name for block in fit_fusion(None, None, numeric).blocks] == ["spend"]
    with_dates = fit_fusion(None, None, numeric, dates=True)
    assert [block.name for block in with_dates.blocks] == ["spend", "received (days)"]
    only_a_date = numeric[["received (days)"]]
    with pytest.raises(SchemaError, match="segment on dates too"):
        fit_fusion(None, None, only_a_date, segment_by="columns")
    assert [b.name for b in fit_fusion(None, None, only_a_date, dates=True).blocks] == [
        "received (days)"
    ]
