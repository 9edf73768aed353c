"""The campaign plan: one row per targeted customer, ready to import into an email or SMS tool.

Columns (docs/campaign_plan.md says why): ``customer_id, segment_id, segment_name, channel,
variant, draft_id, subject, body, call_to_action``, then the table's own contact columns
under the names sending tools map by default (``email``, ``phone`` in E.164 ``+CC…``,
``first_name``, ``last_name``, ``name``). Contacts are the user's own data going to the
user's own tool, so they are carried unmasked (masking is for what a model reads).

Each customer of a segment with drafts on the plan's channel gets one of its variants:
a seeded shuffle, then round robin, so the split is even and the same seed gives the same
assignment; ``variant`` and ``draft_id`` let results be joined back to the copy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmenter.campaign.brief import BrandProfile
from segmenter.campaign.drafting import Draft
from segmenter.campaign.store import brief_to_dict
from segmenter.errors import SegmenterError

PLAN_COLUMNS = (
    "customer_id",
    "segment_id",
    "segment_name",
    "channel",
    "variant",
    "draft_id",
    "subject",
    "body",
    "call_to_action",
)
CONTACT_COLUMNS = ("email", "phone", "first_name", "last_name", "name")
CONTROL_VARIANT = "control"
"""``variant`` of held-out customers: the results page reads it as the control group."""
MAX_CONTROL_SHARE = 0.5
PHONE_NOTE = "phone_note"

# Which copy field fills each plan column, per channel (the first present wins).
SUBJECT_FIELDS = ("subject", "title", "headline")
BODY_FIELDS = ("body", "text", "primary_text", "subheadline")
CTA_FIELDS = ("call_to_action",)

_NAME_HINTS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "e_mail", "mail", "邮箱", "电子邮件"),
    "phone": ("phone", "mobile", "cell", "tel", "msisdn", "sms", "手机", "电话"),
    "first_name": ("first name", "firstname", "first_name", "given name", "forename", "名"),
    "last_name": ("last name", "lastname", "last_name", "surname", "family name", "姓"),
    "name": ("full name", "fullname", "full_name", "customer name", "name", "姓名"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(
    r"^(?!\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T][\d:]+)?$)"  # 2019-04-04: a date
    r"(?!\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[ T][\d:]+)?$)"  # 04/04/2019: a date
    r"\+?[\d\s().\-/]{7,}$"
)
"""A phone number's characters; dates have them too and are left out (a complaints
export's "Date received" was taken for the phone column)."""
VALUE_SHARE = 0.8
"""Share of a column's non-empty cells that must look like emails (or phones) to count."""


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


def _share(values: pd.Series, pattern: re.Pattern[str]) -> float:
    cells = values.astype(str).str.strip()
    cells = cells[cells != ""]
    if cells.empty:
        return 0.0
    return float(cells.map(lambda v: bool(pattern.match(v))).mean())


def detect_contacts(frame: pd.DataFrame, *, exclude: Sequence[str] = ()) -> dict[str, str]:
    """Plan column -> the table's column holding it (email, phone, first/last/full name).

    Found by name first (``E-mail``, ``Mobile``, ``First Name``…); emails and phones also
    by their values, so a column called ``contact`` full of addresses is found too.
    ``exclude`` (the id column) is never taken.
    """
    found: dict[str, str] = {}
    columns = [c for c in frame.columns if c not in exclude]
    checks = {"email": _EMAIL, "phone": _PHONE_CHARS}
    for role, hints in _NAME_HINTS.items():
        for column in columns:
            if column in found.values():
                continue
            name = _normal(str(column))
            words = set(name.split())
            by_name = name in hints or any(h in words or (len(h) > 3 and h in name) for h in hints)
            if not by_name:
                continue
            pattern = checks.get(role)
            # A column named "phone" that holds "yes"/"no" is a flag, not numbers to text.
            if pattern is not None and _share(frame[column], pattern) < VALUE_SHARE:
                continue
            found[role] = str(column)
            break
    for role, pattern in checks.items():
        if role in found:
            continue
        for column in columns:
            if column not in found.values() and _share(frame[column], pattern) >= VALUE_SHARE:
                if role == "phone" and _share(frame[column], re.compile(r".*\D")) < 0.5:
                    continue  # bare digits: more likely an amount or an id than a phone
                found[role] = str(column)
                break
    return found


