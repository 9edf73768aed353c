"""The one list of session-state keys: what each holds and which page writes it.

A new upload clears everything downstream of it, so no page shows results of an
earlier file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from segmenter.campaign import BrandProfile
from segmenter.config import LMConfig
from segmenter.errors import SegmenterError
from segmenter.run_budget import HeldRun, run_budget

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun

# key                      type                         written by
UPLOAD_FINGERPRINT = "upload_fingerprint"  # str (sha256 of the file)   Upload, Home (sample)
LOADED = "loaded"  # segmenter.ingest.LoadedTable                      Upload, Home (sample)
SCHEMA = "schema"  # segmenter.ingest.Schema (with the user's roles)    Upload
RUN = "run"  # segmenter.run_budget.HeldRun of a SegmentationRun (read it with ``get``:
#              the server may have moved it to its run folder)           Segments
RUN_FOLDER = "run_folder"  # str: where the dashboard saved RUN (``ui.saved``)  Segments
SEGMENT_NAMES = "segment_names"  # dict[int, str], user-edited names    Segments
SAVED_SELECTIONS = "saved_selections"  # dict[str, list[int]] row keys Segments
SEARCH_ROWS = "search_rows"  # list[int] rows matching the search      Segments
AUTO_RUN = "auto_run"  # bool: segment on arrival with default settings Home (sample)
DRAFTS = "drafts"  # dict[int, list[segmenter.campaign.Draft]] by segment  Segments (panel)
PERSONAS = "personas"  # dict[int, str] one-line personas from the LM  Segments
LM_NAMES = "lm_names"  # dict[int, segmenter.campaign.SegmentPersona]: what each LM name
#                        rests on, and why one was not kept                  Segments
COLUMN_LABELS = "column_labels"  # dict[str, str] column labels the user edited  Upload
LABEL_PROPOSALS = "label_proposals"  # dict[str, str] labels the LM proposed, not yet
#                                      confirmed                           Upload
LM_CONFIG = "lm_config"  # segmenter.config.LMConfig, this user's model   Segments (panel)
DRAFTING = "drafting"  # bool: a draft was streaming when the script last ran Segments (panel)
REPLY = "reply"  # tuple[int, segmenter.campaign.Generated]: row and reply  Segments
PREDICTION = "prediction"  # segmenter.predict.Prediction                    Predict
TRANSACTIONS = "transactions"  # segmenter.transactions.CustomerTable (a log turned
#                                into customers; LOADED then holds the customers)  Upload
TRANSACTION_LOG = "transaction_log"  # segmenter.ingest.LoadedTable, the log itself    Upload
BRAND = "brand"  # segmenter.campaign.BrandProfile: who speaks; kept across runs   Campaigns
OFFERS_TYPED = "offers_typed"  # list[str] offers written in briefs for this run   Campaigns
CAMPAIGN_STORE = "campaign_store"  # tuple[int, str]: id of the run whose drafts were
#                                    restored, and the folder they are saved in    Campaigns
CAMPAIGN_SAVED = "campaign_saved"  # str: what was last written there (no rewrite)  Campaigns
CHOSEN_SEGMENT = "campaign_chosen_segment"  # int: the segment being drafted for  Campaigns,
#                                             Segments (panel)
SUGGESTED_SEGMENT = "campaign_suggested"  # int: the segment the map's selection last picked
#                                           (the user's pick stands after it)  Segments (panel)
RESULTS_REPORT = "results_report"  # segmenter.results.ResultsReport  Results
RESULTS_TARGETS = "results_targets"  # segmenter.results.TargetList: the ranking last shown  Results
RESULTS_RESTORED = "results_restored"  # int: id of the run whose kept results were looked for
#                                        Results, Campaigns (``ui.results.restore_results``)
USE_RESULTS = "use_results"  # bool: drafts carry what worked before (RESULTS_REPORT)  Campaigns,
#                              Segments (panel)
CALL_PICKED = "segments_call_picked"  # int: the call-list row last picked in the table  Segments

# Widget keys read or set outside the widget that owns them (a widget's own key is set where
# it is drawn, prefixed with its page's name).
CAMPAIGN_VOICE = "campaign_voice"  # str: the side panel's brand-voice notes  Segments (panel)
CALL_REPLY = "segments_call_reply"  # prefix of the call list's reply box  Segments
CALL_REPLY_ROW = f"{CALL_REPLY}_row"  # int: the customer the call list's reply box shows


def profile_key(page: str, segment_id: int) -> str:
    """The widget-key prefix of a segment's profile card on ``page`` ("segments", "campaigns")."""
    return f"{page}_profile_{segment_id}"


