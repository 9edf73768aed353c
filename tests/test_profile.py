"""Segment profiles: traits, keywords (English and Chinese), examples and names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmenter.labels import column_label, column_labels, inline
from segmenter.profile import (
    NAME_MAX_CHARS,
    CategoryTrait,
    NumericTrait,
    SegmentProfile,
    class_tfidf_keywords,
    count_terms,
    describe_category,
    describe_numeric,
    describe_traits,
    distances_to_centres,
    is_strong,
    keyword_lifts,
    name_profiles,
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
    assert "premium" in support.name or "High spend" in support.name  # its strongest trait


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
    assert [p.segment_id for p in profiles] == sorted({int(s) for s in labels if s >= 0})
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
    assert name_segment([], [], [], 3) == "Mixed group 3"  # no strong trait: said honestly


def test_trait_descriptions_read_as_business_language() -> None:
    assert describe_category(CategoryTrait("plan", "Premium", 0.8, 0.3, 2.6)) == "Premium"
    assert describe_category(CategoryTrait("Partner", "No", 0.8, 0.5, 1.6)) == "Partner: No"
    signup = NumericTrait("signup_date (days)", 900.0, 500.0, 1.8, 1.2)
    assert describe_numeric(signup) == "Later signup date"
    assert describe_numeric(NumericTrait("age", 25.0, 40.0, 0.6, -1.1)) == "Younger"
    wines = NumericTrait("MntWines", 612.0, 227.0, 2.7, 1.4, "Spend on wines")
    assert describe_numeric(wines) == "Spends 2.7x on wines"
    kids = NumericTrait("Kidhome", 0.02, 0.44, 0.05, -0.8, "Kids at home")
    assert describe_numeric(kids) == "No kids at home"
    web = NumericTrait("NumWebPurchases", 2.0, 4.0, 0.5, -0.9, "Number of web purchases")
    assert describe_numeric(web) == "Few web purchases"


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


@pytest.mark.parametrize(
    ("column", "label"),
    [
        ("MntWines", "Spend on wines"),
        ("NumWebPurchases", "Number of web purchases"),
        ("Kidhome", "Kids at home"),
        ("Dt_Customer", "Customer date"),
        ("AcceptedCmp1", "Accepted campaign 1"),
        ("monthly_spend", "Monthly spend"),
        ("tenure_months", "Tenure (months)"),
        ("Annual Income (k$)", "Annual income (k$)"),
        ("NPSScore", "NPS score"),
        ("customer_id", "Customer ID"),
        ("InvoiceNo", "Invoice number"),
        ("signup_date (days)", "Signup date"),
        ("评分", "评分"),
    ],
)
def test_column_labels_read_as_words(column: str, label: str) -> None:
    assert column_label(column) == label


def test_edited_labels_win_and_blank_edits_do_not() -> None:
    labels = column_labels(["MntWines", "Income"], {"MntWines": " Wine spend ", "Income": " "})
    assert labels == {"MntWines": "Wine spend", "Income": "Income"}
    assert inline("Spend on wines") == "spend on wines"
    assert inline("NPS score") == "NPS score" and inline("PhD") == "PhD"


def campaign_table(n: int = 300, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """A campaign-shaped table: three personas in spend, income and children, a
    persona-free education column and a 0/1 response that is highest in segment 0."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], n // 3)
    numeric = pd.DataFrame(
        {
            "MntWines": np.where(labels == 0, rng.gamma(5, 150, n), rng.gamma(2, 30, n)),
            "Income": np.where(labels == 1, rng.normal(30000, 5000, n), rng.normal(65000, 8000, n)),
            "Kidhome": np.where(labels == 1, rng.integers(1, 3, n), 0).astype(float),
            "Recency": rng.integers(0, 100, n).astype(float),
        }
    )
    categorical = pd.DataFrame(
        {
            "Education": rng.choice(["Graduation", "PhD", "2n Cycle"], n, p=[0.6, 0.3, 0.1]),
            "Response": np.where(rng.random(n) < np.where(labels == 0, 0.6, 0.05), "1", "0"),
        }
    )
    return labels, numeric, categorical


