"""Plotly figures for comparing two runs: the Sankey of customers from A's segments to B's."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go

from segmenter.movement_compare import RunComparison

SEGMENT_COLOURS = px.colors.qualitative.Plotly
"""One colour per segment identity (id modulo the palette), the same on both sides, so a
segment that persists keeps its colour from A to B."""
LINK_OPACITY = 0.35


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def movement_sankey(comparison: RunComparison) -> go.Figure:
    """Customers in both runs flowing from A's segments (left) to B's (right).

    Nodes read "A 2: Big spenders (310)"; a segment of B is coloured as the segment of A it
    continues (a new one gets its own colour), and each link takes its A segment's colour.
    """
    table = comparison.contingency
    identity = comparison.match.identities
    a_ids, b_ids = table.earlier_ids, table.new_ids
    labels = [
        f"A {s}: {comparison.names_a.get(s, '')} ({int(n):,})"
        for s, n in zip(a_ids, table.counts.sum(axis=1), strict=True)
    ] + [
        f"B {s}: {comparison.names_b.get(s, '')} ({int(n):,})"
        for s, n in zip(b_ids, table.counts.sum(axis=0), strict=True)
    ]
    colours = [SEGMENT_COLOURS[s % len(SEGMENT_COLOURS)] for s in a_ids] + [
        SEGMENT_COLOURS[identity.get(s, s) % len(SEGMENT_COLOURS)] for s in b_ids
    ]
    sources, targets, values, link_colours = [], [], [], []
    for i, row in enumerate(table.counts):
        for j, count in enumerate(row):
            if count:
                sources.append(i)
                targets.append(len(a_ids) + j)
                values.append(int(count))
                link_colours.append(_rgba(colours[i], LINK_OPACITY))
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "color": colours, "pad": 12, "thickness": 16},
            link={"source": sources, "target": targets, "value": values, "color": link_colours},
        )
    )
    figure.update_layout(
        title=f"{table.segmented_shared:,} customers in both runs: run A (left) to run B (right)",
        height=max(360, 40 * max(len(a_ids), len(b_ids))),
    )
    return figure
