"""The pictures of a segment card: what sets the segment apart, and how it feels.

The words come from ``profile.describe_traits``; this module only draws them, so the page,
the CLI's reports and the tests see the same thing.

>>> trait_chart(describe_traits(profile)).show()
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go

from segmenter.profile import TraitStatement
from segmenter.sentiment import SegmentFeedback

ABOVE_COLOUR = "#2166ac"
BELOW_COLOUR = "#b2182b"
WEAK_ABOVE_COLOUR = "#9ecae1"
WEAK_BELOW_COLOUR = "#f4a582"
"""Strong traits (that may name the segment) in full colour, weaker ones paler."""
SENTIMENT_COLOURS = {"negative": "#d73027", "neutral": "#bdbdbd", "positive": "#1a9850"}
AXIS_LIMIT = 3.0
"""Bars are drawn up to three standard deviations; a longer one is cut at the edge (its
words still say how far)."""
WRAP_CHARS = 60
"""Trait sentences wrap at this width so the chart keeps room for its bars."""
ROW_PIXELS = 44


def _wrap(text: str) -> str:
    return "<br>".join(textwrap.wrap(html.escape(text), WRAP_CHARS)) or " "


def trait_chart(statements: Sequence[TraitStatement]) -> go.Figure:
    """Diverging bars, one per trait, strongest at the top: right of zero above the table's
    average, left below, in standard deviations; each bar labelled with its sentence.

    >>> wine = TraitStatement("Spends 2.7× the average on wines", 1.4, "numeric", "MntWines", True)
    >>> trait_chart([wine]).show()
    """
    ordered = list(reversed(statements))  # plotly draws the first category at the bottom
    colours = [
        (ABOVE_COLOUR if s.strong else WEAK_ABOVE_COLOUR)
        if s.strength >= 0
        else (BELOW_COLOUR if s.strong else WEAK_BELOW_COLOUR)
        for s in ordered
    ]
    figure = go.Figure(
        go.Bar(
            x=[max(-AXIS_LIMIT, min(AXIS_LIMIT, s.strength)) for s in ordered],
            y=[_wrap(s.text) for s in ordered],
            orientation="h",
            marker_color=colours,
            hovertext=[html.escape(s.text) for s in ordered],
            hoverinfo="text",
        )
    )
    reach = max((abs(s.strength) for s in ordered), default=1.0)
    limit = min(AXIS_LIMIT, max(1.0, 1.1 * reach))  # the longest bar fills its side
    figure.update_layout(
        height=60 + ROW_PIXELS * max(len(ordered), 1),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
        showlegend=False,
        xaxis={
            "title": "← below average · above average → (standard deviations)",
            "range": [-limit, limit],
            "zeroline": True,
            "zerolinewidth": 2,
        },
        yaxis={"automargin": True},
    )
    return figure


def sentiment_chart(feedback: SegmentFeedback) -> go.Figure:
    """One bar split into the segment's negative, neutral and positive shares."""
    shares = {
        "negative": feedback.share_negative,
        "neutral": feedback.share_neutral,
        "positive": feedback.share_positive,
    }
    figure = go.Figure()
    for mood, share in shares.items():
        figure.add_trace(
            go.Bar(
                x=[share],
                y=["feedback"],
                name=mood,
                orientation="h",
                marker_color=SENTIMENT_COLOURS[mood],
                text=[f"{share:.0%} {mood}" if share >= 0.08 else ""],
                textposition="inside",
                hovertemplate=f"{mood}: {share:.0%}<extra></extra>",
            )
        )
    figure.update_layout(
        barmode="stack",
        height=70,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        xaxis={"visible": False, "range": [0, max(sum(shares.values()), 1e-9)]},
        yaxis={"visible": False},
    )
    return figure
