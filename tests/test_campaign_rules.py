"""Issue 16's rules for copy, each proved with a fake generator: what the grammar makes
impossible, what the app adds, and what the checks catch when a server ignores grammars."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from segmenter.campaign import (
    BrandProfile,
    CampaignBrief,
    brief_language,
    build_messages,
    draft_campaign,
    draft_reply,
    edited,
)
from segmenter.campaign.checks import copy_problems, quoted_problems
from segmenter.campaign.rules import PROMISE_WORDS, escalation_reasons, fill_offer, has_slot
from segmenter.profile import SegmentProfile, profile_segments
from tests.conftest import FakeGenerator
from tests.test_campaign import themed_profiles

RAW_COLUMNS = ("MntWines", "MntFruits", "MntSweetProducts", "Kidhome", "NumWebPurchases")


def campaign_profiles(columns: tuple[str, ...] = RAW_COLUMNS) -> list[SegmentProfile]:
    """A campaign-response table with spend columns and no text, in three segments."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    frame = pd.DataFrame(
        {
            column: rng.normal(100, 20, 120) + np.where(labels == i % 3, 300, 0)
            for i, column in enumerate(columns)
        }
    )
    return profile_segments([""] * 120, labels, frame, None)


def answer(**fields: str) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_every_copy_field_has_a_pattern_that_forbids_placeholders_numbers_and_money() -> None:
    generator = FakeGenerator()
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="email"), generator)
    schema = generator.schemas[-1]
    for name, prop in schema["properties"].items():
        pattern = re.compile(prop["pattern"])
        assert pattern.fullmatch("We miss you, come back soon."), name
        for bad in ("Dear [Name],", "{first_name}", "<b>", "Save 20 today", "Half off 50%",
                    "Only $5", "£5", "¥", "#ComeBack"):  # fmt: skip
            assert not pattern.fullmatch(bad), (name, bad)


def test_hashtags_are_allowed_by_the_grammar_only_in_social_ads() -> None:
    generator = FakeGenerator()
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="ad"), generator)
    assert re.fullmatch(generator.schemas[-1]["properties"]["primary_text"]["pattern"], "#New")
    assert not re.fullmatch(generator.schemas[-1]["properties"]["primary_text"]["pattern"], "$")


def test_a_hashtag_outside_ads_is_rejected_when_a_server_ignores_the_grammar() -> None:
    generator = FakeGenerator(replies=[answer(text="Come back to us. #质量问题")])
    [draft] = draft_campaign(themed_profiles()[0], CampaignBrief(channel="sms"), generator)
    assert len(generator.prompts) == 2  # retried with the failure spelt out
    assert "#" in generator.prompts[1][-1]["content"]
    assert any('"#"' in p for p in draft.problems)


def test_the_offer_enters_through_the_slot_with_its_exact_text() -> None:
    offer = "20% off your next case of wine"
    generator = FakeGenerator(replies=[answer(text="We saved your favourites. @OFFER is yours.")])
    brief = CampaignBrief(channel="sms", offer=offer, brand=BrandProfile(sms_opt_out=""))
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.ok, draft.problems
    assert draft.fields["text"] == f"We saved your favourites. {offer} is yours."
    prompt = generator.prompts[0][0]["content"]
    assert "@OFFER" in prompt and offer in prompt


def test_copy_without_the_offer_or_with_a_slot_but_no_offer_fails() -> None:
    assert any(
        "does not mention the offer" in p
        for p in copy_problems({"text": "Come back."}, channel="sms", offer="20% off")
    )
    assert any(
        "@OFFER" in p for p in copy_problems({"text": "Come back for @OFFER."}, channel="sms")
    )


def test_promise_words_outside_the_offer_are_retried_then_removed() -> None:
    generator = FakeGenerator(
        replies=[answer(text="We miss you. Enjoy free returns on us. Come back today.")]
    )
    brief = CampaignBrief(channel="sms", brand=BrandProfile(sms_opt_out=""))
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert len(generator.prompts) == 2
    assert "free" in generator.prompts[1][-1]["content"]
    assert draft.fields["text"] == "We miss you. Come back today."
    assert any("removed" in p and "free" in p for p in draft.problems)