def to_e164(raw: str, country_code: str = "") -> str | None:
    """``raw`` as an E.164 number (``+4915112345678``), or ``None`` when it cannot be sure.

    ``+…`` and ``00…`` numbers are international already; a national number (an optional
    trunk ``0`` dropped) needs ``country_code`` (``"44"``, ``"+1"``). E.164 allows 8 to 15
    digits with the country code.

    >>> to_e164("+44 (0)20 7946 0958")
    '+442079460958'
    >>> to_e164("020 7946 0958", "44")
    '+442079460958'
    """
    text = str(raw).strip()
    if not text:
        return None
    text = re.sub(r"\(0\)", "", text)
    if re.search(r"[^\d\s().\-/+]", text) or text.count("+") > 1 or "+" in text[1:]:
        return None  # letters, extensions ("x12"), two numbers in one cell
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        code = re.sub(r"\D", "", country_code)
        if not code:
            return None
        if digits.startswith(code) and len(digits) >= 11:
            number = digits  # the country code is there, only the "+" is missing
        else:
            number = code + (digits[1:] if digits.startswith("0") else digits)  # trunk 0
    if not 8 <= len(number) <= 15 or number.startswith("0"):
        return None
    return "+" + number


@dataclass(frozen=True)
class CampaignPlan:
    """The plan's rows and what the sending tool (and a later join) needs to know."""

    frame: pd.DataFrame
    channel: str
    seed: int
    contacts: Mapping[str, str]
    """Plan column -> the table's column it came from."""
    phones_not_normalised: int = 0
    variants: Mapping[int, tuple[Draft, ...]] = field(default_factory=dict)
    holdout: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLAN_COLUMNS))
    """Customers kept out of the send on purpose (``variant`` = "control"), with the plan's
    columns, so that their outcomes can be measured beside the contacted customers' and
    uplift estimated. Not for the sending tool."""
    control_share: float = 0.0


def _copy(draft: Draft, names: Sequence[str]) -> str:
    for name in names:
        if draft.fields.get(name):
            return str(draft.fields[name])
    return ""


