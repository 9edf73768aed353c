"""Drafting campaign copy for one segment, editing it, and exporting drafts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from segmenter.campaign.brief import (
    GOAL_LABELS,
    STOCK_CALLS_TO_ACTION,
    BrandProfile,
    CampaignBrief,
    brief_language,
    field_limit,
)
from segmenter.campaign.checks import (
    MIN_KEPT_CHARS,
    check_fields,
    copy_problems,
    drop_promises,
    mentions,
    quoted_problems,
    same_script,
    shorten_keeping,
    sms_limit,
)
from segmenter.campaign.generate import generate_checked
from segmenter.campaign.prompts import (
    build_messages,
    copy_limits,
    output_schema,
    raw_column_names,
)
from segmenter.campaign.rules import SLOT_FIELDS, fill_offer, sentence_start, words_to_avoid
from segmenter.lm.base import TextGenerator
from segmenter.profile import SegmentProfile

if TYPE_CHECKING:  # the results package loads statsmodels: only drafts with lessons need it
    from segmenter.results.lessons import PastResults


@dataclass(frozen=True)
class Draft:
    """One piece of campaign copy for one segment, ready to edit and export."""

    segment_id: int
    segment_name: str
    brief: CampaignBrief
    language: str
    variant: int
    fields: Mapping[str, str]
    raw_text: str
    problems: tuple[str, ...]
    model_id: str
    seconds: float
    draft_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    informed_by: tuple[str, ...] = ()
    """The earlier results whose lessons reached this draft's prompt (``PastResults.sources``)."""

    @property
    def ok(self) -> bool:
        """True when the copy passed every check (parsed, complete, within limits)."""
        return not self.problems

    def as_text(self) -> str:
        """The copy as plain text, labelled by part, for copying and Markdown."""
        if not self.fields:
            return self.raw_text
        spec = self.brief.spec
        return "\n\n".join(
            f"{f.label}: {self.fields.get(f.name, '')}"
            if len(spec.fields) > 1
            else str(self.fields.get(f.name, ""))
            for f in spec.fields
        )


def _headline(draft: Draft) -> str:
    first = draft.brief.spec.fields[0].name
    return str(draft.fields.get(first) or draft.raw_text[:80])


def _for_variant(
    on_text: Callable[[int, str], None] | None, variant: int
) -> Callable[[str], None] | None:
    if on_text is None:
        return None
    return lambda text: on_text(variant, text)


