"""Segment profiles: traits, keywords (English and Chinese), examples and names."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmenter.profile import (
    class_tfidf_keywords,
    distances_to_centres,
    name_segment,
    profile_segments,
    rename_segments,
    tokenize,
)
from tests.conftest import THEMES


def themed_docs() -> tuple[list[str], np.ndarray]:
    docs: list[str] = []
    labels: list[int] = []
    for label, sentences in enumerate(THEMES.values()):
        for i in range(12):
            docs.append(sentences[i % len(sentences)])
            labels.append(label)
    return docs, np.array(labels)


def test_keywords_describe_each_theme() -> None:
    docs, labels = themed_docs()
    keywords = class_tfidf_keywords(docs, labels)
    assert any("delivery" in k or "shipping" in k for k in keywords[0])
    assert any("price" in k or "expensive" in k for k in keywords[1])
    assert any("support" in k or "helpful" in k for k in keywords[2])


def test_chinese_text_is_split_into_words() -> None:
    tokens = tokenize("快递太慢了，包裹三天才到。The delivery was late")
    assert "快递" in tokens
    assert "包裹" in tokens
    assert "delivery" in tokens
    assert "the" not in tokens


def test_chinese_keywords_per_segment() -> None:
    docs = ["快递太慢了，包裹破损"] * 6 + ["价格太贵了，希望有优惠"] * 6
    labels = np.array([0] * 6 + [1] * 6)
    keywords = class_tfidf_keywords(docs, labels)
    assert any("快递" in term for term in keywords[0])
    assert any("优惠" in term or "价格" in term for term in keywords[1])


def test_profiles_report_traits_against_the_whole_table() -> None:
    docs, labels = themed_docs()
    numeric = pd.DataFrame({"spend": np.where(labels == 2, 120.0, 30.0)})
    categorical = pd.DataFrame({"plan": np.where(labels == 2, "premium", "basic")})
    profiles = profile_segments(docs, labels, numeric, categorical)
    assert [p.segment_id for p in profiles] == [0, 1, 2]
    support = profiles[2]
    assert support.size == 12
    assert support.share == 12 / 36
    spend = support.numeric[0]
    assert spend.column == "spend"
    assert spend.segment_mean == 120.0
    assert spend.lift > 1.5
    assert support.categories[0].value == "premium"
    assert support.categories[0].segment_share == 1.0
    assert "premium" in support.name


def test_examples_are_distinct_and_nearest_the_centre_first() -> None:
    docs = ["far away", "centre text", "near text", "centre text"]
    labels = np.array([0, 0, 0, 0])
    space = np.array([[10.0], [0.0], [1.0], [0.0]])
    distances = distances_to_centres(space, labels, np.array([[0.0]]))
    profile = profile_segments(docs, labels, distances=distances)[0]
    assert profile.examples == ("centre text", "near text", "far away")


def test_unsegmented_rows_get_no_profile() -> None:
    docs, labels = themed_docs()
    labels = labels.copy()
    labels[:3] = -1
    profiles = profile_segments(docs, labels)
    assert all(p.segment_id >= 0 for p in profiles)
    assert sum(p.size for p in profiles) == len(docs) - 3


def test_names_are_unique_and_editable() -> None:
    docs = ["same words here"] * 10
    labels = np.array([0] * 5 + [1] * 5)
    profiles = profile_segments(docs, labels)
    assert len({p.name for p in profiles}) == 2
    renamed = rename_segments(profiles, {1: "  Bargain hunters ", 0: " "})
    assert renamed[1].name == "Bargain hunters"
    assert renamed[0].name == profiles[0].name


def test_name_from_keywords_and_trait() -> None:
    assert name_segment(["late delivery", "parcel"], [], [], 0) == "Late delivery & parcel"
    assert name_segment([], [], [], 3) == "Segment 3"


def test_trait_descriptions_read_as_business_language() -> None:
    from segmenter.profile import CategoryTrait, NumericTrait, describe_category, describe_numeric

    assert describe_category(CategoryTrait("plan", "Premium", 0.8, 0.3, 2.6)) == "Premium"
    assert describe_category(CategoryTrait("Partner", "No", 0.8, 0.5, 1.6)) == "Partner: No"
    signup = NumericTrait("signup_date (days)", 900.0, 500.0, 1.8, 1.2)
    assert describe_numeric(signup) == "recent signup_date"
    assert describe_numeric(NumericTrait("age", 25.0, 40.0, 0.6, -1.1)) == "low age"


def test_bigrams_never_jump_over_dropped_words() -> None:
    from segmenter.profile import keyword_terms

    terms = keyword_terms("Late delivery again. I only buy when stuff is on sale")
    assert "late delivery" in terms
    assert "stuff sale" not in terms
    assert "delivery again" in terms or "again" not in terms


def test_terse_texts_are_quoted_only_when_nothing_longer_exists() -> None:
    docs = ["thanks", "The parcel arrived two weeks late", "ok", "Courier left it in the rain"]
    labels = np.zeros(4, dtype=int)
    distances = np.array([0.0, 1.0, 0.5, 2.0])
    examples = profile_segments(docs, labels, distances=distances)[0].examples
    assert examples[:2] == ("The parcel arrived two weeks late", "Courier left it in the rain")
    assert set(examples[2:]) == {"thanks", "ok"}
