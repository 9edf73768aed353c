"""The campaign side panel: brief, model choice, streaming drafts, editing and export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from segmenter.campaign import (
    AUTO_LANGUAGE,
    CHANNELS,
    GOAL_LABELS,
    LANGUAGE_NAMES,
    MAX_VARIANTS,
    TONES,
    BrandProfile,
    CampaignBrief,
    Draft,
    draft_campaign,
    draft_reply,
    drafts_frame,
    drafts_markdown,
    edited,
    field_limit,
    partial_fields,
)
from segmenter.campaign.brief import default_language, language_name
from segmenter.campaign.plan import MAX_CONTROL_SHARE, campaign_plan, plan_brief, plan_channels
from segmenter.campaign.store import (
    campaign_payload,
    draft_to_dict,
    load_campaign,
    save_campaign,
)
from segmenter.config import LMConfig
from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes
from segmenter.lm import (
    GGUF_FILE,
    OPENAI_SERVER,
    TextGenerator,
    available_generators,
    default_generator_name,
    generator_from_config,
)
from segmenter.pipeline import SegmentationRun
from segmenter.profile import SegmentProfile
from segmenter.results import PastResults
from segmenter.runs import campaign_folder, run_fingerprint
from segmenter.ui import state
from segmenter.ui.jobs import heavy_job
from segmenter.ui.results import restore_results
from segmenter.ui.widgets import plain

CAMPAIGNS_PAGE = "pages/4_Campaigns.py"
GGUF_LABEL = "A GGUF file on this server"
SEGMENT_PICKER = "campaign_segment"
SERVER_LABEL = "An OpenAI-compatible server (Ollama, vLLM, LM Studio…)"


@st.cache_resource(show_spinner=False, max_entries=4)
def _shared_generator(name: str, gguf_path: str) -> TextGenerator:
    """Local models are loaded once per server process and shared by every user."""
    return generator_from_config(
        LMConfig(model=name, gguf_path=Path(gguf_path) if gguf_path else None)
    )


def session_generator(config: LMConfig) -> TextGenerator:
    """The generator this user configured; local models come from the shared cache.

    A server client is built per user, so one user's API key never serves another.
    """
    name = config.model
    if name == "auto":
        name = OPENAI_SERVER if config.base_url else default_generator_name()
    if name == OPENAI_SERVER:
        return generator_from_config(replace(config, model=OPENAI_SERVER))
    path = str(config.gguf_path) if name == GGUF_FILE and config.gguf_path else ""
    return _shared_generator(name, path)


def model_settings() -> LMConfig:
    """The model picker; returns (and stores) this user's ``LMConfig``."""
    config: LMConfig = st.session_state[state.LM_CONFIG]
    choices = {**available_generators(), GGUF_FILE: GGUF_LABEL, OPENAI_SERVER: SERVER_LABEL}
    current = config.model
    if current == "auto":
        current = OPENAI_SERVER if config.base_url else default_generator_name()
    names = list(choices)
    with st.expander("Language model", expanded=False):
        name = st.selectbox(
            "Model",
            names,
            index=names.index(current) if current in names else 0,
            format_func=lambda n: (
                f"{n} — {choices[n]}" if n in available_generators() else choices[n]
            ),
            key="campaign_model",
        )
        gguf_path = config.gguf_path
        base_url, api_model, api_key = config.base_url, config.api_model, config.api_key
        if name == GGUF_FILE:
            typed = st.text_input(
                "Path of the .gguf file", str(gguf_path or ""), key="campaign_gguf"
            ).strip()
            gguf_path = Path(typed) if typed else None
        if name == OPENAI_SERVER:
            base_url = st.text_input(
                "Base URL",
                base_url or "http://localhost:11434/v1",
                key="campaign_base_url",
                help="Ollama: http://localhost:11434/v1 · LM Studio: http://localhost:1234/v1",
            ).strip()
            api_model = st.text_input("Model name", api_model or "", key="campaign_api_model")
            api_key = (
                st.text_input(
                    "API key (optional)",
                    api_key or "",
                    type="password",
                    key="campaign_api_key",
                    help="Sent only to the base URL above.",
                )
                or None
            )
            st.caption("Customer text is masked (emails, phones, card numbers) before it is sent.")
    config = LMConfig(
        model=name,
        gguf_path=gguf_path,
        base_url=base_url,
        api_model=api_model,
        api_key=api_key,
        context_tokens=config.context_tokens,
        gpu_layers=config.gpu_layers,
    )
    st.session_state[state.LM_CONFIG] = config
    return config