def draft_campaign(
    profile: SegmentProfile,
    brief: CampaignBrief,
    generator: TextGenerator,
    *,
    on_text: Callable[[int, str], None] | None = None,
    on_draft: Callable[[Draft], None] | None = None,
    earlier: Sequence[Draft] = (),
    past: PastResults | None = None,
) -> list[Draft]:
    """Draft ``brief.variants`` pieces of copy for one segment.

    Args:
        profile: the segment to write for; only its profile reaches the model.
        brief: channel, goal, tone, language, offer, brand voice and variant count.
        generator: any ``TextGenerator``.
        on_text: called with (variant number, answer so far) as text streams in.
        on_draft: called with each finished draft, so a caller that is stopped midway
            keeps the variants already written.
        earlier: drafts already kept for this segment, so new variants differ from them.
        past: what earlier campaigns to this segment showed; its lines go into the prompt
            and its sources are recorded on each draft (``Draft.informed_by``).

    Returns:
        One ``Draft`` per variant; a draft that failed its checks carries the raw text
        and its ``problems``.
    """
    language = brief_language(brief, profile)
    limits = {f.name: field_limit(f, language, brief.channel) for f in brief.spec.fields}
    opt_out = brief.brand.sms_opt_out_for(language)
    if brief.channel == "sms" and opt_out:
        # Copy cut to fit leaves room for the opt-out line the app adds.
        limits = {k: v - len(opt_out) - 2 if v else v for k, v in limits.items()}
    schema = output_schema(
        brief.spec.fields, copy_limits(brief, language), channel=brief.channel, language=language
    )
    offer = brief.offer.strip()
    brand = brief.brand
    allowed = [brand.brand_name, brand.sender_name, brand.sign_off]
    raw_names = list(raw_column_names(profile))

    def prepare(fields: dict[str, str]) -> dict[str, str]:
        return {name: fill_offer(text, offer) for name, text in fields.items()}

    def checks(fields: Mapping[str, str]) -> list[str]:
        return copy_problems(
            fields,
            channel=brief.channel,
            offer=offer,
            language=language,
            banned_words=brand.banned_words,
            raw_names=raw_names,
            allowed=allowed,
        ) + quoted_problems(fields, profile.examples)

    def repair(fields: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        fields, notes = drop_promises(fields, offer, allowed, quotes=profile.examples)
        fields, button_notes = with_fitting_button(fields, limits, brief.goal, language)
        return with_offer(fields, offer, limits), notes + button_notes

    drafts: list[Draft] = []
    for variant in range(1, brief.variants + 1):
        messages = build_messages(
            profile,
            brief,
            variant=variant,
            earlier=[_headline(d) for d in (*earlier, *drafts)],
            past=past.lines if past else (),
        )
        result = generate_checked(
            generator,
            messages,
            brief.spec.fields,
            limits,
            max_tokens=brief.spec.max_tokens,
            channel=brief.channel,
            offer=offer,
            on_text=_for_variant(on_text, variant),
            schema=schema,
            prepare=prepare,
            extra_checks=checks,
            repair=repair,
            keep=offer,
            avoid=words_to_avoid(offer, brand.banned_words),
        )
        fields, brand_notes = with_brand_lines(result.fields, brief.channel, brand, language)
        drafts.append(
            Draft(
                segment_id=profile.segment_id,
                segment_name=profile.name,
                brief=brief,
                language=language,
                variant=variant,
                fields=fields,
                raw_text=result.raw_text,
                problems=(*result.problems, *brand_notes),
                model_id=result.model_id,
                seconds=result.seconds,
                informed_by=past.sources if past else (),
            )
        )
        if on_draft is not None:
            on_draft(drafts[-1])
    return drafts


def with_fitting_button(
    fields: Mapping[str, str], limits: Mapping[str, int | None], goal: str, language: str
) -> tuple[dict[str, str], list[str]]:
    """Copy whose call to action, still too long after the retry, is replaced by the goal's
    stock button in the copy's language (``STOCK_CALLS_TO_ACTION``), with a note; other
    languages keep the model's text, to be cut to fit."""
    out = dict(fields)
    text = out.get("call_to_action", "")
    limit = limits.get("call_to_action")
    stock = STOCK_CALLS_TO_ACTION.get(language, {}).get(goal, "")
    if not text or limit is None or len(text) <= limit or not stock:
        return out, []
    out["call_to_action"] = stock
    return out, [f'the call to action "{text}" was too long and became "{stock}"']


def with_offer(
    fields: Mapping[str, str], offer: str, limits: Mapping[str, int | None]
) -> dict[str, str]:
    """Copy that still lacks the brief's offer after the retry, with the offer's exact text
    added as the last sentence of its main field where it fits: a win-back without its
    offer gives the customer nothing to come back for."""
    out = dict(fields)
    if not offer or any(mentions(text, offer) for text in out.values()):
        return out
    for name in (n for n in SLOT_FIELDS if n in out):
        text = out[name].rstrip()
        if not text:
            continue
        cjk = not text.isascii()
        tail = f"{sentence_start(offer)}{'' if cjk else '.'}"
        limit = limits.get(name)
        if limit is not None and len(tail) + MIN_KEPT_CHARS > limit:
            continue
        if limit is not None and len(text) + len(tail) + 2 > limit:
            # Make room with whole sentences: the offer matters more than the copy's last
            # words, and a word cut mid-copy reads worse than the offer alone.
            text = shorten_keeping(f"{text} {tail}", limit, keep=offer)
            out[name] = text if mentions(text, offer) else tail
            break
        end = "" if text.endswith((".", "!", "?", "。", "！", "？")) else ("。" if cjk else ".")
        out[name] = f"{text}{end}{'' if cjk else ' '}{tail}"
        break
    return out


def with_brand_lines(
    fields: Mapping[str, str], channel: str, brand: BrandProfile, language: str = ""
) -> tuple[dict[str, str], list[str]]:
    """The lines the app adds, never the model: an email's signature (sign-off and
    sender), and an SMS's opt-out text when it still fits in one message. A sign-off or
    opt-out in another script than the copy ("Best wishes" under Chinese copy) is left out,
    with a note saying so: the marketer writes one in the copy's language."""
    out = dict(fields)
    notes: list[str] = []
    if channel == "email" and out.get("body"):
        sign_off = brand.sign_off.strip()
        if sign_off and not same_script(sign_off, out["body"]):
            notes.append(
                f'the sign-off "{sign_off}" is in another language than the copy and was '
                "left out: add one in the copy's language to the body or the brand profile"
            )
            sign_off = ""
        if sign_off and not sign_off.endswith((",", "，")):
            sign_off += ","
        signature = "\n".join(line for line in (sign_off, brand.sender_name.strip()) if line)
        if signature and signature not in out["body"]:
            out["body"] = f"{out['body'].rstrip()}\n\n{signature}"
    opt_out = brand.sms_opt_out_for(language)
    if channel == "sms" and out.get("text") and opt_out and opt_out not in out["text"]:
        text = out["text"].rstrip()
        if text.endswith(("。", "！", "？")):
            joined = f"{text}{opt_out}"
        elif text.endswith((".", "!", "?")):
            joined = f"{text} {opt_out}"
        else:
            joined = f"{text}. {opt_out}" if text.isascii() else f"{text}。{opt_out}"
        if not same_script(opt_out, text):
            notes.append(
                f'the opt-out "{opt_out}" is in another language than the copy and was left '
                "out: add one in the copy's language before sending"
            )
        elif len(joined) <= sms_limit(joined):
            out["text"] = joined
    return out, notes


def edited(draft: Draft, fields: Mapping[str, str]) -> Draft:
    """``draft`` with the user's edits, re-checked against its limits and the copy rules
    (promises the offer does not make, hashtags, banned words, script …): an edit that adds
    "free shipping" is flagged as a model's would be."""
    language = draft.language
    brief = draft.brief
    spec = brief.spec
    limits = {f.name: field_limit(f, language, brief.channel) for f in spec.fields}
    problems = check_fields(fields, spec.fields, limits, channel=brief.channel)
    brand = brief.brand
    problems += copy_problems(
        fields,
        channel=brief.channel,
        offer=brief.offer.strip(),
        language=language,
        banned_words=brand.banned_words,
        allowed=[
            brand.brand_name,
            brand.sender_name,
            brand.sign_off,
            brand.sms_opt_out_for(language),
        ],
    )
    return replace(draft, fields=dict(fields), problems=tuple(problems))


# --- exporting drafts ---------------------------------------------------------------------


def drafts_frame(drafts: Iterable[Draft]) -> pd.DataFrame:
    """One row per draft, one column per copy field, for CSV export."""
    rows = []
    for draft in drafts:
        row: dict[str, Any] = {
            "segment_id": draft.segment_id,
            "segment": draft.segment_name,
            "channel": draft.brief.channel,
            "goal": draft.brief.goal,
            "tone": draft.brief.tone,
            "language": draft.language,
            "offer": draft.brief.offer,
            "variant": draft.variant,
        }
        row.update({f"copy_{k}": v for k, v in draft.fields.items()})
        if not draft.fields:
            row["copy_raw"] = draft.raw_text
        row["checks"] = "; ".join(draft.problems) or "passed"
        row["model"] = draft.model_id
        row["seconds"] = round(draft.seconds, 1)
        row["draft_id"] = draft.draft_id
        # Which earlier results shaped this copy, so the next round can compare.
        row["informed_by"] = "; ".join(draft.informed_by)
        rows.append(row)
    return pd.DataFrame(rows)


def drafts_markdown(drafts: Iterable[Draft]) -> str:
    """The drafts as a Markdown document, grouped by segment."""
    lines = ["# Campaign drafts", ""]
    current: int | None = None
    for draft in sorted(drafts, key=lambda d: d.segment_id):
        if draft.segment_id != current:
            current = draft.segment_id
            lines += [f"## Segment {draft.segment_id}: {draft.segment_name}", ""]
        brief = draft.brief
        lines.append(
            f"### {brief.spec.label} · {GOAL_LABELS[brief.goal]} · variant {draft.variant}"
        )
        lines.append(
            f"*{brief.tone}, {draft.language}"
            + (f", offer: {brief.offer}" if brief.offer else "")
            + f" — {draft.model_id}*"
        )
        lines.append("")
        for f in brief.spec.fields:
            if f.name in draft.fields:
                lines += [f"**{f.label}:** {draft.fields[f.name]}", ""]
        if not draft.fields:
            lines += ["```", draft.raw_text, "```", ""]
        if draft.problems:
            lines += [f"> Checks failed: {'; '.join(draft.problems)}", ""]
    return "\n".join(lines)
