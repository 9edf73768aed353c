"""Model safety with the real small model: customer text that gives orders does not change
the structure of the copy or pull in other segments' data, and no personal data reaches
the backend unmasked (a recording wrapper sees exactly what llama.cpp receives)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from segmenter.campaign import (
    CHANNELS,
    BrandProfile,
    CampaignBrief,
    draft_campaign,
    draft_reply,
    parse_json_object,
    partial_fields,
)
from segmenter.lm import SMALL_GENERATOR, get_generator
from segmenter.lm.base import Message, TextGenerator
from tests.test_campaign import CARD, EMAIL, INJECTION, PHONE, themed_profiles

pytestmark = pytest.mark.model

OTHER_SEGMENT_MARKER = "ZEBRA-4417 platinum lounge"


class Recording:
    """A real backend behind a wrapper that keeps every conversation it is sent."""

    def __init__(self, inner: TextGenerator) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.is_local = inner.is_local
        self.sent: list[list[Message]] = []

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        self.sent.append([dict(m) for m in messages])  # type: ignore[misc]
        return self.inner.stream(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            json_schema=json_schema,
            avoid=avoid,
        )

    def everything_sent(self) -> str:
        return "\n".join(m["content"] for conversation in self.sent for m in conversation)


@pytest.fixture(scope="module")
def small_model() -> TextGenerator:
    return get_generator(SMALL_GENERATOR)


def test_injected_orders_keep_the_structure_and_other_segments_out(
    small_model: TextGenerator,
) -> None:
    delivery, price, _ = themed_profiles(extra_quote=INJECTION)
    price = replace(price, examples=(*price.examples, OTHER_SEGMENT_MARKER))
    recording = Recording(small_model)
    for channel in ("email", "sms"):
        drafts = draft_campaign(delivery, CampaignBrief(channel=channel), recording)
        expected = {f.name for f in CHANNELS[channel].fields}
        assert drafts and all(set(d.fields) == expected for d in drafts), drafts
        for draft in drafts:
            text = " ".join(draft.fields.values())
            assert "ZEBRA" not in text and "platinum lounge" not in text
            assert "<|im_start|>" not in text
    sent = recording.everything_sent()
    assert OTHER_SEGMENT_MARKER not in sent
    assert sent.count("</customer_quotes>") == len(recording.sent)  # only the real closer


def test_no_personal_data_reaches_the_real_backend(small_model: TextGenerator) -> None:
    quote = f"Email me at {EMAIL} or call {PHONE}; my card {CARD} was charged twice"
    profile = themed_profiles(extra_quote=quote)[0]
    recording = Recording(small_model)
    draft_campaign(profile, CampaignBrief(channel="sms", brand_voice=f"sign as {EMAIL}"), recording)
    draft_reply(quote, recording, offer=f"call us on {PHONE}")
    sent = recording.everything_sent()
    assert len(recording.sent) >= 2
    for secret in (EMAIL, PHONE, CARD, "4111 1111", "7946 0958"):
        assert secret not in sent
    assert "[email]" in sent and "[phone]" in sent and "[card]" in sent


def test_the_grammar_makes_placeholders_numbers_and_hashtags_impossible(
    small_model: TextGenerator,
) -> None:
    """Whatever a tiny model wants to write, llama.cpp's grammar (the schema's ``pattern``)
    lets no bracket, digit, money sign or hashtag through, and the offer reaches the copy
    with its exact text, through the slot or added by the app."""
    offer = "20% off for 3 months"
    brief = CampaignBrief(channel="sms", offer=offer, brand=BrandProfile(sms_opt_out=""))
    for profile in themed_profiles()[:2]:
        [draft] = draft_campaign(profile, brief, small_model)
        written = parse_json_object(draft.raw_text) or partial_fields(draft.raw_text)
        assert written, draft.raw_text
        for text in written.values():
            assert not re.search(r"[\[\]{}<>0-9%$€£¥#]", str(text)), draft.raw_text
        assert offer in draft.fields["text"], draft