OTHER_OFFER = "__other__"
NO_OFFER = ""


def offer_choices(profile: SegmentProfile) -> dict[str, str]:
    """Offer -> how the picker shows it: the segment's next best offers, then the offers
    typed before for this run (newest first)."""
    choices = {NO_OFFER: "No offer"}
    for offer in profile.offers:
        choices.setdefault(offer.value, f"{offer.value} — next best offer ({offer.column})")
    for typed in reversed(st.session_state.get(state.OFFERS_TYPED, [])):
        choices.setdefault(typed, f"{typed} — used before")
    return choices


def remember_offer(offer: str) -> None:
    """Keep ``offer`` for the picker (and ``drafts.json``)."""
    typed: list[str] = st.session_state[state.OFFERS_TYPED]
    if offer.strip() and offer not in typed:
        typed.append(offer)


def offer_picker(profile: SegmentProfile, *, key: str) -> str:
    """The offer: picked from the segment's next best offers and earlier ones, or typed.

    Typed text wins over the pick, so the sidebar's single box keeps working."""
    choices = offer_choices(profile)
    options = list(choices)
    picked = NO_OFFER
    if len(options) > 1:
        picked = st.selectbox(
            "Offer",
            options,
            format_func=choices.__getitem__,
            key=f"{key}_offer_pick",
            help="The segment's next best offers (products its customers hold more than "
            "others) and the offers written before for this run.",
        )
    typed = st.text_input(
        "Offer or product (your words)" if len(options) > 1 else "Offer or product",
        key=f"{key}_offer",
        placeholder=(
            f"e.g. {profile.offers[0].value}, their next best offer"
            if profile.offers
            else "e.g. first month of Plus free"
        ),
        help="The copy mentions no discount or price that is not written here.",
    )
    return typed.strip() or picked


def brief_form(
    profile: SegmentProfile, *, key: str = "campaign", voice_box: bool = True
) -> CampaignBrief:
    """The brief widgets for one segment; the brand profile is the session's.

    ``key`` prefixes every widget key (the sidebar's ``campaign``, the Campaigns page's
    ``campaigns``); ``voice_box`` adds a one-off voice note over the brand's."""
    left, right = st.columns(2)
    goal: str = left.selectbox(
        "Goal", list(GOAL_LABELS), format_func=lambda g: GOAL_LABELS[g], key=f"{key}_goal"
    )
    channel = right.selectbox(
        "Channel",
        list(CHANNELS),
        format_func=lambda c: CHANNELS[c].label,
        key=f"{key}_channel",
    )
    tone = left.selectbox("Tone", TONES, key=f"{key}_tone")
    # In words, as the copy will be written: a table without text gets its column names' language.
    segment_language = language_name(default_language(profile))
    languages = [AUTO_LANGUAGE, *LANGUAGE_NAMES]
    language = right.selectbox(
        "Language",
        languages,
        format_func=lambda c: (
            f"{segment_language} (segment's)" if c == AUTO_LANGUAGE else LANGUAGE_NAMES[c]
        ),
        key=f"{key}_language",
    )
    offer = offer_picker(profile, key=key)
    brand: BrandProfile = st.session_state.get(state.BRAND) or BrandProfile()
    voice = ""
    if voice_box:
        voice = st.text_area(
            "Brand voice notes",
            key=f"{key}_voice",
            placeholder="e.g. plain words, no exclamation marks, sign off as 'The Acme team'",
            height=68,
        )
    variants = st.number_input(
        "Variants (for A/B tests)", 1, MAX_VARIANTS, 1, key=f"{key}_variants"
    )
    return CampaignBrief(
        channel=channel,
        goal=goal,
        tone=tone,
        language=language,
        offer=offer,
        brand_voice=voice or brand.voice_notes,
        variants=int(variants),
        brand=brand,
    )