def test_only_strong_traits_name_and_label_columns_never_do() -> None:
    labels, numeric, categorical = campaign_table()
    names = column_labels([*numeric.columns, *categorical.columns])
    profiles = profile_segments(
        [""] * len(labels), labels, numeric, categorical, column_labels=names, unnamed=["Response"]
    )
    wine, family, rest = (p.name for p in profiles)
    assert wine.startswith("Spends") and "wines" in wine
    assert "kids at home" in family.lower() and "income" in family.lower()
    for name in (wine, family, rest):
        assert "Response" not in name and "Recency" not in name and "Cycle" not in name
        assert len(name) <= NAME_MAX_CHARS
    assert len({wine, family, rest}) == 3
    response = next(c for c in profiles[0].categories if c.column == "Response")
    assert is_strong(response)  # strong, yet never a name: it is the label being predicted
    # The same profiles without the label column excluded do name it.
    named = profile_segments([""] * len(labels), labels, numeric, categorical)
    assert "Response" in " ".join(p.name for p in named)


def test_weak_traits_give_an_honest_name() -> None:
    weak = CategoryTrait("Education", "2n Cycle", 0.13, 0.09, 1.44)
    slight = NumericTrait("MntFruits", 27.0, 25.0, 1.08, 0.1)
    assert not is_strong(weak) and not is_strong(slight)
    assert name_segment([], [slight], [weak], 3) == "Mixed group 3"
    assert is_strong(CategoryTrait("Education", "PhD", 0.62, 0.28, 2.2))
    assert is_strong(NumericTrait("MntWines", 60.0, 30.0, 2.0, 0.3))  # ratio, not z
    assert not is_strong(NumericTrait("MntWines", 60.0, 30.0, 2.0, 0.1))  # a huge spread


def test_generic_words_masks_and_field_labels_never_name() -> None:
    assert tokenize("XXXX called on XX/XX/2019 about {$25.00}") == ["called"]
    assert name_segment(["love", "great fit"], [], [], 1) == "Mixed group 1"
    assert name_segment(["company", "refund"], [], [], 1, field_names=["Company"]) == "Refund"
    not_distinctive = name_segment(["dress", "zipper"], [], [], 2, keyword_lift=(1.0, 3.2))
    assert not_distinctive == "Zipper"
    assert name_segment(["不错", "快递"], [], [], 0) == "快递"
    assert name_segment(["包装 破损", "物流"], [], [], 0) == "包装破损 & 物流"


def test_keyword_lift_tells_a_segments_words_from_everyones() -> None:
    docs = ["dress zipper broke"] * 10 + ["dress fits nicely colour"] * 10
    labels = np.array([0] * 10 + [1] * 10)
    terms = count_terms(docs)
    keywords = {0: ("zipper", "dress"), 1: ("colour", "dress")}
    lifts = keyword_lifts(labels, keywords, terms)
    assert lifts[0][0] > 1.5 > lifts[0][1]
    assert lifts[1][0] > 1.5 > lifts[1][1]


def test_keywords_of_a_few_writers_do_not_lift_a_mostly_silent_segment() -> None:
    # Segment 0: 30 customers, 5 of whom wrote about a payoff statement; segment 1: 10
    # customers who all wrote about debt. Per word the payoff terms are segment 0's alone,
    # per customer they are written by one in six of its customers.
    docs = ["payoff statement delayed"] * 5 + [""] * 25 + ["debt collector calls"] * 10
    labels = np.array([0] * 30 + [1] * 10)
    terms = count_terms(docs)
    lifts = keyword_lifts(labels, {0: ("payoff",), 1: ("debt",)}, terms)
    assert lifts[0][0] < 1.5 < lifts[1][0]


def test_names_stay_distinct_by_adding_a_trait() -> None:
    high = NumericTrait("Income", 80000.0, 50000.0, 1.6, 1.5, "Income")
    kids = NumericTrait("Kidhome", 0.0, 0.5, 0.0, -0.9, "Kids at home")
    teens = NumericTrait("Teenhome", 1.2, 0.5, 2.4, 1.0, "Teenagers at home")
    older = NumericTrait("Age", 50.0, 45.0, 1.1, 0.3, "Age")
    base = dict(size=10, share=0.5, keywords=(), examples=())
    profiles = [
        SegmentProfile(segment_id=0, name="", numeric=(high, kids), categories=(), **base),
        SegmentProfile(segment_id=1, name="", numeric=(high, teens), categories=(), **base),
        SegmentProfile(segment_id=2, name="", numeric=(high,), categories=(), **base),
        SegmentProfile(segment_id=3, name="", numeric=(high, older), categories=(), **base),
        SegmentProfile(segment_id=4, name="", numeric=(high,), categories=(), **base),
    ]
    names = [p.name for p in name_profiles(profiles)]
    assert names == [
        "High income, no kids at home",
        "High income, more teenagers at home",
        "High income",
        "High income, older",  # a clear but weaker trait tells it apart
        "High income (2)",
    ]


