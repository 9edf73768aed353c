"""Next best offers: lift with support, multi-item cells, and where they are used."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from segmenter.campaign import CampaignBrief, build_messages
from segmenter.export import profiles_json
from segmenter.offers import describe_offer, next_best_offers, offer_columns
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
    assert "Holds or buys more than other customers: Premium (plan), 100% against 50%" in prompt
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
