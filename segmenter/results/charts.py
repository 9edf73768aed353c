"""Plotly charts of campaign results: rates with their intervals (forest style) and a
segment × campaign heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmenter.results.rates import ALL_SEGMENTS


def rates_forest(rates: pd.DataFrame, outcome: str, campaign: str) -> go.Figure:
    """One row per segment (and per variant, where the campaign had several): the rate as a
    dot, its 95% interval as a bar, all customers' rate as a dashed line. Cells with too
    few customers are listed with no dot."""
    cell = rates[(rates["outcome"] == outcome) & (rates["campaign"] == campaign)]
    several = (cell["variant"] != "").any()
    shown = cell[cell["variant"] != ""] if several else cell
    shown = shown[shown["segment_id"] != ALL_SEGMENTS]
    figure = go.Figure()
    for variant, part in shown.groupby("variant", sort=False):
        label = f"variant {variant!s}" if variant else "rate"
        # One row per segment and variant: the variant's name on the row, or a segment's
        # three variants would read as three segments of the same name.
        suffix = f" · {label}" if several else ""
        rows = part["segment_name"] + [f"{suffix}  ({n:,})" for n in part["customers"]]
        figure.add_trace(
            go.Scatter(
                x=part["rate"] * 100,
                y=rows,
                mode="markers",
                name=label,
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part["rate"]) * 100,
                    "arrayminus": (part["rate"] - part["ci_low"]) * 100,
                },
                customdata=np.column_stack(
                    [part["customers"], part["ci_low"] * 100, part["ci_high"] * 100]
                ),
                hovertemplate="%{y}<br>%{x:.1f}% responded (95%: %{customdata[1]:.1f}–"
                "%{customdata[2]:.1f}%)<br>%{customdata[0]:,} customers<extra></extra>",
            )
        )
    everyone = cell[(cell["segment_id"] == ALL_SEGMENTS) & (cell["variant"] == "")]
    if len(everyone) and pd.notna(everyone["rate"].iloc[0]):
        figure.add_vline(
            x=float(everyone["rate"].iloc[0]) * 100,
            line_dash="dash",
            annotation_text="all customers",
        )
    figure.update_layout(
        title=f"{campaign}: {outcome} by segment (dot: rate; bar: 95% interval)",
        xaxis_title="% of customers",
        yaxis={"autorange": "reversed"},
        height=max(280, 40 * shown["segment_name"].nunique() + 120),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
    )
    return figure


def rates_heatmap(rates: pd.DataFrame, outcome: str) -> go.Figure:
    """Segments × campaigns: each cell the segment's rate; blank where too few customers."""
    cell = rates[(rates["outcome"] == outcome) & (rates["variant"] == "")]
    cell = cell[cell["segment_id"] != ALL_SEGMENTS]
    table = cell.pivot_table(
        index="segment_name", columns="campaign", values="rate", aggfunc="first", sort=False
    )
    counts = cell.pivot_table(
        index="segment_name", columns="campaign", values="customers", aggfunc="first", sort=False
    )
    text = [["" if pd.isna(v) else f"{v * 100:.1f}%" for v in row] for row in table.to_numpy()]
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy() * 100,
            x=list(table.columns),
            y=list(table.index),
            text=text,
            texttemplate="%{text}",
            customdata=counts.reindex_like(table).to_numpy(),
            colorscale="Blues",
            colorbar={"title": "%"},
            hovertemplate="%{y}<br>%{x}: %{z:.1f}%<br>%{customdata:,} customers<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"{outcome} by segment and campaign (blank: too few customers)",
        yaxis={"autorange": "reversed"},  # the segments in the forest plot's order
        height=max(280, 40 * len(table) + 120),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
    )
    return figure