def test_traits_are_said_in_words_strongest_first() -> None:
    profile = SegmentProfile(
        segment_id=0,
        name="",
        size=100,
        share=0.25,
        numeric=(
            NumericTrait("MntWines", 612.0, 227.0, 2.7, 1.4, "Spend on wines"),
            NumericTrait("Income", 40000.0, 50000.0, 0.8, -0.6, "Income"),
            NumericTrait("Recency", 50.0, 49.0, 1.02, 0.03, "Recency"),
        ),
        categories=(CategoryTrait("Kids", "Yes", 0.62, 0.28, 2.2, "Children at home"),),
        keywords=(),
        examples=(),
    )
    statements = describe_traits(profile, {"Income": "Yearly income"})
    texts = [s.text for s in statements]
    assert texts[0] == "Spends 2.7× the average on wines (612 against 227)"
    assert "Children at home: Yes for 62%, against 28% overall" in texts
    assert "Yearly income: 20% below average (40,000 against 50,000)" in texts
    assert all("Recency" not in t for t in texts)  # too close to everyone to chart
    assert [s.kind for s in statements].count("category") == 1
    assert statements[0].strong and statements[0].strength > 0
    assert next(s for s in statements if "income" in s.text).strength < 0
    strengths = [abs(s.strength) for s in statements]
    assert strengths == sorted(strengths, reverse=True)


def test_profiles_written_before_labels_still_open() -> None:
    old = {
        "segment_id": 1,
        "name": "high MntWines",
        "size": 5,
        "share": 0.5,
        "numeric": [
            {
                "column": "MntWines",
                "segment_mean": 2.0,
                "overall_mean": 1.0,
                "lift": 2.0,
                "z": 1.0,
            }
        ],
        "categories": [
            {
                "column": "plan",
                "value": "Gold",
                "segment_share": 0.5,
                "overall_share": 0.2,
                "lift": 2.5,
            }
        ],
        "keywords": ["wine"],
        "examples": [],
    }
    profile = SegmentProfile.from_dict(old)
    assert profile.numeric[0].label == "Spend on wines"
    assert profile.keyword_lift == ()
    assert SegmentProfile.from_dict(profile.to_dict()) == profile


def test_edited_labels_rename_without_recomputing() -> None:
    income = NumericTrait("Income", 80000.0, 50000.0, 1.6, 1.5, "Income")
    profile = SegmentProfile(0, "", 10, 0.5, (income,), (), (), ())
    [renamed] = name_profiles([profile], {"Income": "Yearly earnings"})
    assert renamed.name == "High yearly earnings"
    assert renamed.numeric[0].label == "Yearly earnings"
    assert describe_traits(renamed)[0].text.startswith("Yearly earnings: 1.6× the average")


def test_a_phrase_names_a_segment_rather_than_its_words_in_reverse() -> None:
    small = ["This dress runs small", "The top runs small in the chest", "Runs small, size up"]
    fabric = [f"The {item} fabric is cheap and thin" for item in ("dress", "top", "skirt")]
    docs = small * 4 + fabric * 4
    labels = np.array([0] * 12 + [1] * 12)
    keywords = class_tfidf_keywords(docs, labels)
    assert keywords[0][0] == "runs small"  # not "small", then "runs"
    assert name_segment(list(keywords[0]), [], [], 0).startswith("Runs small")


def test_a_segment_where_few_wrote_is_not_named_by_their_words() -> None:
    # Segment 0: 40 customers, 12 of whom wrote about a payoff statement (a word no one
    # else uses); segment 1: 20 customers who all wrote. A sample of the texts counts
    # the writers as the whole table would.
    docs = ["payoff statement delayed again"] * 12 + [""] * 28
    docs += [f"debt collector calls {i % 3}" for i in range(20)]
    labels = np.array([0] * 40 + [1] * 20)
    for max_rows in (1000, 16):
        terms = count_terms(docs, max_rows=max_rows)
        assert terms is not None and terms.population == 32
        lifts = keyword_lifts(labels, {0: ("payoff statement",), 1: ("debt",)}, terms)
        assert lifts[0] == (0.0,) and lifts[1][0] > 1.5