def test_the_offers_own_promise_words_are_allowed() -> None:
    fields = {"text": "Free shipping is back: @OFFER.".replace("@OFFER", "free shipping")}
    assert copy_problems(fields, channel="sms", offer="free shipping") == []
    assert "免费" in PROMISE_WORDS and "包邮" in PROMISE_WORDS  # one list, both languages


def test_the_prompt_for_a_campaign_table_holds_no_raw_column_names() -> None:
    profiles = campaign_profiles()
    for profile in profiles:
        for channel in ("email", "sms"):
            prompt = "\n".join(
                m["content"] for m in build_messages(profile, CampaignBrief(channel=channel))
            )
            for column in RAW_COLUMNS:
                assert column not in prompt, (column, prompt)
    # The facts are there, in readable labels.
    prompt = "\n".join(m["content"] for m in build_messages(profiles[0], CampaignBrief()))
    assert "wines" in prompt.lower()


def test_a_raw_column_name_in_the_copy_is_rejected() -> None:
    generator = FakeGenerator(
        replies=[answer(subject="Hi", body="We love your MntFruits taste.", call_to_action="Go")]
    )
    [draft] = draft_campaign(campaign_profiles()[1], CampaignBrief(channel="email"), generator)
    assert any("MntFruits" in p for p in draft.problems)


def test_the_fixed_prefix_is_byte_identical_across_segments() -> None:
    brief = CampaignBrief(channel="email", goal="loyalty", offer="early access")
    first, second, _ = themed_profiles()
    a, b = build_messages(first, brief), build_messages(second, brief)
    assert a[0] == b[0]  # the system message: rules, brief, example
    assert a[1] != b[1]  # the segment comes last
    assert "Shape, in this order" in a[0]["content"] and "Example" in a[0]["content"]


def test_brand_profile_reaches_the_prompt_and_banned_words_are_checked() -> None:
    brand = BrandProfile(
        brand_name="Vina Market", voice_notes="plain words", banned_words=("cheap",)
    )
    generator = FakeGenerator(replies=[answer(text="Cheap wine is back. Come see.")])
    [draft] = draft_campaign(
        themed_profiles()[0], CampaignBrief(channel="sms", brand=brand), generator
    )
    system = generator.prompts[0][0]["content"]
    assert "Vina Market" in system and "plain words" in system and "cheap" in system
    assert any("banned word" in p for p in draft.problems)


def test_the_old_brand_voice_fills_the_brand_profile() -> None:
    assert CampaignBrief(brand_voice="dry wit").brand.voice_notes == "dry wit"


def test_the_sms_opt_out_is_added_by_the_app_when_it_fits() -> None:
    generator = FakeGenerator(replies=[answer(text="We miss you. Come back today.")])
    [draft] = draft_campaign(themed_profiles()[0], CampaignBrief(channel="sms"), generator)
    assert draft.fields["text"] == "We miss you. Come back today. Reply STOP to opt out"
    assert "Reply STOP" not in generator.prompts[0][0]["content"]  # not the model's job
    long = "We miss you. " + "Come back today, we kept everything ready for you " * 3
    generator = FakeGenerator(replies=[answer(text=long.strip()[:158])])
    brief = CampaignBrief(channel="sms", brand=BrandProfile(sms_opt_out="Reply STOP to opt out"))
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert len(draft.fields["text"]) <= 160


def test_an_email_gets_the_brands_signature() -> None:
    brand = BrandProfile(sender_name="Maya at Vina", sign_off="Warm regards")
    generator = FakeGenerator(
        replies=[answer(subject="Hi", body="Come back.", call_to_action="Go")]
    )
    [draft] = draft_campaign(themed_profiles()[0], CampaignBrief(brand=brand), generator)
    assert draft.fields["body"] == "Come back.\n\nWarm regards,\nMaya at Vina"


