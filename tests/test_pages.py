"""AppTest for every page: each renders, stops politely without input, and works with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import detect_schema, load_table
from segmenter.pipeline import run_segmentation
from segmenter.ui import state
from tests.conftest import FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def page(name: str, session: dict[str, Any] | None = None) -> AppTest:
    """An AppTest of the multipage app, open on page ``name`` with ``session`` injected."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if name != "app.py":
        at.switch_page(name)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    return at


def with_run(run: Any) -> dict[str, Any]:
    """Session state as the Segments page leaves it after ``run``."""
    return {state.LOADED: run.loaded, state.SCHEMA: run.schema, state.RUN: run}


@pytest.fixture
def loaded_customers(customers):  # type: ignore[no-untyped-def]
    data = customers.drop(columns=["theme"]).to_csv(index=False).encode()
    loaded = load_table(data, "customers.csv")
    return loaded, detect_schema(loaded.frame)


@pytest.fixture
def finished_run(loaded_customers, fake_embedder: FakeEmbedder):  # type: ignore[no-untyped-def]
    loaded, schema = loaded_customers
    return run_segmentation(
        loaded, schema, EmbedConfig(model="fake"), ClusterConfig(n_segments=3, random_state=0)
    )


def test_home_renders() -> None:
    at = page("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Segmenter"
    assert any("sample" in button.label.lower() for button in at.button)


@pytest.mark.model
def test_home_sample_button_segments_the_sample_with_real_models() -> None:
    at = page("app.py").run()
    at.button(key="home_sample").click().run(timeout=600)
    assert not at.exception
    loaded = at.session_state[state.LOADED]
    assert loaded.report.n_rows == 2000
    run = at.session_state[state.RUN]
    assert run.embedder_name == "multilingual"  # a fifth of the sample is Chinese
    assert len(run.result.labels) == 2000
    assert 3 <= run.segmenter.n_segments_ <= 10
    assert len(at.expander) > run.segmenter.n_segments_


def test_plain_escapes_markdown() -> None:
    from segmenter.ui.widgets import plain

    assert plain("**x** [a](b)") == "\\*\\*x\\*\\* \\[a\\]\\(b\\)"


@pytest.mark.parametrize("name", ["pages/1_Upload.py", "pages/2_Segments.py", "pages/3_Export.py"])
def test_pages_without_input_stop_politely(name: str) -> None:
    at = page(name).run()
    assert not at.exception
    assert at.info, "a page without its input should say what to do"


def test_upload_page_sample_button() -> None:
    at = page("pages/1_Upload.py").run()
    at.button(key="upload_sample").click().run()
    assert not at.exception
    assert at.session_state[state.LOADED].report.filename == "sample_customers.csv"
    assert at.session_state[state.SCHEMA].text_columns == ["feedback"]


def test_upload_page_shows_preview_and_roles(loaded_customers) -> None:  # type: ignore[no-untyped-def]
    loaded, schema = loaded_customers
    at = page("pages/1_Upload.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    assert not at.exception
    assert any("customers" in md.value and "120 rows" in md.value for md in at.markdown)
    assert len(at.dataframe) >= 1
    assert at.button(key="upload_continue")


def test_segments_page_runs_a_segmentation(loaded_customers, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    loaded, schema = loaded_customers
    at = page("pages/2_Segments.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    assert not at.exception
    at.selectbox(key="segments_model").select("fake")
    at.selectbox(key="segments_k").select(3)
    at.button[0].click()  # the form's "Find segments"
    at.run()
    assert not at.exception
    run = at.session_state[state.RUN]
    assert run.segmenter.n_segments_ == 3
    assert len(run.result.labels) == len(loaded.frame)
    assert at.metric[0].value == "3"
    assert len(at.expander) >= 3


def test_segments_page_search_and_rename(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    assert not at.exception
    at.text_input(key="segments_search").input("parcel delivery courier").run()
    assert not at.exception
    assert at.session_state[state.SEARCH_ROWS], "a themed query should match customers"
    at.text_input(key="segments_profile_0_name").input("Delivery victims").run()
    assert not at.exception
    assert at.session_state[state.SEGMENT_NAMES][0] == "Delivery victims"


def test_segments_page_recluster_keeps_projection(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    at.number_input(key="segments_new_k").set_value(4)
    at.button(key="segments_recluster").click().run()
    assert not at.exception
    new_run = at.session_state[state.RUN]
    assert new_run.segmenter.n_segments_ == 4
    assert new_run.segmenter.reduction_ is finished_run.segmenter.reduction_


def test_export_page_offers_downloads(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/3_Export.py", with_run(finished_run))
    at.run()
    assert not at.exception
    assert any("120 rows" in md.value for md in at.markdown)