def test_a_name_does_not_say_one_measure_twice() -> None:
    score = NumericTrait("f_score", 1.4, 2.9, 0.48, -1.2, "Frequency score (1-5)")
    frequency = NumericTrait("frequency", 2.0, 6.0, 0.33, -1.1, "Frequency")
    kids = NumericTrait("Kidhome", 1.5, 0.6, 2.5, 1.0, "Kids at home")
    name = name_segment([], [score, frequency, kids], [], 0)
    assert name.lower().count("frequency") == 1 and "kids at home" in name.lower()


def test_a_segment_where_almost_no_one_wrote_says_so_in_its_name() -> None:
    # A complaints export with sparse narratives: segment 0 is customers who wrote nothing
    # (grouped by their product), segment 1 wrote about debt collectors.
    rng = np.random.default_rng(0)
    docs = [""] * 60 + [f"debt collector keeps calling me {i % 4}" for i in range(40)]
    labels = np.array([0] * 60 + [1] * 40)
    product = ["Mortgage"] * 57 + ["Debt collection"] * 3 + ["Debt collection"] * 40
    categorical = pd.DataFrame({"Product": product})
    numeric = pd.DataFrame({"Age": rng.normal(40, 5, 100)})
    profiles = profile_segments(docs, labels, numeric, categorical)
    silent, writers = profiles
    assert silent.writer_share == 0.0 and writers.writer_share == 1.0
    assert silent.name.startswith("No comments · ") and "Mortgage" in silent.name
    assert not writers.name.startswith(("No comments", "Few comments"))
    assert len(silent.name) <= 40
    # Kept through the JSON form and renaming from edited labels.
    again = SegmentProfile.from_dict(silent.to_dict())
    assert again.writer_share == 0.0
    assert name_profiles([again], {"Product": "Product"})[0].name.startswith("No comments")


def test_tables_without_text_never_say_no_comments() -> None:
    labels = np.array([0] * 20 + [1] * 20)
    numeric = pd.DataFrame({"Income": [20_000.0] * 20 + [90_000.0] * 20})
    profiles = profile_segments([""] * 40, labels, numeric)
    assert all(p.writer_share is None for p in profiles)
    assert all("comments" not in p.name for p in profiles)


def test_names_with_the_same_parts_in_another_order_count_as_the_same_name() -> None:
    base = dict(size=10, share=0.5, numeric=(), categories=(), examples=())
    profiles = [
        SegmentProfile(segment_id=0, name="", keywords=("usual size", "sleeves"), **base),
        SegmentProfile(segment_id=1, name="", keywords=("sleeves", "usual size"), **base),
    ]
    first, second = (p.name for p in name_profiles(profiles))
    assert first == "Usual size & sleeves"
    assert second not in {"Sleeves & usual size", first}


@pytest.mark.parametrize(
    ("column", "mean", "overall", "expected"),
    [
        ("Year_Birth", 1982.0, 1969.0, "Younger"),
        ("Year_Birth", 1955.0, 1969.0, "Older"),
        ("Recency", 12.0, 49.0, "Bought recently"),
        ("recency_days", 300.0, 90.0, "Not bought lately"),
        ("NumWebVisitsMonth", 8.0, 5.0, "Many web visits last month"),
    ],
)
def test_campaign_table_columns_are_named_as_their_makers_meant_them(
    column: str, mean: float, overall: float, expected: str
) -> None:
    z = 1.0 if mean > overall else -1.0
    trait = NumericTrait(column, mean, overall, mean / overall, z, column_label(column))
    assert describe_numeric(trait) == expected


def test_a_year_is_said_as_a_year() -> None:
    born = NumericTrait("Year_Birth", 1979.2, 1967.4, 1979.2 / 1967.4, 0.9, "Year of birth")
    profile = SegmentProfile(
        segment_id=0,
        name="",
        size=10,
        share=0.5,
        numeric=(born,),
        categories=(),
        keywords=(),
        examples=(),
    )
    text = describe_traits(profile)[0].text
    assert "1979 against 1967" in text and "1,979" not in text and "later" in text