def test_chinese_copy_gets_no_english_sign_off_and_a_chinese_opt_out() -> None:
    brand = BrandProfile(sender_name="小林", sign_off="Best wishes")
    generator = FakeGenerator(
        replies=[answer(subject="想念您", body="欢迎回来看看新品。", call_to_action="去看看")]
    )
    brief = CampaignBrief(language="zh", brand=brand)
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.fields["body"] == "欢迎回来看看新品。\n\n小林"
    assert any('sign-off "Best wishes"' in p for p in draft.problems)
    generator = FakeGenerator(replies=[answer(text="欢迎回来，新品已上架。")])
    [draft] = draft_campaign(
        themed_profiles()[0], CampaignBrief(channel="sms", language="zh"), generator
    )
    assert draft.fields["text"] == "欢迎回来，新品已上架。回T退订"
    assert not draft.problems
    english_only = BrandProfile(sms_opt_out="Text STOP to end")
    generator = FakeGenerator(replies=[answer(text="欢迎回来，新品已上架。")])
    brief = CampaignBrief(channel="sms", language="zh", brand=english_only)
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert "STOP" not in draft.fields["text"]
    assert any('opt-out "Text STOP to end"' in p for p in draft.problems)


def test_a_table_without_text_is_written_in_its_column_names_language() -> None:
    english = campaign_profiles()[0]
    assert english.language == "other"
    assert brief_language(CampaignBrief(), english) == "English"
    chinese = campaign_profiles(("葡萄酒消费", "水果消费", "家中儿童"))[0]
    assert brief_language(CampaignBrief(), chinese) == "Simplified Chinese"
    prompt = build_messages(english, CampaignBrief())[0]["content"]
    assert "customer quotes" not in prompt.split("Write in")[1][:40]


def test_copy_in_the_wrong_script_is_rejected() -> None:
    assert copy_problems({"text": "Come back soon."}, channel="sms", language="Simplified Chinese")
    assert not copy_problems({"text": "欢迎回来。"}, channel="sms", language="Simplified Chinese")
    assert copy_problems({"text": "欢迎回来，我们想你。"}, channel="sms", language="English")


def test_a_reply_speaks_as_the_brand_and_promises_no_unstated_timeline() -> None:
    bad = "We will suppress the specified items from my credit report within a few business days."
    generator = FakeGenerator(replies=[answer(reply=bad)])
    result = draft_reply("Someone used my identity to open a card.", generator)
    assert len(generator.prompts) == 2
    retry = generator.prompts[1][-1]["content"]
    assert "speaks as the customer" in retry and "time frame" in retry
    assert not result.ok


def test_a_timeline_the_policy_states_is_allowed() -> None:
    brand = BrandProfile(policy_text="We answer within 2 business days.")
    generator = FakeGenerator(
        replies=[answer(reply="We are sorry. We answer within 2 business days.")]
    )
    result = draft_reply("My order is late.", generator, brand=brand)
    assert result.ok, result.problems
    assert "We answer within 2 business days" in generator.prompts[0][1]["content"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("Someone stole my identity and opened this account; identity theft.", "identity theft"),
        ("I will take legal action and call my lawyer.", "legal"),
        ("There is an unauthorized charge on my card, this is fraud.", "fraud"),
        ("The charger caught fire and burned my hand.", "safety"),
        ("有人冒用我的身份开了账户。", "identity theft"),
        ("我要起诉你们，已经找了律师。", "legal"),
        ("我的卡被盗刷了。", "fraud"),
        ("充电器起火了，孩子受伤。", "safety"),
    ],
)
def test_legal_fraud_identity_and_safety_complaints_are_flagged_for_a_human(
    message: str, reason: str
) -> None:
    assert reason in escalation_reasons(message)
    result = draft_reply(message, FakeGenerator(replies=[answer(reply="We are sorry.")]))
    assert reason in result.needs_human


def test_an_ordinary_complaint_is_not_flagged() -> None:
    result = draft_reply("Delivery was slow.", FakeGenerator(replies=[answer(reply="Sorry.")]))
    assert result.needs_human == ()


