"""Campaigns: the drafting workspace. Segment cards on one side; brief, brand profile and
drafts on the other, variants side by side. Drafts are saved with the run."""

import streamlit as st

from segmenter.fusion import describe_drivers
from segmenter.ui import state
from segmenter.ui.campaign import (
    all_drafts,
    brand_form,
    brief_form,
    draft_board,
    draft_controls,
    draft_downloads,
    persist_campaign,
    restore_campaign,
    segment_picker_key,
)
from segmenter.ui.data import named_profiles
from segmenter.ui.widgets import plain, profile_card

state.init_state()
st.title("Campaigns")

run = state.require_run("No segments yet: find segments first, then draft campaigns here.")
folder = restore_campaign(run)
profiles = named_profiles(run)
by_id = {p.segment_id: p for p in profiles}
if not profiles:
    st.info("This run has no segments to write for: segment the table again.")
    st.stop()
if st.session_state.get(state.DRAFTING):
    st.info("Drafting stopped. Variants finished before the stop are kept below.")
    st.session_state[state.DRAFTING] = False

cards, work = st.columns([2, 3], gap="large")
with cards:
    chosen = st.session_state.get(state.CHOSEN_SEGMENT)
    if chosen not in by_id:
        chosen = profiles[0].segment_id
    # Keyed by the names, as the sidebar's picker: a renamed segment gets a fresh widget.
    picker = segment_picker_key("campaigns_segment", profiles)
    st.session_state.setdefault(picker, chosen)
    segment = st.selectbox(
        "Segment",
        list(by_id),
        format_func=lambda i: f"{i}. {by_id[i].name} ({by_id[i].size:,})",
        key=picker,
    )
    st.session_state[state.CHOSEN_SEGMENT] = segment
    profile = by_id[segment]
    new_name = profile_card(
        profile,
        key=state.profile_key("campaigns", segment),
        persona=st.session_state[state.PERSONAS].get(segment, ""),
        named=st.session_state[state.LM_NAMES].get(segment),
        drivers=describe_drivers(run.drivers.get(segment, []), run.labels),
    )
    if new_name is not None and new_name != profile.name:
        st.session_state[state.SEGMENT_NAMES][segment] = new_name
        st.rerun()

with work:
    brand = st.session_state[state.BRAND]
    label = f"Brand profile: {brand.brand_name}" if brand.brand_name else "Brand profile"
    with st.expander(label, expanded=not brand.brand_name):
        brand_form()
    st.subheader(f"Brief for {plain(profile.name)}")
    brief = brief_form(profile, key="campaigns", voice_box=False)
    generator = draft_controls(profile, brief, key="campaigns")
    st.subheader("Drafts")
    draft_board(profile, generator)
    drafts = all_drafts()
    if drafts:
        st.divider()
        draft_downloads(drafts, key="campaigns_download")
        st.caption(
            f"{len(drafts)} drafts across all segments, saved in {folder}. The campaign plan "
            "(one row per customer, for an email or SMS tool) is on the Export page."
        )
        st.page_link("pages/5_Export.py", label="Export the campaign plan", icon="📦")

persist_campaign(run)