BRAND_FIELDS = (
    ("brand_name", "Brand name", "Acme"),
    ("sender_name", "Sender name", "Maya from the Acme team"),
    ("sign_off", "Sign-off", "Warm regards"),
    ("voice_notes", "Voice notes", "plain words, no exclamation marks"),
    ("banned_words", "Banned words (comma-separated)", "cheap, deal, hurry"),
    ("sms_opt_out", "SMS opt-out text", "Reply STOP to opt out"),
    ("policy_text", "Policy text for replies", "Refunds within 30 days of delivery."),
)


def _brand_widget_values(brand: BrandProfile) -> dict[str, str]:
    values = {name: str(getattr(brand, name)) for name, _, _ in BRAND_FIELDS}
    values["banned_words"] = ", ".join(brand.banned_words)
    return values


def show_brand(brand: BrandProfile, *, key: str) -> None:
    """Put ``brand`` into the form's boxes (after it was restored from the run)."""
    for name, value in _brand_widget_values(brand).items():
        st.session_state[f"{key}_{name}"] = value


def brand_form(*, key: str = "campaigns_brand") -> BrandProfile:
    """Every ``BrandProfile`` field, saved with the run when the form is submitted."""
    brand: BrandProfile = st.session_state[state.BRAND]
    for name, value in _brand_widget_values(brand).items():
        st.session_state.setdefault(f"{key}_{name}", value)
    with st.form(f"{key}_form", border=False):
        left, right = st.columns(2)
        values: dict[str, str] = {}
        for index, (name, label, example) in enumerate(BRAND_FIELDS):
            column = left if index % 2 == 0 else right
            if name in ("voice_notes", "policy_text"):
                values[name] = st.text_area(
                    label, key=f"{key}_{name}", placeholder=f"e.g. {example}", height=90
                )
            else:
                values[name] = column.text_input(
                    label, key=f"{key}_{name}", placeholder=f"e.g. {example}"
                )
        if st.form_submit_button("Save brand profile"):
            banned = tuple(w.strip() for w in values["banned_words"].split(",") if w.strip())
            texts = {k: v.strip() for k, v in values.items() if k != "banned_words"}
            brand = BrandProfile(**texts, banned_words=banned)
            st.session_state[state.BRAND] = brand
    return brand


def _render_partial(text: str, channel: str) -> str:
    fields = partial_fields(text)
    if not fields:
        return "…"
    spec = CHANNELS[channel]
    labels = {f.name: f.label for f in spec.fields}
    return "\n\n".join(f"{labels.get(k, k)}: {v}" for k, v in fields.items()) + " ▌"


def _keep(draft: Draft) -> None:
    st.session_state[state.DRAFTS].setdefault(draft.segment_id, []).append(draft)


def lessons_for(profile: SegmentProfile) -> PastResults | None:
    """What the campaign results on the Results page showed for this segment, when the
    user lets drafts use them (``state.USE_RESULTS``)."""
    report = state.get(state.RESULTS_REPORT)
    if report is None or not st.session_state.get(state.USE_RESULTS, True):
        return None
    stored = {d.draft_id: draft_to_dict(d) for d in all_drafts()}
    return report.lessons(profile.segment_id, stored) or None