def test_an_offer_the_model_forgot_twice_is_added_by_the_app() -> None:
    generator = FakeGenerator(replies=[answer(text="We miss you. Come back today.")])
    brief = CampaignBrief(channel="sms", offer="15% off", brand=BrandProfile(sms_opt_out=""))
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert len(generator.prompts) == 2  # asked once to use the slot
    assert draft.fields["text"] == "We miss you. Come back today. 15% off."
    assert draft.ok


def test_only_the_main_field_can_hold_the_offer_slot() -> None:
    generator = FakeGenerator()
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="email", offer="15% off"), generator)
    patterns = {k: v["pattern"] for k, v in generator.schemas[-1]["properties"].items()}
    assert re.fullmatch(patterns["body"], "Come back for @OFFER.")
    assert not re.fullmatch(patterns["call_to_action"], "@OFFER now")
    assert not re.fullmatch(patterns["subject"], "@OFFER inside")


def test_cutting_to_fit_never_removes_the_offer() -> None:
    offer = "满200减30"
    text = (
        "想念您！"
        + "我们的葡萄酒和水果都很新鲜，品种也更多了，快来看看吧。" * 3
        + "回来即享 @OFFER。"
    )
    generator = FakeGenerator(replies=[answer(text=text)])
    brief = CampaignBrief(
        channel="sms", language="zh", offer=offer, brand=BrandProfile(sms_opt_out="")
    )
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert len(text) > 70
    assert offer in draft.fields["text"] and len(draft.fields["text"]) <= 70
    assert draft.fields["text"].endswith(f"回来即享 {offer}。")


def test_copy_that_talks_about_the_data_is_rejected() -> None:
    assert copy_problems({"text": "您的葡萄酒消费低于平均水平。"}, channel="sms")
    assert copy_problems({"text": "You spend less than average on fruit."}, channel="sms")
    assert not copy_problems({"text": "Fresh fruit is back."}, channel="sms")


def test_fractions_and_circled_numbers_are_digits_too() -> None:
    generator = FakeGenerator()
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="sms"), generator)
    pattern = generator.schemas[-1]["properties"]["text"]["pattern"]
    for bad in ("约⅔", "②", "m²", "½ price"):
        assert not re.fullmatch(pattern, bad), bad


def test_data_talk_is_removed_and_the_draft_is_judged_as_handed_on() -> None:
    text = "Your wines are exceptional! You spend more than our average on them. @OFFER"
    generator = FakeGenerator(replies=[answer(title="Thank you", body=text)])
    brief = CampaignBrief(channel="push", goal="loyalty", offer="free delivery this month")
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.fields["body"] == "Your wines are exceptional! Free delivery this month"
    assert not any("talks about our data" in p for p in draft.problems)  # it was removed
    assert any(p.startswith("removed from") for p in draft.problems)  # and said so


def test_a_slot_cut_short_by_the_grammar_is_still_filled() -> None:
    generator = FakeGenerator(replies=[answer(title="Thanks", body="We value you. @OFF")])
    brief = CampaignBrief(channel="push", goal="loyalty", offer="free delivery this month")
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.fields["body"] == "We value you. Free delivery this month"
    assert "@" not in draft.fields["body"]


def test_the_model_is_kept_from_writing_promise_words_the_offer_does_not_say() -> None:
    generator = FakeGenerator(replies=[json.dumps({"text": "Come back and see @OFFER."})])
    brief = CampaignBrief(
        channel="sms", offer="free delivery this month", brand=BrandProfile(banned_words=("cheap",))
    )
    draft_campaign(themed_profiles()[0], brief, generator)
    avoided = set(generator.avoided[0])
    assert {"discount", "refund", "gift", "average", "cheap"} <= avoided
    assert "free" not in avoided  # the offer says it: the copy may name it
    assert not avoided & {"return", "delivery"}  # a win-back may ask customers to return