def profile_name_key(page: str, segment_id: int) -> str:
    """The key of the name box on a segment's profile card (``widgets.profile_card``)."""
    return f"{profile_key(page, segment_id)}_name"


_FROM_RUN = (
    RUN_FOLDER,
    SEGMENT_NAMES,
    SAVED_SELECTIONS,
    SEARCH_ROWS,
    DRAFTS,
    PERSONAS,
    LM_NAMES,
    REPLY,
    PREDICTION,
    OFFERS_TYPED,
    CAMPAIGN_STORE,
    CAMPAIGN_SAVED,
    RESULTS_REPORT,
    RESULTS_TARGETS,
    RESULTS_RESTORED,
)
DOWNSTREAM = {
    UPLOAD_FINGERPRINT: (
        LOADED,
        SCHEMA,
        COLUMN_LABELS,
        LABEL_PROPOSALS,
        TRANSACTIONS,
        TRANSACTION_LOG,
        RUN,
        *_FROM_RUN,
    ),
    SCHEMA: (RUN, *_FROM_RUN),
    RUN: _FROM_RUN,
}


def init_state() -> None:
    """Give every key its empty value once per session."""
    st.session_state.setdefault(SEGMENT_NAMES, {})
    st.session_state.setdefault(SAVED_SELECTIONS, {})
    st.session_state.setdefault(SEARCH_ROWS, [])
    st.session_state.setdefault(DRAFTS, {})
    st.session_state.setdefault(PERSONAS, {})
    st.session_state.setdefault(LM_NAMES, {})
    st.session_state.setdefault(COLUMN_LABELS, {})
    st.session_state.setdefault(LM_CONFIG, LMConfig.from_env())
    st.session_state.setdefault(BRAND, BrandProfile())
    st.session_state.setdefault(OFFERS_TYPED, [])


def get(key: str) -> Any:
    """The value under ``key``, or ``None``; for ``RUN``, the run itself (``current_run``)."""
    if key == RUN:
        return current_run()
    return st.session_state.get(key)


def set_run(run: SegmentationRun, folder: Path | None = None) -> None:
    """Make ``run`` the session's run, held under the server's memory budget; with ``folder``
    (the run folder it was opened from), the budget may move it out of memory at once."""
    st.session_state[RUN] = run_budget().hold(run, folder)


def relabel_run(run: SegmentationRun) -> None:
    """Replace the session's run by the same run with other names (``pipeline.with_labels``):
    its folder still reads back as it, with the labels put on again (``current_run``)."""
    held = st.session_state.get(RUN)
    if isinstance(held, HeldRun):
        held.replace(run)
    else:
        set_run(run)


def run_saved(folder: Path) -> None:
    """The session's run was written to ``folder``: the budget may spill it there."""
    held = st.session_state.get(RUN)
    if isinstance(held, HeldRun):
        run_budget().saved(held, folder)


def current_run() -> SegmentationRun | None:
    """The session's run (read back from its folder when the server moved it out of memory),
    or ``None``; when it cannot be read back, says so and forgets it."""
    held = st.session_state.get(RUN)
    if not isinstance(held, HeldRun):
        return held  # None, or a run a test put there directly
    was_in_memory = held.in_memory
    try:
        run = held.run
    except SegmenterError as error:
        st.warning(str(error))
        st.session_state.pop(RUN, None)
        return None
    if not was_in_memory:  # read back from the folder: the user's column labels again
        from segmenter.pipeline import with_labels  # noqa: PLC0415 - pipeline loads models

        run = with_labels(run, st.session_state.get(COLUMN_LABELS) or {})
        held.replace(run)
    return run


def invalidate_downstream(key: str) -> None:
    """Forget everything computed from ``key``'s value."""
    for downstream in DOWNSTREAM.get(key, ()):
        st.session_state.pop(downstream, None)
    init_state()


def require_run(missing_message: str) -> Any:
    """The current ``SegmentationRun``; without one, say what to do, link to Segments, stop."""
    run = get(RUN)
    if run is None:
        st.info(missing_message)
        st.page_link("pages/2_Segments.py", label="Go to Segments", icon="🧭")
        st.stop()
    return run
