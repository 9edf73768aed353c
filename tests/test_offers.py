"""Next best offers: lift with support, multi-item cells, and where they are used."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from segmenter.campaign import CampaignBrief, build_messages
from segmenter.export import profiles_json
from segmenter.offers import (
    count_items,
    describe_offer,
    is_list_column,
    next_best_offers,
    offer_columns,
    offers_from_counts,
)
from segmenter.profile import SegmentProfile


def test_offer_columns_are_found_by_name() -> None:
    columns = ["customer_id", "plan", "Product Category", "products_bought", "age", "explanation"]
    assert offer_columns(columns) == ["plan", "Product Category", "products_bought"]


def test_offers_need_lift_and_support() -> None:
    frame = pd.DataFrame(
        {"plan": ["Premium"] * 8 + ["Basic"] * 2 + ["Basic"] * 9 + ["Premium"] * 1 + ["Gold"]}
    )
    labels = np.array([0] * 10 + [1] * 10 + [-1])
    offers = next_best_offers(frame, labels, ["plan"])
    assert [o.value for o in offers[0]] == ["Premium"]
    assert offers[0][0].support == 0.8 and offers[0][0].overall == 0.45
    assert round(offers[0][0].lift, 2) == round(0.8 / 0.45, 2)
    assert [o.value for o in offers[1]] == ["Basic"]
    assert "Gold" not in {o.value for group in offers.values() for o in group}  # unsegmented
    assert describe_offer(offers[0][0]).startswith("Premium (plan): 80% of the segment")


def test_cells_listing_several_products_count_each_product() -> None:
    frame = pd.DataFrame(
        {"products": ["kettle; mug", "kettle, toaster", "mug", "yoga mat | towel", "yoga mat"]}
    )
    offers = next_best_offers(frame, np.array([0, 0, 0, 1, 1]), ["products"], min_support=0.3)
    assert {o.value for o in offers[0]} == {"kettle", "mug", "toaster"}
    assert {o.value for o in offers[1]} == {"yoga mat", "towel"}


def test_offers_reach_the_prompt_and_survive_profiles_json() -> None:
    [offer] = next_best_offers(
        pd.DataFrame({"plan": ["Premium"] * 6 + ["Basic"] * 6}),
        np.array([0] * 6 + [1] * 6),
        ["plan"],
    )[0]
    profile = SegmentProfile(0, "Fans", 6, 0.5, (), (), ("quality",), ("Love it",), "en", (offer,))
    prompt = build_messages(profile, CampaignBrief())[1]["content"]
    # The column may be shown by its readable label ("Plan"): compare without case.
    expected = "holds or buys more than other customers: premium (plan), 100% against 50%"
    assert expected in prompt.lower()
    [again] = [SegmentProfile.from_dict(d) for d in json.loads(profiles_json([profile]))]
    assert again == profile


def test_a_segmentation_run_profiles_carry_offers(customers, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from segmenter.config import ClusterConfig, EmbedConfig
    from segmenter.ingest import detect_schema, load_table
    from segmenter.pipeline import run_segmentation

    data = customers.drop(columns=["theme"]).to_csv(index=False).encode()
    loaded = load_table(data, "customers.csv")
    run = run_segmentation(
        loaded,
        detect_schema(loaded.frame),
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=3, random_state=0),
    )
    offers = {o.value for p in run.result.profiles for o in p.offers}
    assert offers == {"premium", "basic"}  # support customers hold premium, the rest basic


PRODUCT_WITH_COMMAS = "Credit reporting, credit repair services, or other personal consumer reports"


def test_a_product_name_with_commas_stays_one_offer() -> None:
    # Shaped like the consumer-complaints Product column: the long name fills most rows.
    frame = pd.DataFrame(
        {"Product": [PRODUCT_WITH_COMMAS] * 9 + ["Debt collection"] * 3 + ["Mortgage"] * 8}
    )
    labels = np.array([0] * 10 + [1] * 10)
    offers = next_best_offers(frame, labels, ["Product"])
    assert [o.value for o in offers[0]] == [PRODUCT_WITH_COMMAS]
    values = {o.value for group in offers.values() for o in group}
    assert not values & {"credit repair services", "or other personal consumer reports"}
    assert not is_list_column([PRODUCT_WITH_COMMAS, "Debt collection", "Mortgage"], [9, 3, 8])


def test_a_list_column_is_split_only_when_most_cells_list_recurring_items() -> None:
    cells = ["kettle; mug", "mug, toaster", "kettle | toaster", "mug"]
    assert is_list_column(cells, [1, 1, 1, 1])
    assert not is_list_column(cells, [1, 1, 1, 9])  # most rows hold one item: not a list
    assert not is_list_column(["a, b", "c, d"], [5, 5])  # items never recombine


def test_list_decision_is_the_same_for_batches_as_for_the_whole_table() -> None:
    # The Ray engine counts batches and merges them; the split is decided after the merge.
    cells = pd.Series(["kettle; mug", "mug", "kettle, toaster", "yoga mat | towel", "yoga mat"])
    labels = np.array([0, 0, 0, 1, 1])
    whole = count_items("products", cells, labels, 2)
    parts = count_items("products", cells[:2], labels[:2], 2).merge(
        count_items("products", cells[2:].reset_index(drop=True), labels[2:], 2, first_row=2)
    )
    assert offers_from_counts([whole], [0, 1], min_support=0.3) == offers_from_counts(
        [parts], [0, 1], min_support=0.3
    )
    assert {o.value for o in offers_from_counts([parts], [0, 1], min_support=0.3)[1]} == {
        "yoga mat",
        "towel",
    }