def test_an_edit_that_adds_a_promise_is_flagged_like_a_model_would_be() -> None:
    generator = FakeGenerator(replies=[json.dumps({"text": "We miss you. Come back soon."})])
    brief = CampaignBrief(channel="sms", brand=BrandProfile(sms_opt_out=""))
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.ok
    changed = edited(draft, {"text": "We miss you. Free shipping on us! #comeback"})
    assert any("free" in p and "shipping" in p for p in changed.problems)
    assert any('"#"' in p for p in changed.problems)
    assert edited(draft, {"text": "We miss you. Come back and see what is new."}).ok


def test_a_slot_written_right_before_chinese_text_is_filled() -> None:
    # Chinese characters are word characters to a regex: "@OFFER现在" has no word boundary.
    assert fill_offer("@OFFER现在是您的", "全场9折") == "全场9折现在是您的"
    assert fill_offer("回来即享@OFFER。", "满100减20") == "回来即享满100减20。"
    assert not has_slot("official offers are posted @offered")


def test_an_offer_that_opens_a_sentence_is_capitalised_and_still_counts_as_the_offer() -> None:
    assert fill_offer("@OFFER when you come back.", "a free review") == (
        "A free review when you come back."
    )
    assert fill_offer("Enjoy @OFFER today.", "a free review") == "Enjoy a free review today."
    fields = {"text": "We miss you. Up to 30% off is yours."}
    assert copy_problems(fields, channel="sms", offer="up to 30% off") == []


def test_copy_that_repeats_a_customers_words_is_retried_and_marked() -> None:
    profile = themed_profiles()[0]
    quote = profile.examples[0]
    reply = json.dumps({"text": f"{quote[:40]} Come back soon."}, ensure_ascii=False)
    generator = FakeGenerator(replies=[reply])
    [draft] = draft_campaign(profile, CampaignBrief(channel="sms"), generator)
    assert len(generator.prompts) == 2  # asked again, with the problem named
    assert any("repeats a customer's words" in p for p in draft.problems)
    chinese = {"subject": "价格实惠，做工太差了，申请退回。"}
    assert quoted_problems(chinese, ["价格实惠，做工太差了，申请退回。订单33号"])
    assert not quoted_problems({"subject": "欢迎回来看看新品"}, ["价格实惠，做工太差了"])


def test_a_gap_left_where_the_model_meant_a_number_is_a_problem() -> None:
    gap = {"body": "感谢您的许多好评，包括订单  、订单  和订单 ，期待您的下次购物。"}
    assert any(
        "gap" in p for p in copy_problems(gap, channel="email", language="Simplified Chinese")
    )
    whole = {"body": "感谢您的支持。满100减20优惠券 正在等您。"}
    assert (
        copy_problems(
            whole, channel="email", offer="满100减20优惠券", language="Simplified Chinese"
        )
        == []
    )


def test_a_segment_without_text_gets_talking_points_from_its_strong_traits() -> None:
    from segmenter.campaign.prompts import talking_points
    from segmenter.profile import CategoryTrait, NumericTrait

    wines = NumericTrait("MntWines", 612.0, 227.0, 2.7, 1.4, "Spend on wines")
    kids = NumericTrait("Kidhome", 0.1, 0.5, 0.2, -0.9, "Kids at home")  # below: not a topic
    support = CategoryTrait("TechSupport", "Yes", 0.8, 0.3, 2.7, "Tech support")
    profile = SegmentProfile(
        segment_id=0,
        name="",
        size=10,
        share=0.5,
        numeric=(wines, kids),
        categories=(support,),
        keywords=(),
        examples=(),
    )
    assert talking_points(profile) == ["wines", "tech support"]  # strongest first
    messages = build_messages(profile, CampaignBrief(channel="sms"))
    assert "care about most: wines, tech support" in messages[-1]["content"]


def test_lengths_are_judged_with_the_offer_filled_in() -> None:
    # 106 characters with the slot, 123 once the offer replaces it: over the push body's 120.
    body = (
        "We hope you are having a wonderful week, and we would love to see you back "
        "with us again very soon. @OFFER"
    )
    generator = FakeGenerator(replies=[json.dumps({"title": "Come back", "body": body})])
    brief = CampaignBrief(channel="push", offer="15% off your next order")
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert len(generator.prompts) == 2  # asked again: too long once filled
    assert len(draft.fields["body"]) <= 120 and "15% off your next order" in draft.fields["body"]