def past_results_note(profile: SegmentProfile, *, key: str) -> None:
    """Whether the next draft carries what worked before, and what that is, in words."""
    report = state.get(state.RESULTS_REPORT)
    if report is None:
        st.caption(
            "Drafts do not know how earlier campaigns did: bring results in on the "
            "Campaign results page and the brief will carry what worked for each segment."
        )
        return
    lessons = report.lessons(
        profile.segment_id, {d.draft_id: draft_to_dict(d) for d in all_drafts()}
    )
    if not lessons:
        st.caption(
            f"The results from {report.results.source} have too few customers of this "
            "segment to say what worked: the draft will not mention them."
        )
        return
    use = st.toggle(
        f"Use what worked before ({report.results.source})",
        value=st.session_state.get(state.USE_RESULTS, True),
        key=f"{key}_use_results",
        help="The prompt then carries these measured results; each draft records them.",
    )
    st.session_state[state.USE_RESULTS] = use
    with st.expander("What earlier campaigns showed for this segment", expanded=False):
        for line in lessons.lines:
            st.markdown(f"- {plain(line)}")


def run_drafting(
    profile: SegmentProfile, brief: CampaignBrief, generator: TextGenerator, *, replace_id: str = ""
) -> None:
    """Stream drafts into the panel; each finished variant is kept at once."""
    existing: list[Draft] = st.session_state[state.DRAFTS].get(profile.segment_id, [])
    live = st.empty()
    st.session_state[state.DRAFTING] = True

    def show(variant: int, text: str) -> None:
        live.text(
            f"Variant {variant} of {brief.variants}\n\n{_render_partial(text, brief.channel)}"
        )

    def keep(draft: Draft) -> None:
        if replace_id:
            drafts = st.session_state[state.DRAFTS][profile.segment_id]
            index = next(i for i, d in enumerate(drafts) if d.draft_id == replace_id)
            drafts[index] = replace(draft, variant=drafts[index].variant)
        else:
            _keep(draft)

    remember_offer(brief.offer)
    with heavy_job(), st.spinner(f"Drafting with {generator.model_id}…"):
        try:
            draft_campaign(
                profile,
                brief,
                generator,
                on_text=show,
                on_draft=keep,
                earlier=[d for d in existing if d.brief.channel == brief.channel],
                past=lessons_for(profile),
            )
        except SegmenterError as error:
            st.error(str(error))
        finally:
            st.session_state[state.DRAFTING] = False
    live.empty()


def draft_list(profile: SegmentProfile, generator_for_regenerate: TextGenerator | None) -> None:
    """This segment's kept drafts: edit, copy, regenerate, remove."""
    drafts: list[Draft] = st.session_state[state.DRAFTS].get(profile.segment_id, [])
    if not drafts:
        st.caption("No drafts for this segment yet.")
        return
    for draft in list(drafts):
        spec = draft.brief.spec
        title = (
            f"{spec.label} · {GOAL_LABELS[draft.brief.goal]} · v{draft.variant} "
            f"({draft.seconds:.0f} s)"
        )
        with st.expander(title, expanded=draft is drafts[-1]):
            if draft.problems:
                st.warning("Check before use: " + "; ".join(draft.problems))
            if draft.fields:
                new_fields = {}
                for f in spec.fields:
                    limit = field_limit(f, draft.language, draft.brief.channel)
                    new_fields[f.name] = st.text_area(
                        f.label + (f" (max {limit})" if limit else ""),
                        draft.fields.get(f.name, ""),
                        key=f"campaign_{draft.draft_id}_{f.name}",
                        height=150 if f.name == "body" else 68,
                    )
                if new_fields != dict(draft.fields):
                    index = drafts.index(draft)
                    drafts[index] = draft = edited(draft, new_fields)
            else:
                st.text(draft.raw_text)
            st.caption(f"{draft.model_id} · {draft.language}")
            if draft.informed_by:
                st.caption("Informed by: " + plain("; ".join(draft.informed_by)))
            with st.popover("Copy as text", width="stretch"):
                st.code(draft.as_text(), language=None, wrap_lines=True)
            left, right = st.columns(2)
            if left.button("Regenerate", key=f"campaign_regen_{draft.draft_id}") and (
                generator_for_regenerate is not None
            ):
                run_drafting(
                    profile,
                    replace(draft.brief, variants=1),
                    generator_for_regenerate,
                    replace_id=draft.draft_id,
                )
                st.rerun()
            if right.button("Remove", key=f"campaign_remove_{draft.draft_id}"):
                drafts.remove(draft)
                st.rerun()


