"""Plotly figures for the explorer: the segment map and the quality charts.

Figures are built here, without Streamlit, so they can be tested and reused by the CLI.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

ROW_KEY = "_row"
"""Hidden column carrying each point's row position; selections read it from ``customdata``."""
SEGMENT_COLOUR = "Segment"
SNIPPET_CHARS = 90
MAX_COLOUR_CATEGORIES = 20
SEGMENT_PALETTE = tuple(px.colors.qualitative.Plotly)
"""Segment ``n`` is drawn in ``SEGMENT_PALETTE[n % 10]`` (Plotly's default order, which a
map of segments 0..k-1 had before), so a segment that keeps its number in a later run
(``identities``) keeps its colour."""
SEGMENT_COLOURS_ATTR = "segment_colours"


def segment_colours(names: Mapping[int, str]) -> dict[str, str]:
    """Segment name -> colour, by segment number."""
    return {name: SEGMENT_PALETTE[int(i) % len(SEGMENT_PALETTE)] for i, name in names.items()}


HOVER_FIELDS = 4
VALUE_COLOURS: dict[str, str] = {
    # feedback sentiment: bad red, good green
    "negative": "#d62728",
    "neutral": "#9e9e9e",
    "positive": "#2ca02c",
    "(no text)": "#dcdcdc",
    # lifecycle stages, from fresh to gone
    "new": "#17becf",
    "active": "#1f77b4",
    "champion": "#2ca02c",
    "at risk": "#ff7f0e",
    "lapsed": "#d62728",
}
"""Fixed colours (and legend order) for values whose meaning has an obvious colour."""


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """One line of customer text for a hover label, HTML-escaped (plotly renders some tags)."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return html.escape(flat)


MAX_MAP_POINTS = 100_000
"""WebGL draws this many points smoothly; a larger table shows a stratified sample."""
MIN_POINTS_PER_SEGMENT = 500


def screen_sample(
    points: pd.DataFrame, *, max_points: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """At most ``max_points`` (default ``MAX_MAP_POINTS``) rows of a map frame, each
    segment in proportion but with at least ``MIN_POINTS_PER_SEGMENT`` (or all it has), so
    small segments stay visible.

    Only what is drawn is sampled: selections are widened back to every row in the
    selected area (``rows_in_areas``), and filters and the export read the full table.
    """
    max_points = MAX_MAP_POINTS if max_points is None else max_points
    if len(points) <= max_points:
        return points
    rng = np.random.default_rng(seed)
    share = max_points / len(points)
    keep: list[np.ndarray] = []
    for _, group in points.groupby(SEGMENT_COLOUR, sort=False):
        wanted = min(len(group), max(MIN_POINTS_PER_SEGMENT, round(len(group) * share)))
        keep.append(rng.choice(group.index.to_numpy(), wanted, replace=False))
    return points.loc[np.sort(np.concatenate(keep))]


def _inside_polygon(xy: np.ndarray, xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """Even-odd rule: whether each point of ``xy`` lies inside the polygon."""
    inside = np.zeros(len(xy), dtype=bool)
    x, y = xy[:, 0], xy[:, 1]
    n = len(xs)
    for i in range(n):
        x1, y1, x2, y2 = xs[i], ys[i], xs[(i + 1) % n], ys[(i + 1) % n]
        if y1 == y2:
            continue
        crosses = (y1 > y) != (y2 > y)
        at_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < at_x)
    return inside


def rows_in_areas(coords: np.ndarray, selection: Mapping[str, Any]) -> list[int]:
    """Every row whose map position lies in a selected box or lasso of a Plotly selection
    (``{"box": [{"x": [x0, x1], "y": [y0, y1]}], "lasso": [{"x": [...], "y": [...]}]}``)."""
    xy = np.asarray(coords[:, :2], dtype=float)
    finite = np.isfinite(xy).all(axis=1)
    chosen = np.zeros(len(xy), dtype=bool)
    for box in selection.get("box") or []:
        (x0, x1), (y0, y1) = sorted(box["x"][:2]), sorted(box["y"][:2])
        chosen |= (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    for lasso in selection.get("lasso") or []:
        if len(lasso.get("x", ())) >= 3:
            chosen |= _inside_polygon(np.nan_to_num(xy), lasso["x"], lasso["y"])
    return np.flatnonzero(chosen & finite).tolist()


def map_frame(
    original: pd.DataFrame,
    labels: np.ndarray,
    coords: np.ndarray,
    names: Mapping[int, str],
    docs: Sequence[str],
    *,
    id_values: pd.Series,
    id_name: str,
    hover_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """The rows that have map coordinates, with what the map shows about each.

    The segment column is categorical in segment order, so the legend lists segment 0 first.
    """
    segment_names = [names.get(int(label), f"Segment {label}") for label in labels]
    in_order = [names.get(label, f"Segment {label}") for label in sorted({int(x) for x in labels})]
    frame = pd.DataFrame(
        {
            ROW_KEY: np.arange(len(labels)),
            "x": coords[:, 0],
            "y": coords[:, 1],
            SEGMENT_COLOUR: pd.Categorical(segment_names, categories=list(dict.fromkeys(in_order))),
            id_name: id_values.astype(str).to_numpy(),
            "Text": [snippet(doc) for doc in docs],
        }
    )
    frame.attrs[SEGMENT_COLOURS_ATTR] = segment_colours(
        {label: names.get(label, f"Segment {label}") for label in {int(x) for x in labels}}
    )
    if coords.shape[1] > 2:
        frame["z"] = coords[:, 2]
    for column in hover_columns:
        if column not in frame.columns:
            frame[column] = original[column].astype(str).map(snippet).to_numpy()
    return frame[np.isfinite(coords).all(axis=1)]


def segment_map(
    points: pd.DataFrame,
    *,
    colour: str = SEGMENT_COLOUR,
    colour_values: pd.Series | None = None,
    highlight_rows: Sequence[int] = (),
    hover_columns: Sequence[str] = (),
    id_name: str = "id",
) -> go.Figure:
    """A WebGL scatter of customers coloured by segment (or any column).

    ``points`` comes from ``map_frame``; ``colour_values`` (indexed by row key) colours
    by another column. Legend clicks isolate a trace; ``highlight_rows`` are ringed.
    """
    data = points.copy()
    colour_column = SEGMENT_COLOUR
    known: dict[str, Any] = {}
    if colour != SEGMENT_COLOUR and colour_values is not None:
        colour_column = f"{colour} "  # distinct from a hover column of the same name
        values = colour_values.reindex(data[ROW_KEY].to_numpy())
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().mean() > 0.9 and values.nunique() > MAX_COLOUR_CATEGORIES:
            data[colour_column] = numeric.to_numpy()
        else:
            text = values.astype(str)
            top = text.value_counts().index[:MAX_COLOUR_CATEGORIES]
            data[colour_column] = text.where(text.isin(top), "(other)").to_numpy()
            present = set(data[colour_column])
            if present <= set(VALUE_COLOURS):
                order = [value for value in VALUE_COLOURS if value in present]
                known = {
                    "color_discrete_map": VALUE_COLOURS,
                    "category_orders": {colour_column: order},
                }
    if colour_column == SEGMENT_COLOUR and isinstance(
        data[SEGMENT_COLOUR].dtype, pd.CategoricalDtype
    ):
        present = set(data[SEGMENT_COLOUR])
        order = [name for name in data[SEGMENT_COLOUR].cat.categories if name in present]
        known = {"category_orders": {SEGMENT_COLOUR: order}}
        colours = points.attrs.get(SEGMENT_COLOURS_ATTR)
        if colours:
            known["color_discrete_map"] = dict(colours)
    hover = [id_name, "Text", SEGMENT_COLOUR, *hover_columns]
    hover = list(dict.fromkeys(h for h in hover if h in data.columns and h != colour_column))
    hover_data = {h: True for h in hover} | {"x": False, "y": False}
    if "z" in data.columns:
        hover_data["z"] = False
    common: dict[str, Any] = {
        "color": colour_column,
        "custom_data": [ROW_KEY],
        "hover_data": hover_data,
        **known,
    }
    if "z" in data.columns:
        figure = px.scatter_3d(data, x="x", y="y", z="z", **common)
        figure.update_traces(marker={"size": 3})
    else:
        figure = px.scatter(data, x="x", y="y", render_mode="webgl", **common)
        figure.update_traces(marker={"size": 6, "opacity": 0.8})
    if len(highlight_rows) and "z" not in data.columns:
        matched = data[data[ROW_KEY].isin(list(highlight_rows))]
        figure.add_trace(
            go.Scattergl(
                x=matched["x"],
                y=matched["y"],
                mode="markers",
                name="Search matches",
                customdata=matched[[ROW_KEY]].to_numpy(),
                marker={
                    "size": 13,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 2, "color": "black"},
                },
                hoverinfo="skip",
            )
        )
    figure.update_layout(
        legend={"itemclick": "toggleothers", "itemdoubleclick": "toggle", "title": colour},
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        height=560,
        dragmode="lasso",
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def silhouette_chart(silhouettes: Mapping[int, float], chosen: int) -> go.Figure:
    """Silhouette per candidate number of segments, the chosen one marked."""
    ks = sorted(silhouettes)
    figure = go.Figure(
        go.Bar(
            x=[str(k) for k in ks],
            y=[silhouettes[k] for k in ks],
            marker_color=["#d62728" if k == chosen else "#1f77b4" for k in ks],
        )
    )
    figure.update_layout(
        xaxis_title="number of segments",
        yaxis_title="silhouette (higher is better)",
        height=260,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
    )
    return figure


def sizes_chart(names: Sequence[str], sizes: Sequence[int]) -> go.Figure:
    """Customers per segment as a horizontal bar chart."""
    figure = go.Figure(go.Bar(x=list(sizes), y=list(names), orientation="h"))
    figure.update_layout(
        xaxis_title="customers",
        height=max(200, 32 * len(sizes)),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        yaxis={"autorange": "reversed"},
    )
    return figure


EARLIER_CUSTOMERS = "Customers the segments were made from"
EARLIER_COLOUR = "rgba(150, 150, 150, 0.25)"


def with_earlier_customers(figure: go.Figure, xy: np.ndarray) -> go.Figure:
    """The map of an assigned table with the saved run's own customers drawn beneath, in
    grey (no hover, not selectable), so the new customers show where they landed."""
    if not len(xy) or "z" in {getattr(t, "type", "") for t in figure.data}:
        return figure
    background = go.Scattergl(
        x=xy[:, 0],
        y=xy[:, 1],
        mode="markers",
        name=EARLIER_CUSTOMERS,
        marker={"size": 4, "color": EARLIER_COLOUR},
        hoverinfo="skip",
    )
    return go.Figure(data=[background, *figure.data], layout=figure.layout)
