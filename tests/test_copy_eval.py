"""bench/copy_eval.py: its detectors find planted problems and pass clean copy, and its
drafting loop runs with the fake generator (and, marked ``model``, with SmolLM2)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmenter.profile import SegmentProfile, profile_segments
from tests.conftest import THEMES, FakeGenerator, make_customers

ROOT = Path(__file__).resolve().parents[1]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("copy_eval", ROOT / "bench" / "copy_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["copy_eval"] = module
    spec.loader.exec_module(module)
    return module


ce = _load_bench()
LABELS = {"MntFruits": "Spend on fruit", "Income": "Income", "monthly_spend": "Monthly spend"}


def found_in(
    text: str,
    *,
    channel: str = "sms",
    offer: str = "free delivery for a month",
    expected: str = "en",
) -> dict[str, Any]:
    found: dict[str, Any] = ce.detect(
        {"text": text}, channel=channel, offer=offer, labels=LABELS, expected=expected,
        terms={"wine", "deliv"},
    )  # fmt: skip
    return found


# --- the detectors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "detector", "expected"),
    [
        ("Dear [Customer Name], we miss you.", "placeholders", "en"),
        ("Hi {first_name}, come back!", "placeholders", "en"),
        ("Come back for 20% off today.", "invented", "en"),
        ("We offer free returns on every order.", "invented", "en"),
        ("Save $5 on your next basket.", "invented", "en"),
        ("Your report is processed within a few business days.", "invented", "en"),
        ("回来吧，全场包邮！", "invented", "zh"),
        ("Enjoy our products, including MntFruits and more.", "raw_columns", "en"),
        ("Your monthly_spend shows you love us.", "raw_columns", "en"),
        ("Please suppress the specified items from my credit report.", "wrong_voice", "en"),
        ("Come back to us #ReturnItForFree", "hashtags", "en"),
        ("欢迎回来，我们改进了质量 #质量问题", "hashtags", "zh"),
        ("Welcome back, we have improved our quality.", "wrong_language", "zh"),
        ("欢迎回来，我们改进了质量和服务，期待您的光临。", "wrong_language", "en"),
    ],
)
def test_detectors_find_planted_problems(text: str, detector: str, expected: str) -> None:
    found = found_in(text, expected=expected)
    assert found[detector], (detector, found)
    assert not ce.clean(found)


@pytest.mark.parametrize(
    ("text", "offer", "expected", "channel"),
    [
        ("We miss you. Enjoy free delivery for a month on your next wine order.",
         "free delivery for a month", "en", "sms"),
        ("Thanks for being with us. Take 15% off your next order.",
         "15% off your next order", "en", "email"),
        ("欢迎回来，全场9折，期待您的光临。", "全场9折", "zh", "push"),
        ("New season picks for wine lovers #WineTime", "", "en", "ad"),
        ("Northwind: we fixed late deliveries. Reply STOP to opt out", "", "en", "sms"),
    ],
)  # fmt: skip
def test_detectors_pass_clean_copy(text: str, offer: str, expected: str, channel: str) -> None:
    found = found_in(text, channel=channel, offer=offer, expected=expected)
    assert ce.clean(found), found


def test_copy_that_repeats_a_customer_quote_speaks_as_the_customer() -> None:
    quotes = ["包装完美，物流快速，朋友推荐的，有点失望，不会再买了。订单261号"]
    taken = ce.customer_voice("朋友推荐的，有点失望，不会再买了。", quotes)
    assert taken and taken[0].startswith("quote:")
    assert not ce.customer_voice("包装完美，物流快速，欢迎再次光临！", quotes)  # their words, brief
    assert ce.customer_voice("I just noticed late payments on my reports that are not mine")


def test_grounding_matches_content_words_and_not_the_offer_alone() -> None:
    profile = themed_profiles()[0]  # delivery
    terms = ce.grounding_terms(profile)
    assert terms
    keyword = profile.keywords[0]
    assert ce.grounded(f"We heard you about {keyword}.", terms)
    assert not ce.grounded("Hello there, nice to see you again.", terms)
    # A term that only arrives through the brief's offer does not make a draft grounded.
    word = next(t for t in terms if t.isascii())
    assert not ce.grounded(f"Enjoy {word}s now", terms, offer=f"{word}s")


def test_expected_script_follows_the_segment_quotes_then_the_columns() -> None:
    [english] = themed_profiles()[:1]
    chinese = SegmentProfile(
        segment_id=1, name="质量", size=5, share=0.1, numeric=(), categories=(), keywords=(),
        examples=("质量太差了", "物流很慢"), language="zh",
    )  # fmt: skip
    no_text = SegmentProfile(
        segment_id=2, name="x", size=5, share=0.1, numeric=(), categories=(), keywords=(),
        examples=(),
    )  # fmt: skip
    assert ce.expected_script(english, ["a"]) == "en"
    assert ce.expected_script(chinese, ["a"]) == "zh"
    assert ce.expected_script(no_text, ["评分", "类别"]) == "zh"
    assert ce.expected_script(no_text, ["Income", "Recency"]) == "en"
    long_english = "The parcel arrived three days late and the box was crushed on one side."
    mostly_chinese = dataclasses.replace(chinese, examples=("质量太差了", "物流很慢", long_english))
    assert ce.expected_script(mostly_chinese, ["a"]) == "zh"  # two quotes of three
    even = dataclasses.replace(chinese, examples=("质量太差了", long_english))
    assert ce.expected_script(even, ["a"]) == "any"
    assert not ce.wrong_language("Welcome back.", "any") and not ce.wrong_language(
        "欢迎回来", "any"
    )


def test_distinctness_compares_segments_with_variants() -> None:
    records = [
        {"table": "t", "channel": "sms", "segment_id": 0, "text": "Fast delivery is back"},
        {"table": "t", "channel": "sms", "segment_id": 0, "text": "Fast delivery is back!"},
        {"table": "t", "channel": "sms", "segment_id": 1, "text": "Lower prices on plans"},
        {"table": "t", "channel": "email", "segment_id": 1, "text": "Fast delivery is back"},
    ]
    sims = ce.distinctness(records)
    assert sims["pairs_same"] == 1 and sims["pairs_different"] == 2  # channels not mixed
    assert sims["same_segment"] > 0.8 and sims["different_segments"] < 0.5


# --- the drafting loop with the fake generator ----------------------------------------------


def themed_profiles() -> list[SegmentProfile]:
    """One profile per theme of the synthetic customers (0 delivery, 1 price, 2 support)."""
    frame = make_customers(30)
    labels = frame["theme"].map({t: i for i, t in enumerate(THEMES)}).to_numpy()
    numeric = pd.DataFrame({"spend": frame["spend"].astype(float)})
    return profile_segments(
        frame["feedback"].tolist(), labels, numeric, frame[["plan"]],
        distances=np.ones(len(frame)),
    )  # fmt: skip


def segmented(profiles: list[SegmentProfile], offer: str = "free delivery for a month") -> Any:
    case = ce.TableCase("themes", lambda: pd.DataFrame(), "win_back", offer)
    labels = {"spend": "Spend", "plan": "Plan", "monthly_spend": "Monthly spend"}
    return ce.Segmented(case, profiles, labels, ["feedback", "spend", "plan"])


def test_eval_counts_planted_problems_from_the_copy_not_the_app_checks() -> None:
    profiles = themed_profiles()
    bad = "Dear [Name], your monthly_spend earns 20% off #SaleNow"

    def reply_for(conversation: list[dict[str, str]]) -> str:
        prompt = " ".join(m["content"] for m in conversation)
        keys = (fake.schemas[-1] or {}).get("required", ["text"])
        good = f"We fixed {profiles[0].keywords[0]} for you. Come back today."
        segment_two = profiles[1].keywords[0] in prompt and profiles[0].keywords[0] not in prompt
        return json.dumps(dict.fromkeys(keys, bad if segment_two else good))

    fake = FakeGenerator(reply_for=reply_for)
    records = ce.eval_table(segmented(profiles[:2]), fake, ["sms"], segments=2, variants=1)
    assert [r["segment_id"] for r in records] == [p.segment_id for p in profiles[:2]]
    summary = ce.summarise(records)
    assert summary["drafts"] == 2
    for key in ("placeholders", "invented", "raw_columns", "hashtags"):
        assert summary[key] == 1, (key, records[1]["found"])
    assert summary["wrong_voice"] == 0 and summary["wrong_language"] == 0
    assert summary["final_pass"] <= 0.5
    assert records[0]["found"]["grounded_on"] and summary["grounding"] >= 0.5
    assert all(r["first_token_s"] is not None and r["calls"] >= 1 for r in records)


def test_eval_variants_feed_the_same_segment_baseline() -> None:
    profiles = themed_profiles()
    records = ce.eval_table(segmented(profiles), FakeGenerator(), ["sms"], segments=2, variants=2)
    assert len(records) == 4 and {r["variant"] for r in records} == {1, 2}
    summary = ce.summarise(records)
    assert summary["similarity_pairs_same"] == 2 and summary["similarity_pairs_different"] == 4


# --- the real small model ------------------------------------------------------------------


@pytest.mark.model
def test_copy_eval_runs_with_smollm2_on_two_drafts() -> None:
    from segmenter.lm import SMALL_GENERATOR, get_generator

    generator = get_generator(SMALL_GENERATOR)
    records = ce.eval_table(
        segmented(themed_profiles()[:1]), generator, ["sms", "push"], segments=1, variants=1
    )
    assert len(records) == 2
    for record in records:
        assert record["seconds"] > 0 and record["first_token_s"] is not None
        assert set(ce.COUNTED) <= set(record["found"])
    summary = ce.summarise(records)
    assert 0.0 <= summary["final_pass"] <= summary["app_checks_pass"] <= 1.0
    assert summary["first_try_pass"] <= summary["final_pass"]


def test_a_field_cut_mid_phrase_keeps_the_draft_from_the_final_pass() -> None:
    fields = {"subject": "We miss you", "call_to_action": "Upgrade to our premium…"}
    assert ce.cut_short(fields) == ["call_to_action"]
    assert ce.cut_short({"call_to_action": "Come back and see"}) == []
    found = {"empty": False, **{k: [] for k in ce.COUNTED}, "cut_short": ["call_to_action"]}
    assert not ce.clean(found)
    assert ce.clean({**found, "cut_short": []})


def test_eval_checks_that_past_results_reach_every_prompt() -> None:
    from segmenter.results import analyse, results_from_columns

    profiles = themed_profiles()
    n = 300
    frame = pd.DataFrame({"AcceptedCmp1": ["1" if i % 4 == 0 else "0" for i in range(n)]})
    labels = np.array([p.segment_id for p in profiles] * (n // len(profiles)))
    results = results_from_columns(frame, [str(i) for i in range(n)], labels, ["AcceptedCmp1"])
    table = segmented(profiles)
    table.results = analyse(results, {p.segment_id: p.name for p in profiles})
    records = ce.eval_table(table, FakeGenerator(), ["sms"], segments=2, variants=1)
    assert all(r["past_results"] for r in records)
    assert all(r["past_results_in_prompt"] and r["informed_by"] for r in records)
    assert ce.summarise(records)["past_results_reached_prompt"] == 1.0
    assert ce.summarise(records)["drafts_with_past_results"] == 2