def all_drafts() -> list[Draft]:
    """Every kept draft of this session, in segment order."""
    drafts: dict[int, list[Draft]] = st.session_state.get(state.DRAFTS, {})
    return [d for segment in sorted(drafts) for d in drafts[segment]]


def draft_downloads(drafts: Sequence[Draft], *, key: str) -> None:
    """CSV and Markdown downloads of ``drafts``."""
    if not drafts:
        return
    left, right = st.columns(2)
    left.download_button(
        "Drafts (CSV)",
        to_csv_bytes(drafts_frame(drafts)),
        "campaign_drafts.csv",
        "text/csv",
        key=f"{key}_csv",
    )
    right.download_button(
        "Drafts (Markdown)",
        drafts_markdown(drafts).encode("utf-8"),
        "campaign_drafts.md",
        "text/markdown",
        key=f"{key}_md",
    )


def segment_picker_key(prefix: str, profiles: Sequence[SegmentProfile]) -> str:
    """The key of a segment picker, following the segment names: a widget keeps the labels
    it was built with, so after a rename a new widget shows the new names."""
    names = "|".join(p.name for p in profiles)
    return f"{prefix}_{hashlib.sha256(names.encode()).hexdigest()[:8]}"


def _remember_segment(key: str) -> None:
    st.session_state[state.CHOSEN_SEGMENT] = st.session_state[key]


def draft_controls(
    profile: SegmentProfile, brief: CampaignBrief, *, key: str
) -> TextGenerator | None:
    """The model settings and the Draft and Stop buttons, drafting when Draft is pressed;
    returns the session's generator (``None`` when it cannot be had: the error is shown).

    ``key`` prefixes the buttons' keys (the sidebar's ``campaign``, the page's
    ``campaigns``)."""
    config = model_settings()
    generator: TextGenerator | None = None
    try:
        generator = session_generator(config)
    except SegmenterError as error:
        st.error(str(error))
    # A local model loads (and reads the prompt's fixed start) while the brief is written.
    preload = getattr(generator, "load_in_background", None)
    if callable(preload):
        preload()
    past_results_note(profile, key=key)
    draft_col, stop_col = st.columns(2)
    clicked = draft_col.button(
        "Draft copy", type="primary", key=f"{key}_draft", disabled=generator is None
    )
    stop_col.button("Stop", key=f"{key}_stop", help="Stops the model; finished variants stay.")
    if clicked and generator is not None:
        run_drafting(profile, brief, generator)
    return generator


def campaign_panel(profiles: Sequence[SegmentProfile], suggested_segment: int | None) -> None:
    """The whole side panel: pick a segment, write a brief, draft, keep and export."""
    st.header("Campaign copy")
    run = state.get(state.RUN)
    if run is not None:
        restore_campaign(run)
    st.page_link(
        CAMPAIGNS_PAGE, label="Open the Campaigns page: more room, variants side by side", icon="✍️"
    )
    if st.session_state.get(state.DRAFTING):
        st.info("Drafting stopped. Variants finished before the stop are kept below.")
        st.session_state[state.DRAFTING] = False
    ids = [p.segment_id for p in profiles]
    by_id = {p.segment_id: p for p in profiles}
    chosen = st.session_state.get(state.CHOSEN_SEGMENT)
    if (
        suggested_segment in by_id
        and st.session_state.get(state.SUGGESTED_SEGMENT) != suggested_segment
    ):
        # A new selection on the map picks the segment; after that the user's choice stands.
        chosen = suggested_segment
        st.session_state[state.SUGGESTED_SEGMENT] = suggested_segment
    if chosen not in by_id:
        chosen = ids[0]
    key = segment_picker_key(SEGMENT_PICKER, profiles)
    if st.session_state.get(key) != chosen:
        st.session_state[key] = chosen
    segment = st.selectbox(
        "Segment",
        ids,
        format_func=lambda i: f"{i}. {by_id[i].name} ({by_id[i].size:,})",
        key=key,
        help="Or select customers on the map: their segment is picked here.",
        on_change=_remember_segment,
        args=(key,),
    )
    st.session_state[state.CHOSEN_SEGMENT] = segment
    profile = by_id[segment]
    brief = brief_form(profile)
    generator = draft_controls(profile, brief, key="campaign")
    st.subheader(f"Drafts for segment {segment}")
    draft_list(profile, generator)
    draft_downloads(all_drafts(), key="campaign_download")
    if run is not None:
        persist_campaign(run)