def plan_channels(drafts: Sequence[Draft]) -> list[str]:
    """Channels with sendable drafts, the most drafted first."""
    counts: dict[str, int] = {}
    for draft in drafts:
        if draft.fields:
            counts[draft.brief.channel] = counts.get(draft.brief.channel, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


def campaign_plan(
    frame: pd.DataFrame,
    labels: np.ndarray,
    ids: Sequence[str],
    drafts: Sequence[Draft],
    *,
    channel: str,
    segment_names: Mapping[int, str],
    seed: int = 0,
    country_code: str = "",
    id_column: str | None = None,
    control_share: float = 0.0,
) -> CampaignPlan:
    """One row per customer of every segment that has drafts on ``channel``.

    Args:
        frame: the table as uploaded (its contact columns are carried through).
        labels: each row's segment (-1: unsegmented, never targeted).
        ids: each row's customer id as text.
        drafts: the kept drafts; those on ``channel`` with copy fields become variants.
        segment_names: the names the user sees (after renaming).
        seed: the variant assignment's seed, recorded in the plan brief.
        country_code: for phone numbers written without one (``"44"``).
        id_column: the table's id column, never mistaken for a contact.
        control_share: the share of each segment held out (0 to ``MAX_CONTROL_SHARE``):
            chosen by the same seeded shuffle, listed in ``CampaignPlan.holdout``.

    Raises:
        SegmenterError: when no draft on ``channel`` has copy to send, or the control
            share is out of range.
    """
    if not 0 <= control_share <= MAX_CONTROL_SHARE:
        raise SegmenterError(
            f"Hold out between 0% and {MAX_CONTROL_SHARE:.0%} of each segment, not "
            f"{control_share:.0%}."
        )
    variants: dict[int, list[Draft]] = {}
    for draft in drafts:
        if draft.brief.channel == channel and draft.fields:
            variants.setdefault(draft.segment_id, []).append(draft)
    if not variants:
        raise SegmenterError(
            f"No drafts on the {channel} channel yet: draft copy on the Campaigns page first."
        )
    labels = np.asarray(labels)
    contacts = detect_contacts(frame, exclude=[id_column] if id_column else [])
    parts, held = [], []
    for segment_id in sorted(variants):
        chosen = variants[segment_id]
        every = np.flatnonzero(labels == segment_id)
        rng = np.random.default_rng([seed, segment_id])
        order = rng.permutation(len(every))
        n_control = int(round(control_share * len(every)))
        # The first of the shuffled order are held out; the rest get the variants in turn.
        kept_out = np.sort(every[order[:n_control]])
        rows = np.sort(every[order[n_control:]])
        assigned = np.empty(len(every), dtype=int)
        assigned[order[n_control:]] = np.arange(len(rows)) % len(chosen)
        assigned = assigned[np.isin(every, rows)]
        if n_control:
            held.append(
                pd.DataFrame(
                    {
                        "customer_id": [str(ids[int(r)]) for r in kept_out],
                        "segment_id": segment_id,
                        "segment_name": segment_names.get(segment_id, chosen[0].segment_name),
                        "channel": channel,
                        "variant": CONTROL_VARIANT,
                        "draft_id": "",
                        "subject": "",
                        "body": "",
                        "call_to_action": "",
                    },
                    index=kept_out,
                )
            )
        part = pd.DataFrame(
            {
                "customer_id": [str(ids[int(r)]) for r in rows],
                "segment_id": segment_id,
                "segment_name": segment_names.get(segment_id, chosen[0].segment_name),
                "channel": channel,
                "variant": assigned + 1,
                "draft_id": [chosen[i].draft_id for i in assigned],
                "subject": [_copy(chosen[i], SUBJECT_FIELDS) for i in assigned],
                "body": [_copy(chosen[i], BODY_FIELDS) for i in assigned],
                "call_to_action": [_copy(chosen[i], CTA_FIELDS) for i in assigned],
            },
            index=rows,
        )
        parts.append(part)
    plan = pd.concat(parts).sort_index()
    unnormalised = 0
    for role in CONTACT_COLUMNS:
        if role not in contacts:
            continue
        values = frame[contacts[role]].iloc[plan.index].astype(str).str.strip()
        if role == "phone":
            normal = values.map(lambda v: to_e164(v, country_code))
            bad = normal.isna() & (values != "")
            unnormalised = int(bad.sum())
            plan["phone"] = normal.fillna(values).to_numpy()
            if unnormalised:
                plan[PHONE_NOTE] = np.where(
                    bad.to_numpy(),
                    "not in international format: check the number and add the country code",
                    "",
                )
        else:
            plan[role] = values.to_numpy()
    plan = plan.reset_index(drop=True)
    return CampaignPlan(
        frame=plan,
        channel=channel,
        seed=seed,
        contacts=contacts,
        phones_not_normalised=unnormalised,
        variants={k: tuple(v) for k, v in variants.items()},
        holdout=pd.concat(held).sort_index().reset_index(drop=True)
        if held
        else pd.DataFrame(columns=PLAN_COLUMNS),
        control_share=control_share,
    )


def plan_brief(plan: CampaignPlan, brand: BrandProfile) -> dict[str, Any]:
    """The plan's JSON companion: brand profile, every variant's brief and copy, the seed,
    and where each contact column came from."""
    counts = plan.frame.groupby(["segment_id", "variant"]).size()
    return {
        "channel": plan.channel,
        "seed": plan.seed,
        "assignment": "seeded shuffle per segment (numpy default_rng([seed, segment_id])), "
        "then variants in turn: an even split",
        "rows": len(plan.frame),
        "control_share": plan.control_share,
        "held_out": len(plan.holdout),
        "columns": list(plan.frame.columns),
        "contacts": dict(plan.contacts),
        "phones_not_normalised": plan.phones_not_normalised,
        "brand": brand.to_dict(),
        "segments": [
            {
                "segment_id": segment_id,
                "segment_name": drafts[0].segment_name,
                "customers": int(counts[segment_id].sum()),  # type: ignore[attr-defined]
                "variants": [
                    {
                        "variant": number,
                        "draft_id": draft.draft_id,
                        "customers": int(counts.get((segment_id, number), 0)),
                        "language": draft.language,
                        "fields": dict(draft.fields),
                        "checks": list(draft.problems) or "passed",
                        "model": draft.model_id,
                        "brief": brief_to_dict(draft.brief),
                        "informed_by": list(draft.informed_by),
                    }
                    for number, draft in enumerate(drafts, start=1)
                ],
            }
            for segment_id, drafts in sorted(plan.variants.items())
        ],
    }