def test_sentences_with_a_gap_or_a_customers_words_are_removed_after_the_retry() -> None:
    profile = themed_profiles()[0]
    quote = profile.examples[0]
    body = f"Thanks for staying with us. {quote[:45]}. Prices are only  cheaper now. @OFFER"
    generator = FakeGenerator(replies=[answer(title="Thank you", body=body)])
    brief = CampaignBrief(channel="push", goal="loyalty", offer="free delivery this month")
    [draft] = draft_campaign(profile, brief, generator)
    assert draft.fields["body"] == "Thanks for staying with us. Free delivery this month"
    assert edited(draft, draft.fields).ok  # what is handed on is clean
    [note] = [p for p in draft.problems if p.startswith("removed from")]
    assert "a gap" in note and "a customer's words" in note


def test_a_call_to_action_still_too_long_becomes_the_goals_stock_button() -> None:
    long_button = "Join our community and start saving on every order"
    reply = answer(
        subject="We miss you", body="Come back and see what is new.", call_to_action=long_button
    )
    generator = FakeGenerator(replies=[reply])
    [draft] = draft_campaign(themed_profiles()[0], CampaignBrief(goal="win_back"), generator)
    assert draft.fields["call_to_action"] == "Come back and see"
    assert any(long_button in p for p in draft.problems)
    generator = FakeGenerator(
        replies=[
            reply.replace(
                long_button, "现在就加入我们的会员社区，享受每一笔订单的专属优惠和生日惊喜吧"
            )
        ]
    )
    brief = CampaignBrief(goal="loyalty", language="zh")
    [draft] = draft_campaign(themed_profiles()[0], brief, generator)
    assert draft.fields["call_to_action"] == "查看专属礼遇"


def test_digits_and_money_of_every_script_are_forbidden() -> None:
    from segmenter.campaign.rules import copy_pattern, forbidden_chars

    assert forbidden_chars("a fee of over ৳ ৪৫০, ٣ days, Ⅻ", "sms") == [
        "৳",
        "৪",
        "৫",
        "০",
        "٣",
        "Ⅻ",
    ]
    assert forbidden_chars("三件新品，欢迎回来", "sms") == []  # Chinese numerals are words
    pattern = re.compile(copy_pattern("email", 200))
    assert not pattern.match("a fee of ৳ ৪৫০")
    assert pattern.match("Welcome back, we kept your favourites")


def test_english_copy_may_hold_no_chinese_and_chinese_copy_may() -> None:
    generator = FakeGenerator()
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="sms", language="en"), generator)
    english = re.compile(generator.schemas[-1]["properties"]["text"]["pattern"])
    assert english.match("We will do our best to fix it")
    assert not english.match("We will do our best to纠正")
    draft_campaign(themed_profiles()[0], CampaignBrief(channel="sms", language="zh"), generator)
    assert re.compile(generator.schemas[-1]["properties"]["text"]["pattern"]).match("欢迎回来")
    mixed = {"text": "We'll do our best to纠正 it."}
    assert copy_problems(mixed, channel="sms", language="English")


def test_masked_blanks_and_the_customers_voice_are_problems_in_campaign_copy() -> None:
    masked = {"body": "Your account was ending on your last payment date of XXXXX."}
    assert any("XXXXX" in p for p in copy_problems(masked, channel="email", language="English"))
    voice = {
        "text": "It's important for me to have a clean report before I can proceed with my order."
    }
    assert any("speaks as the customer" in p for p in copy_problems(voice, channel="sms"))
    fine = {"text": "Your order is on its way. Thanks for shopping with us, Max."}
    assert copy_problems(fine, channel="sms", language="English") == []