def _show_reply(live: Any, text: str) -> None:
    live.text(partial_fields(text).get("reply", "…"))


def reply_section(
    texts: Sequence[str],
    rows: Sequence[int],
    labels: Sequence[str],
    *,
    brand_voice: str = "",
    key: str = "segments_reply",
    expanded: bool = False,
) -> None:
    """Draft a reply to one selected customer, in their language, with the same guards.

    ``key`` prefixes the widget keys, so a page can offer replies in two places (the map's
    selection and a call list)."""
    candidates = [row for row in rows if texts[row].strip()][:500]
    if not candidates:
        return
    with st.expander("Reply to a customer", expanded=expanded):
        row = st.selectbox(
            "Customer", candidates, format_func=lambda r: labels[r], key=f"{key}_row"
        )
        st.text(f"“{texts[row][:600]}”")
        offer = st.text_input(
            "What you can offer (optional)", key=f"{key}_offer", placeholder="a replacement"
        )
        if st.button("Draft a reply", key=f"{key}_draft"):
            try:
                generator = session_generator(st.session_state[state.LM_CONFIG])
                live = st.empty()
                with st.spinner(f"Drafting with {generator.model_id}…"):
                    result = draft_reply(
                        texts[row],
                        generator,
                        brand_voice=brand_voice,
                        offer=offer,
                        brand=st.session_state.get(state.BRAND),
                        on_text=lambda text: _show_reply(live, text),
                    )
                live.empty()
                st.session_state[state.REPLY] = (row, result)
            except SegmenterError as error:
                st.error(str(error))
        kept = st.session_state.get(state.REPLY)
        if kept is not None and kept[0] == row:
            result = kept[1]
            if result.needs_human:
                st.error(
                    f"For a person, not an automatic reply: this complaint mentions "
                    f"{' and '.join(result.needs_human)}. Use the draft only as a starting point."
                )
            if result.problems:
                st.warning("Check before use: " + "; ".join(result.problems))
            reply = result.fields.get("reply") or result.raw_text
            st.code(reply, language=None, wrap_lines=True)
            st.caption(f"{result.model_id} · {result.seconds:.0f} s")


# --- kept with the run ----------------------------------------------------------------------


def restore_campaign(run: SegmentationRun) -> Path:
    """Once per run: bring back the drafts, brand profile and offers saved with it.

    Returns the folder they are saved in."""
    kept = st.session_state.get(state.CAMPAIGN_STORE)
    if kept is not None and kept[0] == id(run):
        return Path(kept[1])
    folder = campaign_folder(run)
    saved = load_campaign(folder)
    drafts: dict[int, list[Draft]] = st.session_state[state.DRAFTS]
    known = {d.draft_id for segment in drafts.values() for d in segment}
    for draft in saved.drafts:
        if draft.draft_id not in known:
            drafts.setdefault(draft.segment_id, []).append(draft)
    if saved.brand is not None:
        st.session_state[state.BRAND] = saved.brand
        show_brand(saved.brand, key="campaigns_brand")
    for offer in saved.offers:
        remember_offer(offer)
    restore_results(run)  # what worked before, for the briefs
    st.session_state[state.CAMPAIGN_STORE] = (id(run), str(folder))
    st.session_state[state.CAMPAIGN_SAVED] = _payload_text()
    return folder


