"""The segment map: sampling for the screen, selecting by area, the legend's order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmenter.maps import SEGMENT_COLOUR, map_frame, rows_in_areas, screen_sample, segment_map


def test_a_large_map_draws_a_stratified_sample_but_selects_every_row() -> None:
    rng = np.random.default_rng(0)
    labels = np.array(["big"] * 900 + ["small"] * 30)
    coords = rng.uniform(0, 10, size=(930, 2))
    points = pd.DataFrame({SEGMENT_COLOUR: labels, "x": coords[:, 0], "y": coords[:, 1]})
    drawn = screen_sample(points, max_points=300)
    assert len(drawn) < 930
    assert (drawn[SEGMENT_COLOUR] == "small").sum() == 30  # small segments stay whole
    box = {"box": [{"x": [2.0, 4.0], "y": [1.0, 9.0]}]}
    inside = rows_in_areas(coords, box)
    expected = np.flatnonzero(
        (coords[:, 0] >= 2) & (coords[:, 0] <= 4) & (coords[:, 1] >= 1) & (coords[:, 1] <= 9)
    )
    assert inside == expected.tolist()
    triangle = {"lasso": [{"x": [0, 10, 0], "y": [0, 0, 10]}]}
    below = rows_in_areas(coords, triangle)
    assert below == np.flatnonzero(coords.sum(axis=1) < 10).tolist()
    assert rows_in_areas(coords, {}) == []


def test_the_map_legend_lists_segments_in_segment_order() -> None:
    labels = np.array([2, 0, 1, 2, 0, -1])
    coords = np.array([[0.0, 0.0]] * 5 + [[np.nan, np.nan]])
    names = {0: "Zeta", 1: "Alpha", 2: "Mid"}
    points = map_frame(
        pd.DataFrame({"id": range(6)}),
        labels,
        coords,
        names,
        ["a"] * 6,
        id_values=pd.Series(range(6)),
        id_name="id",
    )
    assert len(points) == 5 and set(points[SEGMENT_COLOUR]) == {"Zeta", "Alpha", "Mid"}
    legend = [trace.name for trace in segment_map(points).data]
    assert legend == ["Zeta", "Alpha", "Mid"]
