"""Campaign plan and the drafts store: rows are the targeted customers, variants are
recorded and reproducible, contacts reach the sending tool, drafts survive a round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmenter.campaign import BrandProfile, CampaignBrief, Draft
from segmenter.campaign.plan import (
    PHONE_NOTE,
    campaign_plan,
    detect_contacts,
    plan_brief,
    plan_channels,
    to_e164,
)
from segmenter.campaign.store import (
    BRAND_FILE,
    DRAFTS_FILE,
    draft_from_dict,
    draft_to_dict,
    load_campaign,
    save_campaign,
)
from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes

BRAND = BrandProfile(
    brand_name="Acme",
    sender_name="Maya",
    sign_off="Warm regards",
    voice_notes="plain words",
    banned_words=("cheap", "deal"),
    sms_opt_out="Reply STOP to opt out",
    policy_text="Refunds within 30 days.",
)


def _draft(segment: int, variant: int, channel: str = "email", **fields: str) -> Draft:
    copy = fields or {
        "subject": f"Subject {segment}.{variant}",
        "body": f"=Body {segment}.{variant}",
        "call_to_action": "Come back",
    }
    return Draft(
        segment_id=segment,
        segment_name=f"Segment {segment}",
        brief=CampaignBrief(channel=channel, offer="20% off", variants=2, brand=BRAND),
        language="English",
        variant=variant,
        fields=copy,
        raw_text=json.dumps(copy),
        problems=(),
        model_id="fake-lm",
        seconds=1.5,
    )


@pytest.fixture
def table() -> tuple[pd.DataFrame, np.ndarray]:
    n = 60
    frame = pd.DataFrame(
        {
            "CustomerID": [f"{i:04d}" for i in range(n)],
            "E-mail": [f"c{i}@example.com" for i in range(n)],
            "Mobile": ["020 7946 0958" if i % 2 else "+1 (415) 555-0123" for i in range(n)],
            "First Name": [f"Ann{i}" for i in range(n)],
            "Spend": [str(i * 3) for i in range(n)],
        }
    )
    labels = np.array([i % 3 for i in range(n)])
    labels[:3] = -1
    return frame, labels


def _plan(table: tuple[pd.DataFrame, np.ndarray], drafts: list[Draft], **kw):  # type: ignore[no-untyped-def]
    frame, labels = table
    defaults = {
        "channel": "email",
        "segment_names": {0: "Bargain hunters", 1: "Loyal", 2: "Lapsed"},
        "seed": 7,
        "id_column": "CustomerID",
    }
    return campaign_plan(frame, labels, frame["CustomerID"].tolist(), drafts, **{**defaults, **kw})


def test_plan_has_one_row_per_targeted_customer(table) -> None:  # type: ignore[no-untyped-def]
    frame, labels = table
    drafts = [_draft(0, 1), _draft(0, 2), _draft(2, 1), _draft(1, 1, "sms", text="Hi")]
    plan = _plan(table, drafts)
    expected = frame["CustomerID"][(labels == 0) | (labels == 2)].tolist()
    assert sorted(plan.frame["customer_id"]) == sorted(expected)
    assert list(plan.frame.columns[:9]) == [
        "customer_id",
        "segment_id",
        "segment_name",
        "channel",
        "variant",
        "draft_id",
        "subject",
        "body",
        "call_to_action",
    ]
    assert set(plan.frame["segment_name"]) == {"Bargain hunters", "Lapsed"}
    assert (plan.frame["channel"] == "email").all()
    assert plan_channels(drafts) == ["email", "sms"]


def test_variants_are_even_recorded_and_reproducible(table) -> None:  # type: ignore[no-untyped-def]
    drafts = [_draft(0, 1), _draft(0, 2), _draft(2, 1)]
    first = _plan(table, drafts)
    again = _plan(table, drafts)
    other = _plan(table, drafts, seed=8)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    seg0 = first.frame[first.frame["segment_id"] == 0]
    counts = seg0["variant"].value_counts()
    assert set(counts.index) == {1, 2} and abs(counts[1] - counts[2]) <= 1
    assert not seg0["variant"].equals(other.frame[other.frame["segment_id"] == 0]["variant"])
    for _, row in seg0.iterrows():  # the draft_id joins each row back to its copy
        draft = next(d for d in drafts if d.draft_id == row["draft_id"])
        assert row["subject"] == draft.fields["subject"] and row["variant"] == draft.variant
    brief = plan_brief(first, BRAND)
    assert brief["seed"] == 7 and brief["brand"]["banned_words"] == ["cheap", "deal"]
    seg = next(s for s in brief["segments"] if s["segment_id"] == 0)
    assert [v["customers"] for v in seg["variants"]] == [counts[1], counts[2]]
    assert seg["variants"][0]["brief"]["offer"] == "20% off"
    json.dumps(brief)  # JSON-ready


def test_contacts_are_carried_unmasked_with_e164_phones(table) -> None:  # type: ignore[no-untyped-def]
    frame, _ = table
    plan = _plan(table, [_draft(1, 1)], country_code="44")
    assert plan.contacts == {"email": "E-mail", "phone": "Mobile", "first_name": "First Name"}
    rows = plan.frame.set_index("customer_id")
    assert rows.loc["0004", "email"] == "c4@example.com"
    assert rows.loc["0004", "first_name"] == "Ann4"
    assert set(plan.frame["phone"]) == {"+442079460958", "+14155550123"}
    assert PHONE_NOTE not in plan.frame.columns
    # Without a country code a national number stays as written, with a note.
    unsure = _plan(table, [_draft(1, 1)])
    assert unsure.phones_not_normalised == int((unsure.frame["phone"] == "020 7946 0958").sum()) > 0
    noted = unsure.frame[unsure.frame["phone"] == "020 7946 0958"][PHONE_NOTE]
    assert noted.str.contains("international").all()
    text = to_csv_bytes(plan.frame).decode()
    assert "+442079460958" in text and "'+44" not in text  # a phone is not a formula
    assert "'=Body" in text  # but a formula-like body is neutralised


def test_detect_contacts_by_values_and_not_flags() -> None:
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "contact": ["a@b.co", "c@d.org", "e@f.net"],
            "phone": ["yes", "no", "yes"],
            "amount": ["12345678", "23456789", "34567890"],
        }
    )
    assert detect_contacts(frame, exclude=["id"]) == {"email": "contact"}


@pytest.mark.parametrize(
    ("raw", "code", "expected"),
    [
        ("+44 (0)20 7946 0958", "", "+442079460958"),
        ("0044 20 7946 0958", "", "+442079460958"),
        ("020 7946 0958", "44", "+442079460958"),
        ("(415) 555-0123", "+1", "+14155550123"),
        ("12125550123", "1", "+12125550123"),
        ("138 1234 5678", "86", "+8613812345678"),
        ("020 7946 0958", "", None),
        ("555", "1", None),
        ("call me", "1", None),
        ("+1 415 555 0123 x12", "", None),
    ],
)
def test_to_e164(raw: str, code: str, expected: str | None) -> None:
    assert to_e164(raw, code) == expected


def test_a_plan_without_drafts_on_the_channel_says_what_to_do(table) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SegmenterError, match="Campaigns page"):
        _plan(table, [_draft(1, 1)], channel="sms")


def test_drafts_and_brand_round_trip_through_the_store(tmp_path: Path) -> None:
    drafts = [_draft(0, 1), _draft(2, 1, "sms", text="Back soon. Reply STOP to opt out")]
    assert draft_from_dict(json.loads(json.dumps(draft_to_dict(drafts[0])))) == drafts[0]
    assert load_campaign(tmp_path).drafts == ()  # nothing saved yet
    save_campaign(tmp_path / "run", drafts, BRAND, ["20% off", "free gift", "20% off"])
    assert (tmp_path / "run" / DRAFTS_FILE).exists() and (tmp_path / "run" / BRAND_FILE).exists()
    saved = load_campaign(tmp_path / "run")
    assert saved.drafts == tuple(drafts)
    assert saved.brand == BRAND
    assert saved.offers == ("20% off", "free gift")
    (tmp_path / "run" / DRAFTS_FILE).write_text("{not json")
    assert load_campaign(tmp_path / "run").drafts == ()  # a damaged file does not block


def test_campaign_folder_is_the_run_folder_or_a_keyed_store(tmp_path: Path, table) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from segmenter.runs import CAMPAIGNS_DIR, campaign_folder

    frame, labels = table

    def run(labels: np.ndarray, opened_from: Path | None = None) -> Any:
        loaded = SimpleNamespace(frame=frame)
        return SimpleNamespace(
            loaded=loaded, result=SimpleNamespace(labels=labels), opened_from=opened_from
        )

    folder = campaign_folder(run(labels), tmp_path)
    assert folder.parent == tmp_path / CAMPAIGNS_DIR
    assert campaign_folder(run(labels.copy()), tmp_path) == folder  # same run after a reload
    assert campaign_folder(run(labels[::-1].copy()), tmp_path) != folder  # another clustering
    assert campaign_folder(run(labels, opened_from=tmp_path), tmp_path / "elsewhere") == tmp_path


def test_a_date_column_is_never_taken_for_phones() -> None:
    frame = pd.DataFrame(
        {
            "Date received": ["2019-04-04", "2019-05-01", "2020-01-31"],
            "Sent": ["04/04/2019", "05/01/2019", "01/31/2020"],
            "Complaint ID": ["3200024", "3200031", "3200040"],
        }
    )
    assert "phone" not in detect_contacts(frame, exclude=["Complaint ID"])
