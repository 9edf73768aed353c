"""Reusable page pieces. Customer text is shown with ``st.text`` so it is never
rendered as Markdown or HTML."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from segmenter.campaign import SegmentPersona
from segmenter.cards import sentiment_chart, trait_chart
from segmenter.errors import SegmenterError
from segmenter.offers import describe_offer
from segmenter.profile import SegmentProfile, describe_traits
from segmenter.runs import describe_run, find_runs, runs_root
from segmenter.sentiment import describe_feedback

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """Escape Markdown so user-supplied text (file names, column names, values) shows as is."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def rows_from_selection(event: Any) -> list[int]:
    """Row keys of the points selected on the map (read from ``customdata``, not indices)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return []
    rows: list[int] = []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list | tuple) and custom:
            rows.append(int(custom[0]))
        elif isinstance(custom, int | float):
            rows.append(int(custom))
    return sorted(set(rows))


def selection_of(event: Any) -> dict[str, Any]:
    """The ``selection`` part of a chart event (empty when there is none)."""
    try:
        selection = event["selection"]
    except (KeyError, TypeError):
        return {}
    return dict(selection) if selection else {}


def most_common_segment(labels: Any, rows: list[int]) -> int | None:
    """The segment most of ``rows`` belong to, or ``None`` when none are segmented."""
    segments = [int(labels[row]) for row in rows if int(labels[row]) >= 0]
    if not segments:
        return None
    return max(set(segments), key=segments.count)


def _numeric_table(profile: SegmentProfile) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": [t.label or t.column for t in profile.numeric],
            "segment mean": [round(t.segment_mean, 2) for t in profile.numeric],
            "all customers": [round(t.overall_mean, 2) for t in profile.numeric],
            "lift": [round(t.lift, 2) for t in profile.numeric],
            "z": [round(t.z, 2) for t in profile.numeric],
        }
    )


def _category_table(profile: SegmentProfile) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": [t.label or t.column for t in profile.categories],
            "value": [t.value for t in profile.categories],
            "in segment": [f"{t.segment_share:.0%}" for t in profile.categories],
            "all customers": [f"{t.overall_share:.0%}" for t in profile.categories],
            "lift": [round(t.lift, 2) for t in profile.categories],
        }
    )


CARD_QUOTES = 3
"""Quotes on the face of a card; the rest are behind its expander."""


def profile_card(
    profile: SegmentProfile,
    *,
    key: str,
    persona: str = "",
    named: SegmentPersona | None = None,
    drivers: str = "",
) -> str | None:
    """One segment as a card a marketer reads in ten seconds: name, size and share, a chart
    of the traits that set it apart (in words), its feedback, keywords and three quotes;
    the tables, the other quotes and the name box behind an expander.

    Args:
        persona: the language model's one-line persona, when it wrote one.
        named: the model's naming of this segment: what it rests on, and a note when the
            model's name was not kept.
        drivers: one line on which columns drive the segment.

    Returns:
        The (possibly edited) name.
    """
    with st.container(border=True):
        st.markdown(f"#### {profile.segment_id}. {plain(profile.name)}")
        st.caption(f"{profile.size:,} customers · {profile.share:.0%} of all customers")
        if drivers:  # as fusion.describe_drivers writes it (its own words and percentages)
            st.caption(drivers)
        if persona:
            st.markdown("**Persona** (written by the language model)")
            st.text(persona)
        if named is not None and named.grounds:
            st.caption("Rests on: " + " · ".join(plain(g) for g in named.grounds))
        if named is not None and named.note:
            st.warning(plain(named.note), icon="⚠️")
        statements = describe_traits(profile)
        st.markdown("**What sets this segment apart**")
        if statements:
            st.plotly_chart(trait_chart(statements), key=f"{key}_traits")
        else:
            st.caption("No column sets this segment apart from all customers.")
        left, right = st.columns(2)
        with left:
            if profile.feedback is not None:
                st.markdown("**Feedback sentiment**")
                st.plotly_chart(sentiment_chart(profile.feedback), key=f"{key}_sentiment")
                st.caption(plain(describe_feedback(profile.feedback, profile.size)))
        with right:
            if profile.keywords:
                st.markdown("**Distinctive words**")
                st.text(", ".join(profile.keywords))
            if profile.offers:
                st.markdown("**Next best offers** (held more than by all customers)")
                st.text("\n".join(describe_offer(o) for o in profile.offers))
        if profile.examples:
            st.markdown("**In their words**")
            for example in profile.examples[:CARD_QUOTES]:
                st.text(f"“{example}”")
        with st.expander("Rename · tables · more quotes", expanded=False):
            name = st.text_input("Segment name", profile.name, key=f"{key}_name")
            if profile.feedback is not None and profile.feedback.examples:
                st.markdown("**Urgent feedback**")
                for quote in profile.feedback.examples:
                    st.text(f"⚠ “{quote}”")
            if profile.numeric:
                st.markdown("**Numbers against all customers**")
                st.dataframe(_numeric_table(profile), hide_index=True, key=f"{key}_numeric")
            if profile.categories:
                st.markdown("**Over-represented categories**")
                st.dataframe(_category_table(profile), hide_index=True, key=f"{key}_categories")
            for example in profile.examples[CARD_QUOTES:]:
                st.text(f"“{example}”")
    return name


def open_finished_run() -> None:
    """Pick a run folder that the command line wrote (either engine) and show it."""
    from segmenter.ui.data import accept_run  # noqa: PLC0415 - data imports the models

    root = runs_root()
    with st.expander("Open a finished run"):
        folders = find_runs(root)
        if not folders:
            st.caption(
                f"No run folders in {root.resolve()}. Segment a large table with `python -m "
                f"segmenter segment TABLE --out {root}/NAME` (add `--engine ray` on a Ray "
                "cluster), or set SEGMENTER_RUNS_DIR to the folder that holds your runs."
            )
            return
        labels = {describe_run(f, root): f for f in folders}
        chosen = st.selectbox(
            f"Run folders in {root.resolve()}", list(labels), key="upload_run_folder"
        )
        if st.button("Open run", key="upload_open_run"):
            try:
                accept_run(labels[chosen])
            except SegmenterError as error:
                st.error(plain(str(error)))
                return
            st.switch_page("pages/2_Segments.py")
