"""AppTest of the saved segmentations in the dashboard: every segmentation is saved as a run
folder, a new table is placed into saved segments from Upload, and a new segmentation keeps
an earlier run's numbers and names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segmenter.ingest import detect_schema, load_table
from segmenter.runs import find_runs, runs_root
from segmenter.saved_model import has_model
from segmenter.ui import state
from tests.conftest import FakeEmbedder, make_customers
from tests.test_pages import page, session_run


def _segment(loaded, schema, keep_from: str | None = None):  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    at.selectbox(key="segments_model").select("fake")
    at.selectbox(key="segments_k").select(3)
    if keep_from is not None:
        at.selectbox(key="segments_keep_from").select(keep_from)
    at.button[0].click()  # the form's "Find segments"
    at.run()
    assert not at.exception
    return at


def _loaded(frame):  # type: ignore[no-untyped-def]
    loaded = load_table(frame.to_csv(index=False).encode(), "customers.csv")
    return loaded, detect_schema(loaded.frame)


def test_a_segmentation_is_saved_and_applied_to_next_months_table(
    fake_embedder: FakeEmbedder,
) -> None:
    loaded, schema = _loaded(make_customers(40, seed=0).drop(columns=["theme"]))
    at = _segment(loaded, schema)
    folders = find_runs(runs_root())
    assert len(folders) == 1 and has_model(folders[0])
    assert any("Saved in" in c.value for c in at.caption)

    # Next month: other customers, one of them with a plan the segments never saw.
    later = make_customers(30, seed=9).drop(columns=["theme"])
    later["customer_id"] = "M" + later["customer_id"]
    later.loc[0, "plan"] = "Platinum"
    new_loaded, new_schema = _loaded(later)
    upload = page("pages/1_Upload.py", {state.LOADED: new_loaded, state.SCHEMA: new_schema})
    upload.run()
    assert not upload.exception
    upload.button(key="upload_apply").click().run()
    assert not upload.exception
    run = session_run(upload)
    assert len(run.result.labels) == len(later)
    assert run.opened_from is not None and "assigned" in run.opened_from.name

    segments = page(
        "pages/2_Segments.py", {state.LOADED: run.loaded, state.SCHEMA: run.schema, state.RUN: run}
    )
    segments.run()
    assert not segments.exception
    shown = " ".join(i.value for i in segments.info)
    assert "Saved segments applied" in shown and "fit the saved segments poorly" in shown
    changes = next(d.value for d in segments.dataframe if "Share then" in d.value.columns)
    assert len(changes) == 3
    charts = [c.proto.spec for c in segments.get("plotly_chart")]
    assert any("Customers the segments were made from" in spec for spec in charts)


def test_a_new_segmentation_keeps_the_earlier_numbers_and_names(
    fake_embedder: FakeEmbedder,
) -> None:
    frame = make_customers(40, seed=0).drop(columns=["theme"])
    loaded, schema = _loaded(frame)
    first = session_run(_segment(loaded, schema))
    os.utime(find_runs(runs_root())[0], (0, 0))
    shuffled = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    loaded_b, schema_b = _loaded(shuffled)
    at = page("pages/2_Segments.py", {state.LOADED: loaded_b, state.SCHEMA: schema_b})
    at.run()
    earlier = next(o for o in at.selectbox(key="segments_keep_from").options if "No:" not in o)
    at = _segment(loaded_b, schema_b, keep_from=earlier)
    second = session_run(at)
    assert second.identities is not None
    assert any("Kept the numbers and names of 3 segments" in c.value for c in at.caption)
    names = {p.segment_id: p.name for p in first.result.profiles}
    assert {p.segment_id: p.name for p in second.result.profiles} == names
    by_id = dict(zip(first.prepared.ids, first.result.labels, strict=True))
    again = [by_id[i] for i in second.prepared.ids]
    assert sum(a == b for a, b in zip(again, second.result.labels, strict=True)) / len(again) > 0.95
    assert Path(at.session_state[state.RUN_FOLDER]).is_dir()


def test_a_run_moved_out_of_memory_comes_back_when_its_user_returns(
    fake_embedder: FakeEmbedder,
) -> None:
    from segmenter import run_budget  # noqa: PLC0415

    loaded, schema = _loaded(make_customers(40, seed=0).drop(columns=["theme"]))
    at = _segment(loaded, schema)
    held = at.session_state[state.RUN]
    names = [p.name for p in held.run.result.profiles]
    # Another user's work fills the budget: this session's run moves to its folder.
    with run_budget.run_budget().working(run_budget.run_budget().limit_bytes, rows=1):
        pass
    assert not held.in_memory and held.spills == 1
    at.run()
    assert not at.exception and held.in_memory
    assert [p.name for p in session_run(at).result.profiles] == names
    assert any("Segments" in m.label for m in at.metric)


def test_a_table_too_large_for_the_servers_budget_is_refused_with_what_to_do(
    fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGMENTER_MEMORY_BUDGET_MB", "1")
    loaded, schema = _loaded(make_customers(40, seed=0).drop(columns=["theme"]))
    at = page("pages/2_Segments.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    at.selectbox(key="segments_model").select("fake")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert state.RUN not in at.session_state
    message = " ".join(e.value for e in at.error)
    assert "120 rows" in message and "SEGMENTER_MEMORY_BUDGET_MB" in message