def test_copy_cut_mid_sentence_is_marked_but_the_brands_lines_and_offer_may_end_it() -> None:
    cut = {"text": "Hey there! Tell us about the account ending, disputed, times, or Reply STOP"}
    problems = copy_problems(cut, channel="sms", allowed=["Reply STOP"])
    assert any("ends mid-sentence" in p for p in problems)
    headline = {"headline": "Fix your wrong accounts and get your…"}
    assert any("mid-sentence" in p for p in copy_problems(headline, channel="ad"))
    signed = {"body": "We kept your favourites for you.\n\nBest wishes,\nMaya"}
    assert copy_problems(signed, channel="email", allowed=["Best wishes", "Maya"]) == []
    offer = {"body": "Thanks for staying with us. Free delivery this month"}
    assert copy_problems(offer, channel="push", offer="free delivery this month") == []


def test_a_reply_without_a_policy_is_not_told_a_policy_to_repeat() -> None:
    from segmenter.campaign.replies import reply_messages

    prompt = reply_messages("My parcel never came.")[1]["content"]
    assert "policy" not in prompt.split("<customer_message>")[0].lower().replace(
        "do not mention any policy", ""
    )
    with_policy = reply_messages(
        "My parcel never came.", brand=BrandProfile(policy_text="Refunds within 14 days.")
    )
    assert "Refunds within 14 days." in with_policy[1]["content"]
    assert copy_problems({"text": "Can you investigate and fix my report?"}, channel="sms")


def test_a_space_between_two_chinese_characters_is_a_gap() -> None:
    gap = {"subject": "申请 退回，订单 未按时完成。"}
    assert any(
        "gap" in p for p in copy_problems(gap, channel="email", language="Simplified Chinese")
    )
    brand = {"subject": "欢迎回到 Northwind 商城。"}
    assert not copy_problems(
        brand, channel="email", language="Simplified Chinese", allowed=["Northwind"]
    )


def test_an_ad_may_close_on_its_hashtags() -> None:
    ad = {"primary_text": "We know how frustrating a late order is. #DeliveryDelay #Sorry"}
    assert copy_problems(ad, channel="ad", language="English") == []
    cut = {"primary_text": "We know how frustrating a late order is and #Sorry we"}
    assert any("mid-sentence" in p for p in copy_problems(cut, channel="ad"))


def test_the_offer_is_written_once_when_the_model_also_wrote_its_words() -> None:
    from segmenter.campaign.rules import fill_offer

    offer = "a free bottle with your next case"
    # The walk's email: the model wrote the offer's words and then the slot.
    assert fill_offer(f"so we give you {offer} @OFFER.", offer) == f"so we give you {offer}."
    assert fill_offer(f"Enjoy @OFFER {offer} today.", offer) == f"Enjoy {offer} today."
    assert fill_offer(f"Get {offer}, {offer.upper()}!", offer) == f"Get {offer}!"
    assert fill_offer("Come back for @OFFER.", offer) == f"Come back for {offer}."
    assert fill_offer("@OFFER is waiting.", offer) == f"A{offer[1:]} is waiting."


def test_telling_customers_about_their_past_responses_is_data_talk() -> None:
    from segmenter.campaign.rules import DATA_TALK_RE

    assert DATA_TALK_RE.search("We've had a great response to your previous offers")
    assert DATA_TALK_RE.search("Unlike our earlier emails, this one is short")
    assert not DATA_TALK_RE.search("Your response matters: tell us how the last case was")


def test_invented_price_claims_and_traits_said_to_the_customer_are_removed() -> None:
    from segmenter.campaign.checks import copy_problems, drop_promises

    # From the walk on the Telco churn table (a 1.5B model's email that passed the checks).
    body = (
        "We would like to welcome you back with a fresh start. "
        "Our monthly charges are also lower than ever before, making it easier to stay on "
        "top of your bills. Finally, as a senior citizen, we understand how important "
        "reliable internet is for you. Come back and see what is new."
    )
    fields = {"subject": "Welcome back", "body": body, "call_to_action": "Come back"}
    problems = copy_problems(fields, channel="email", offer="")
    assert any("lower than ever" in p for p in problems)
    assert any("talks about our data" in p for p in problems)
    kept, _ = drop_promises(fields, "", [])
    assert kept["body"] == (
        "We would like to welcome you back with a fresh start. Come back and see what is new."
    )
