"""AppTest of the Compare runs page, over run folders written by hand (no segmentation)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from segmenter.runs import runs_root

# The fixture is used by name through ``request``: two run folders with known moves.
from tests.test_movement import ROLES, _profile, _write_run, known_moves  # noqa: F401
from tests.test_pages import page

COMPARE = "pages/6_Compare.py"


def _place(folder: Path, name: str, mtime: float) -> Path:
    """Copy a run folder under the runs root, with ``mtime`` on its run.json (the page
    orders runs by it)."""
    target = runs_root() / name
    shutil.copytree(folder, target)
    os.utime(target / "run.json", (mtime, mtime))
    return target


@pytest.fixture
def two_runs(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """``known_moves`` as runs/2026-10 (A, older) and runs/2026-11 (B, newer)."""
    run_a, run_b = request.getfixturevalue("known_moves")
    return _place(run_a, "2026-10", 1_790_000_000), _place(run_b, "2026-11", 1_792_000_000)


TABLES = ("matrix", "b_segments", "a_segments", "movers")
"""The page's tables in page order (AppTest does not give a plain table its key)."""


def _table(at: AppTest, name: str) -> pd.DataFrame:
    frame: pd.DataFrame = at.dataframe[TABLES.index(name)].value
    return frame


def _downloads(at: AppTest) -> dict[str, str]:
    return {str(button.key): button.proto.label for button in at.get("download_button")}


def test_without_two_runs_it_says_how_to_make_them() -> None:
    at = page(COMPARE).run()
    assert not at.exception
    assert "python -m segmenter segment" in at.info[0].value
    assert "no run folders" in at.info[0].value
    assert not at.selectbox


def test_two_runs_show_the_sankey_tables_movers_and_downloads(two_runs: object) -> None:
    at = page(COMPARE).run()
    assert not at.exception
    assert str(at.selectbox(key="compare_run_a").value).startswith("2026-10")
    assert str(at.selectbox(key="compare_run_b").value).startswith("2026-11")
    assert "280 customers in both runs (20 only in A, 16 only in B)" in at.markdown[0].value
    assert [chart.key for chart in at.get("plotly_chart")] == ["compare_sankey"]
    matrix = _table(at, "matrix")
    assert list(matrix.index) == ["A 0: Big spenders", "A 1: Late parcels", "A 2: Students"]
    assert matrix.loc["A 0: Big spenders", "B 2: Leavers"] == 10
    flows = _table(at, "b_segments")
    assert flows[["Stayed", "Left"]].values.tolist() == [[95, 5], [90, 10], [80, 20]]
    movers = _table(at, "movers")
    assert sorted(movers["customer_id"]) == [f"c{i:04d}" for i in range(1, 11)]
    assert at.multiselect[0].value == [0] and at.multiselect[1].value == [2]
    assert any("Spend" in caption.value for caption in at.caption)
    downloads = _downloads(at)
    assert set(downloads) == {"compare_movers_csv", "compare_movement_csv", "compare_json"}
    assert "10 customers" in downloads["compare_movers_csv"]


def test_chosen_segments_override_the_rule(two_runs: object) -> None:
    at = page(COMPARE).run()
    at.multiselect[0].set_value([2]).run()
    at.multiselect[1].set_value([1]).run()  # the 5 of A's 2 who moved to B's 1
    assert not at.exception
    movers = _table(at, "movers")
    assert sorted(movers["customer_id"]) == [f"c{i:04d}" for i in range(201, 206)]
    at.multiselect[1].set_value([]).run()
    assert not at.exception
    assert "choose at least one at-risk segment of B" in at.info[0].value.replace("\\", "")
    assert "0 customers" in _downloads(at)["compare_movers_csv"]


def test_the_same_run_twice_or_runs_without_ids_are_said(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    at = page(COMPARE).run()
    at.selectbox(key="compare_run_a").set_value(at.selectbox(key="compare_run_b").value).run()
    assert not at.exception
    assert "same run" in at.info[0].value

    frame = pd.DataFrame({"customer_id": ["x1", "x2"], "spend": "1", "churned": "No"})
    no_ids = _write_run(
        tmp_path / "no_ids", frame, np.array([0, 0]), [_profile(0, "All")], ROLES, None
    )
    _place(no_ids, "2026-12", 1_794_000_000)
    at = page(COMPARE).run()
    assert not at.exception
    assert "no customer ID column" in at.error[0].value