def _payload_text() -> str:
    payload = campaign_payload(all_drafts(), st.session_state[state.OFFERS_TYPED])
    payload["brand"] = st.session_state[state.BRAND].to_dict()
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def persist_campaign(run: SegmentationRun) -> None:
    """Save the drafts, brand profile and offers with the run when they changed."""
    folder = restore_campaign(run)
    text = _payload_text()
    if text == st.session_state.get(state.CAMPAIGN_SAVED):
        return
    try:
        save_campaign(
            folder,
            all_drafts(),
            st.session_state[state.BRAND],
            st.session_state[state.OFFERS_TYPED],
        )
    except SegmenterError as error:
        st.warning(str(error))
        return
    st.session_state[state.CAMPAIGN_SAVED] = text


# --- the Campaigns page's drafts: variants side by side -------------------------------------


def _group(draft: Draft) -> tuple[str, ...]:
    brief = draft.brief
    return (brief.channel, brief.goal, brief.tone, draft.language, brief.offer)


def variant_column(
    profile: SegmentProfile, draft: Draft, generator: TextGenerator | None, *, key: str
) -> None:
    """One variant: its checks, its fields in boxes wide and tall enough to edit, actions."""
    drafts: list[Draft] = st.session_state[state.DRAFTS][profile.segment_id]
    spec = draft.brief.spec
    st.markdown(f"**Variant {draft.variant}**")
    if draft.problems:
        st.warning("Check before use: " + "; ".join(draft.problems))
    if draft.fields:
        new_fields = {}
        for f in spec.fields:
            limit = field_limit(f, draft.language, draft.brief.channel)
            long = f.name in ("body", "text", "primary_text") and (f.max_chars or 0) > 150
            new_fields[f.name] = st.text_area(
                f.label + (f" (max {limit})" if limit else ""),
                draft.fields.get(f.name, ""),
                key=f"{key}_{draft.draft_id}_{f.name}",
                height=320 if long else (120 if f.name in ("text", "body") else 68),
            )
        if new_fields != dict(draft.fields):
            index = drafts.index(draft)
            drafts[index] = draft = edited(draft, new_fields)
    else:
        st.text(draft.raw_text)
    st.caption(f"{draft.language} · {draft.model_id} · {draft.seconds:.0f} s")
    if draft.informed_by:
        st.caption("Informed by: " + plain("; ".join(draft.informed_by)))
    left, right = st.columns(2)
    if left.button("Regenerate", key=f"{key}_regen_{draft.draft_id}") and generator is not None:
        run_drafting(
            profile, replace(draft.brief, variants=1), generator, replace_id=draft.draft_id
        )
        st.rerun()
    if right.button("Remove", key=f"{key}_remove_{draft.draft_id}"):
        drafts.remove(draft)
        st.rerun()


def draft_board(
    profile: SegmentProfile, generator: TextGenerator | None, *, key: str = "campaigns"
) -> None:
    """This segment's drafts, one row per brief with its variants side by side."""
    drafts: list[Draft] = st.session_state[state.DRAFTS].get(profile.segment_id, [])
    if not drafts:
        st.caption("No drafts for this segment yet: write a brief and click Draft copy.")
        return
    groups: dict[tuple[str, ...], list[Draft]] = {}
    for draft in drafts:
        groups.setdefault(_group(draft), []).append(draft)
    for (channel, goal, tone, language, offer), group in reversed(groups.items()):
        with st.container(border=True):
            st.markdown(
                f"**{plain(CHANNELS[channel].label)} · {plain(GOAL_LABELS[goal])}** — "
                f"{plain(tone)}, in {plain(language)}"
                + (f", offer: {plain(offer)}" if offer else ", no offer")
            )
            for start in range(0, len(group), 3):  # at most three across, so boxes stay wide
                row = group[start : start + 3]
                for column, draft in zip(st.columns(len(row)), row, strict=True):
                    with column:
                        variant_column(profile, draft, generator, key=key)


def campaign_plan_downloads(
    run: SegmentationRun,
    profiles: Sequence[SegmentProfile],
    drafts: Sequence[Draft],
    *,
    stem: str,
    excel: bool = False,
) -> None:
    """The campaign plan (CSV, one row per targeted customer) and its brief (JSON)."""
    channels = plan_channels(drafts)
    if not channels:
        st.caption("No draft has copy to send yet (every draft failed to parse).")
        return
    st.markdown("**Campaign plan** — one row per customer of the segments with drafts")
    left, middle, right, last = st.columns(4)
    channel = left.selectbox(
        "Channel",
        channels,
        format_func=lambda c: CHANNELS[c].label,
        key="export_plan_channel",
        help="A plan is for one sending tool: the segments with drafts on this channel.",
    )
    country = middle.text_input(
        "Country code for phones without one",
        key="export_plan_country",
        placeholder="e.g. 44 or 1",
        help="SMS tools need +CC numbers (E.164); numbers already written with + or 00 "
        "are converted without it.",
    )
    # The default seed follows the run, so the same run gives the same split after a reload.
    default_seed = int(run_fingerprint(run)[:6], 16) % 100_000
    seed = right.number_input(
        "Random seed for variants",
        0,
        999_999,
        default_seed,
        key="export_plan_seed",
        help="Recorded in the plan brief: the same seed gives the same assignment.",
    )
    control = last.number_input(
        "Hold out as control (%)",
        0,
        int(MAX_CONTROL_SHARE * 100),
        0,
        step=5,
        key="export_plan_control",
        help="Customers of each segment left out of the send, chosen by the same seed: "
        "their results, beside the contacted customers', show what the campaign itself "
        "changed (uplift). Without them only response rates can be measured.",
    )
    try:
        plan = campaign_plan(
            run.loaded.frame,
            run.result.labels,
            run.prepared.ids.tolist(),
            drafts,
            channel=channel,
            segment_names={p.segment_id: p.name for p in profiles},
            seed=int(seed),
            country_code=country,
            id_column=run.schema.id_column,
            control_share=int(control) / 100,
        )
    except SegmenterError as error:
        st.error(str(error))
        return
    contacts = ", ".join(f"{k} (from {v})" for k, v in plan.contacts.items()) or "none found"
    st.caption(
        f"{len(plan.frame):,} customers in {len(plan.variants)} "
        f"{'segment' if len(plan.variants) == 1 else 'segments'}; contact columns: "
        f"{contacts}. Contacts are your own data for your own tool, so they are not masked."
    )
    flagged = [d for chosen in plan.variants.values() for d in chosen if d.problems]
    if flagged:
        st.warning(
            f"{len(flagged)} of the plan's variants failed a check (see the drafts): "
            + "; ".join(f"segment {d.segment_id} v{d.variant}: {d.problems[0]}" for d in flagged)
        )
    if plan.phones_not_normalised:
        st.warning(
            f"{plan.phones_not_normalised:,} phone numbers could not be written as +CC "
            "numbers: give the country code above, or check the rows with a phone_note."
        )
    left, right = st.columns(2)
    left.download_button(
        "Campaign plan (CSV)",
        to_csv_bytes(plan.frame, excel_bom=excel),
        f"{stem}_campaign_plan_{channel}.csv",
        "text/csv",
        key="export_plan_csv",
        type="primary",
    )
    right.download_button(
        "Campaign plan brief (JSON)",
        json.dumps(
            plan_brief(plan, st.session_state[state.BRAND]), ensure_ascii=False, indent=2
        ).encode("utf-8"),
        f"{stem}_campaign_plan_{channel}.json",
        "application/json",
        key="export_plan_json",
    )
    if len(plan.holdout):
        st.caption(
            f"{len(plan.holdout):,} customers held out as the control group: do not send "
            "to them. To measure the campaign, add outcome columns (opened, converted …) "
            "to the plan and to this list, put them in one file and bring it to the "
            "Campaign results page."
        )
        st.download_button(
            "Control group (CSV)",
            to_csv_bytes(plan.holdout, excel_bom=excel),
            f"{stem}_campaign_control_{channel}.csv",
            "text/csv",
            key="export_plan_control_csv",
        )
