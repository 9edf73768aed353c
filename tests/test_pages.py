"""AppTest for every page: each renders, stops politely without input, and works with it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from segmenter.campaign import BrandProfile
from segmenter.config import ClusterConfig, EmbedConfig, LMConfig
from segmenter.ingest import detect_schema, load_table
from segmenter.pipeline import run_segmentation
from segmenter.run_budget import HeldRun
from segmenter.ui import state
from tests.conftest import FakeEmbedder, make_transaction_log

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


def session_run(at: AppTest) -> Any:
    """The run a page left in session state (held under the memory budget, or put there as
    is by a test)."""
    value = at.session_state[state.RUN]
    return value.run if isinstance(value, HeldRun) else value


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
        loaded,
        schema,
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=3, random_state=0),
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
    run = session_run(at)
    assert run.embedder_name == "multilingual"  # a fifth of the sample is Chinese
    assert len(run.result.labels) == 2000
    assert 3 <= run.segmenter.n_segments_ <= 10
    assert len(at.expander) > run.segmenter.n_segments_
    assert run.feedback is not None and run.feedback.sentiment.source.method == "prototypes"
    assert 0 < run.feedback.urgent.sum() < 2000 * 0.2


def test_plain_escapes_markdown() -> None:
    from segmenter.ui.widgets import plain

    assert plain("**x** [a](b)") == "\\*\\*x\\*\\* \\[a\\]\\(b\\)"


@pytest.mark.parametrize(
    "name",
    [
        "pages/1_Upload.py",
        "pages/2_Segments.py",
        "pages/3_Predict.py",
        "pages/4_Campaigns.py",
        "pages/5_Export.py",
        "pages/6_Compare.py",
    ],
)
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


def test_upload_page_turns_a_transaction_log_into_customers() -> None:
    log = make_transaction_log()
    loaded = load_table(log.to_csv(index=False).encode(), "orders.csv")
    at = page(
        "pages/1_Upload.py", {state.LOADED: loaded, state.SCHEMA: detect_schema(loaded.frame)}
    )
    at.run()
    assert not at.exception
    assert any("transaction log" in info.value for info in at.info)
    at.button(key="upload_transactions").click().run()
    assert not at.exception
    customers = at.session_state[state.LOADED]
    assert len(customers.frame) == log["CustomerID"].replace("", None).nunique()
    assert at.session_state[state.SCHEMA].role_of("lifecycle_stage") == "label"
    assert any("no customer id" in info.value for info in at.info)
    assert at.session_state[state.TRANSACTIONS].report.missing_id_rows > 0
    at.button(key="upload_transactions_undo").click().run()
    assert not at.exception
    assert len(at.session_state[state.LOADED].frame) == len(log)


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
    run = session_run(at)
    assert run.segmenter.n_segments_ == 3
    assert len(run.result.labels) == len(loaded.frame)
    assert at.metric[0].value == "3"
    assert len(at.expander) >= 3
    details = next(d.value for d in at.dataframe if "stage" in d.value.columns)
    assert {"Embedding text", "Profiles", "Total"} <= set(details["stage"])


def test_segments_page_segments_by_columns_and_shows_drivers(  # type: ignore[no-untyped-def]
    loaded_customers, fake_embedder
) -> None:
    loaded, schema = loaded_customers
    at = page("pages/2_Segments.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    at.selectbox(key="segments_model").select("fake")
    at.selectbox(key="segments_k").select(3)
    at.radio(key="segments_by").set_value("columns")
    at.multiselect(key="segments_exclude").select("plan")
    at.button[0].click()
    at.run()
    assert not at.exception
    run = session_run(at)
    assert run.cluster_config.segment_by == "columns"
    assert run.cluster_config.exclude_columns == ("plan",)
    assert [b.name for b in run.segmenter.fusion_.blocks] == ["spend"]
    assert run.parameters()["result"]["excluded_columns"] == ["plan"]
    assert any(c.value.startswith("Driven by: Spend 100%") for c in at.caption)


def test_segments_page_draws_a_sample_of_a_large_map(  # type: ignore[no-untyped-def]
    finished_run, monkeypatch
) -> None:
    import segmenter.maps

    monkeypatch.setattr(segmenter.maps, "MAX_MAP_POINTS", 60)
    monkeypatch.setattr(segmenter.maps, "MIN_POINTS_PER_SEGMENT", 5)
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    assert not at.exception
    drawn = _map_rows(at)
    assert 0 < len(drawn) < len(finished_run.result.labels)
    assert any("draws a sample" in c.value for c in at.caption)


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


def test_segments_page_filters_the_map_by_feedback(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    assert not at.exception
    everyone = len(_map_rows(at))
    at.radio(key="segments_show").set_value("Negative feedback").run()
    assert not at.exception
    negative = (finished_run.feedback.sentiment.labels == "negative").sum()
    assert len(_map_rows(at)) == negative < everyone
    at.radio(key="segments_show").set_value("Urgent-risk feedback").run()
    assert len(_map_rows(at)) == finished_run.feedback.urgent.sum()
    at.selectbox(key="segments_colour").select("sentiment (feedback)").run()
    assert not at.exception
    assert any("Feedback" in md.value for md in at.markdown)  # in the profile cards


def _map_rows(at: AppTest) -> list[int]:
    """Row keys of the points drawn on the Segments map."""
    chart = next(c for c in at.get("plotly_chart") if getattr(c, "key", None) == "segments_map")
    figure = json.loads(chart.proto.spec)
    return [point[0] for trace in figure["data"] for point in trace.get("customdata", [])]


def test_segments_page_recluster_keeps_projection(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    at.number_input(key="segments_new_k").set_value(4)
    at.button(key="segments_recluster").click().run()
    assert not at.exception
    new_run = session_run(at)
    assert new_run.segmenter.n_segments_ == 4
    assert new_run.segmenter.reduction_ is finished_run.segmenter.reduction_


def test_upload_page_opens_a_finished_run_folder(  # type: ignore[no-untyped-def]
    finished_run, tmp_path, monkeypatch
) -> None:
    from segmenter.pipeline import write_outputs

    monkeypatch.setenv("SEGMENTER_RUNS_DIR", str(tmp_path / "runs"))
    write_outputs(finished_run, tmp_path / "runs" / "big-table")
    at = page("pages/1_Upload.py").run()
    assert at.selectbox(key="upload_run_folder").value.startswith(
        "big-table — 120 rows, 3 segments, local engine"
    )
    at.button(key="upload_open_run").click().run()
    assert not at.exception
    run = session_run(at)
    assert run.opened_from == tmp_path / "runs" / "big-table"
    assert list(run.result.labels) == list(finished_run.result.labels)
    at.switch_page("pages/2_Segments.py").run()
    assert not at.exception
    assert any("nothing was recomputed" in caption.value for caption in at.caption)


def test_export_page_offers_downloads(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/5_Export.py", with_run(finished_run))
    at.run()
    assert not at.exception
    assert any("120 rows" in md.value for md in at.markdown)


@pytest.fixture
def drafting_session(finished_run, fake_generator):  # type: ignore[no-untyped-def]
    """Session state after a run, with the fake LM chosen; the shared model cache emptied."""
    st.cache_resource.clear()
    return {**with_run(finished_run), state.LM_CONFIG: LMConfig(model="fake-lm")}


def test_campaign_panel_drafts_streams_and_keeps_copy(drafting_session, fake_generator) -> None:  # type: ignore[no-untyped-def]
    # The model writes the offer's slot; the app fills it with the brief's exact words.
    fake_generator.replies = [json.dumps({"text": "Come back soon: @OFFER."})]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    assert not at.exception
    assert at.sidebar.header[0].value == "Campaign copy"
    next(s for s in at.sidebar.selectbox if s.label == "Segment").select(1)
    at.selectbox(key="campaign_channel").select("sms")
    at.text_input(key="campaign_offer").input("free returns")
    at.number_input(key="campaign_variants").set_value(2)
    at.button(key="campaign_draft").click().run()
    assert not at.exception
    drafts = at.session_state[state.DRAFTS][1]
    assert [d.variant for d in drafts] == [1, 2]
    assert all(d.ok and d.brief.channel == "sms" and d.segment_id == 1 for d in drafts)
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[0])
    assert "free returns" in prompt
    profile = session_run(at).result.profiles[1]
    assert profile.examples[0][:30] in prompt  # grounded in the chosen segment
    editor = at.text_area(key=f"campaign_{drafts[0].draft_id}_text")
    assert editor.value.startswith("Come back soon: free returns.")
    editor.input("Come back: your free returns are waiting.").run()
    assert not at.exception
    assert at.session_state[state.DRAFTS][1][0].fields["text"].startswith("Come back: your")
    assert any(b.label == "Drafts (CSV)" for b in at.sidebar.get("download_button"))


def test_campaign_panel_remove_and_regenerate(drafting_session) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    at.button(key="campaign_draft").click().run()
    [draft] = at.session_state[state.DRAFTS][0]
    at.button(key=f"campaign_regen_{draft.draft_id}").click().run()
    assert not at.exception
    [new] = at.session_state[state.DRAFTS][0]
    assert new.draft_id != draft.draft_id
    at.button(key=f"campaign_remove_{new.draft_id}").click().run()
    assert not at.exception
    assert at.session_state[state.DRAFTS][0] == []


def test_campaign_panel_reports_a_model_error(drafting_session) -> None:  # type: ignore[no-untyped-def]
    session = {**drafting_session, state.LM_CONFIG: LMConfig(model="openai")}
    at = page("pages/2_Segments.py", session)
    at.run()
    assert not at.exception
    at.selectbox(key="campaign_model").select("openai")
    at.text_input(key="campaign_base_url").input("http://127.0.0.1:9/v1")
    at.text_input(key="campaign_api_model").input("qwen2.5").run()
    at.button(key="campaign_draft").click().run()
    assert not at.exception
    assert any("Could not reach" in e.value for e in at.sidebar.error)


def test_lm_names_replace_the_segment_names(drafting_session, fake_generator) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    # Each name fits its segment's own words (the grounding check rejects one that does
    # not), whichever number the clustering gave each theme on this machine.
    themes = {"Parcel worriers": "deliver", "Price watchers": "price", "Support fans": "support"}
    profiles = session_run(at).result.profiles
    ids = {
        name: next(p.segment_id for p in profiles if any(word in k for k in p.keywords))
        for name, word in themes.items()
    }
    personas = {
        "Parcel worriers": "Wait for late parcels.",
        "Price watchers": "Compare every price.",
        "Support fans": "Love quick answers.",
    }
    fake_generator.replies = [
        json.dumps(
            {
                "segments": [
                    {"id": ids[name], "name": name, "persona": personas[name]} for name in themes
                ]
            }
        )
    ]
    at.button(key="segments_lm_names").click().run()
    assert not at.exception
    names = at.session_state[state.SEGMENT_NAMES]
    assert sorted(names.values()) == ["Parcel worriers", "Price watchers", "Support fans"]
    price = ids["Price watchers"]
    assert at.session_state[state.PERSONAS][price] == "Compare every price."
    assert at.text_input(key=f"segments_profile_{price}_name").value == names[price]
    picker = next(s for s in at.sidebar.selectbox if s.label == "Segment")
    assert picker.options[price].startswith(f"{price}. Price watchers")


def test_export_page_offers_the_drafts(drafting_session) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    at.button(key="campaign_draft").click().run()
    at.switch_page("pages/5_Export.py").run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Drafts (CSV)" in labels and "Drafts (Markdown)" in labels


def test_reply_to_a_customer_found_by_search(drafting_session, fake_generator) -> None:  # type: ignore[no-untyped-def]
    fake_generator.replies = [json.dumps({"reply": "Sorry about the parcel: it ships today."})]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    at.text_input(key="segments_search").input("parcel delivery courier").run()
    assert not at.exception
    row = at.selectbox(key="segments_reply_row").value
    at.button(key="segments_reply_draft").click().run()
    assert not at.exception
    kept_row, result = at.session_state[state.REPLY]
    assert kept_row == row and result.fields["reply"].startswith("Sorry about the parcel")
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[-1])
    assert drafting_session[state.RUN].docs[row][:30] in prompt
    assert any("Sorry about the parcel" in code.value for code in at.code)


def test_a_reply_to_a_fraud_complaint_is_marked_for_a_person(
    drafting_session, fake_generator
) -> None:  # type: ignore[no-untyped-def]
    fake_generator.replies = [json.dumps({"reply": "We are sorry: our team will look into it."})]
    docs = list(drafting_session[state.RUN].docs)
    row = next(i for i, doc in enumerate(docs) if "parcel" in doc)
    docs[row] = "Someone used my card for a fraudulent charge on a parcel I never ordered."
    session = {
        **drafting_session,
        state.RUN: replace(drafting_session[state.RUN], docs=docs),
        state.BRAND: BrandProfile(brand_name="Northwind", policy_text="Refunds within 30 days."),
    }
    at = page("pages/2_Segments.py", session)
    at.run()
    at.text_input(key="segments_search").input("fraudulent charge card").run()
    at.selectbox(key="segments_reply_row").set_value(row).run()
    at.button(key="segments_reply_draft").click().run()
    assert not at.exception
    _, result = at.session_state[state.REPLY]
    assert result.needs_human == ("fraud",)
    assert any("For a person" in error.value and "fraud" in error.value for error in at.error)
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[-1])
    assert "Refunds within 30 days." in prompt  # the brand's policy reached the model


def test_most_common_segment_of_a_selection() -> None:
    from segmenter.ui.widgets import most_common_segment

    labels = [0, 1, 1, -1, 2]
    assert most_common_segment(labels, [0, 1, 2, 3]) == 1
    assert most_common_segment(labels, [3]) is None
    assert most_common_segment(labels, []) is None


def test_predict_page_compares_models_and_scores_every_customer(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/3_Predict.py", with_run(finished_run))
    at.run()
    assert not at.exception
    at.selectbox(key="predict_label").select("plan")
    at.button[0].click()  # the form's "Train and compare models"
    at.run(timeout=300)
    assert not at.exception
    prediction = at.session_state[state.PREDICTION]
    assert prediction.cv.label.column == "plan"
    assert len(prediction.risk) == len(finished_run.loaded.frame)
    assert {s.features for s in prediction.cv.scores} == {"text", "structured", "both"}
    assert max(s.roc_auc for s in prediction.cv.scores) > 0.9  # support customers are premium
    assert len(at.dataframe) >= 4 and at.metric[0].label == "ROC AUC"
    at.switch_page("pages/5_Export.py").run()
    assert not at.exception
    assert "risk_score" in at.dataframe[0].value.columns
    at.switch_page("pages/2_Segments.py").run()
    assert prediction.wording.score == "score"  # "plan" is neither churn nor a response
    at.selectbox(key="segments_colour").select("score (Predict)").run()
    assert not at.exception


def _chart(at: AppTest, key: str) -> dict[str, Any]:
    chart = next(c for c in at.get("plotly_chart") if getattr(c, "key", None) == key)
    return dict(json.loads(chart.proto.spec))


def test_column_labels_name_the_segments_and_reach_the_cards(  # type: ignore[no-untyped-def]
    loaded_customers, fake_embedder
) -> None:
    loaded, schema = loaded_customers
    session = {state.LOADED: loaded, state.SCHEMA: schema, state.COLUMN_LABELS: {"spend": "Outlay"}}
    at = page("pages/2_Segments.py", session)
    at.run()
    at.selectbox(key="segments_model").select("fake")
    at.selectbox(key="segments_k").select(3)
    at.button[0].click()
    at.run()
    assert not at.exception
    run = session_run(at)
    assert run.parameters()["labels"]["spend"] == "Outlay"
    spend = [t for p in run.result.profiles for t in p.numeric if t.column == "spend"]
    assert spend and all(t.label == "Outlay" for t in spend)
    bars = [
        text
        for p in run.result.profiles
        for text in _chart(at, f"segments_profile_{p.segment_id}_traits")["data"][0]["y"]
    ]
    assert any(text.startswith("Outlay: ") for text in bars)  # the trait, said in words
    assert any(md.value.startswith("#### 0. ") for md in at.markdown)  # a card per segment


def test_upload_page_lists_each_columns_label(loaded_customers) -> None:  # type: ignore[no-untyped-def]
    loaded, schema = loaded_customers
    at = page("pages/1_Upload.py", {state.LOADED: loaded, state.SCHEMA: schema})
    at.run()
    assert not at.exception
    assert at.session_state[state.COLUMN_LABELS] == {}  # nothing edited yet
    roles = next(d.value for d in at.dataframe if "role" in d.value.columns)
    assert dict(zip(roles["column"], roles["label"], strict=True))["customer_id"] == "Customer ID"


def test_an_invented_lm_name_is_replaced_with_a_note(drafting_session, fake_generator) -> None:  # type: ignore[no-untyped-def]
    invented = [
        {"id": 0, "name": "Travel Enthusiasts", "persona": "Always planning the next trip."},
        {"id": 1, "name": "Tech Innovators", "persona": "Always after the latest gadgets."},
        {"id": 2, "name": "Fitness Lovers", "persona": "Never miss a workout."},
    ]
    fake_generator.replies = [json.dumps({"segments": invented})]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    at.button(key="segments_lm_names").click().run()
    assert not at.exception
    profiles = session_run(at).result.profiles
    names = at.session_state[state.SEGMENT_NAMES]
    assert names == {p.segment_id: p.name for p in profiles}  # the rule-based names
    notes = [w.value for w in at.warning]
    assert len([n for n in notes if "kept the name" in n]) == 3


def test_with_labels_renames_a_finished_run(finished_run) -> None:  # type: ignore[no-untyped-def]
    from segmenter.pipeline import with_labels

    relabelled = with_labels(finished_run, {"spend": "Outlay", "plan": " "})
    assert relabelled.edited_labels == {"spend": "Outlay"}
    assert relabelled.labels["plan"] == "Plan" and relabelled.labels["spend"] == "Outlay"
    assert relabelled.result.labels is finished_run.result.labels  # nothing recomputed
    names = [p.name for p in relabelled.result.profiles]
    assert len(set(names)) == len(names)
    assert with_labels(relabelled, {}).result.profiles == finished_run.result.profiles


def test_upload_page_proposes_labels_the_user_confirms(  # type: ignore[no-untyped-def]
    drafting_session, fake_generator
) -> None:
    fake_generator.replies = [
        json.dumps(
            {
                "labels": [
                    {"column": "customer_id", "label": "customer number"},
                    {"column": "feedback", "label": "what they told us"},
                    {"column": "spend", "label": "monthly outlay"},
                    {"column": "plan", "label": "plan"},
                ]
            }
        )
    ]
    at = page("pages/1_Upload.py", drafting_session)
    at.run()
    at.button(key="upload_suggest_labels").click().run()
    assert not at.exception
    assert at.session_state[state.COLUMN_LABELS] == {}  # nothing used before the user says so
    assert at.session_state[state.LABEL_PROPOSALS]["spend"] == "Monthly outlay"
    at.button(key="upload_accept_labels").click().run()
    assert not at.exception
    assert at.session_state[state.COLUMN_LABELS]["spend"] == "Monthly outlay"
    run = session_run(at)
    assert all(t.label == "Monthly outlay" for p in run.result.profiles for t in p.numeric)


def test_segments_page_lists_the_negative_customers_and_replies_to_one(  # type: ignore[no-untyped-def]
    drafting_session, fake_generator
) -> None:
    fake_generator.replies = [json.dumps({"reply": "We are sorry; a refund is on its way."})]
    at = page("pages/2_Segments.py", drafting_session)
    at.run()
    at.radio(key="segments_show").set_value("Negative feedback").run()
    assert not at.exception
    run = drafting_session[state.RUN]
    negative = int((run.feedback.sentiment.labels == "negative").sum())
    calls = next(d for d in at.dataframe if getattr(d, "key", None) == "segments_call_list")
    assert len(calls.value) == negative > 0
    assert list(calls.value.columns)[1:] == [
        "segment",
        "text",
        "urgent flags",
        "sentiment",
        "sentiment score",
    ]
    assert calls.value["sentiment score"].is_monotonic_increasing  # most negative first
    assert "Call list (CSV)" in [b.label for b in at.get("download_button")]
    picked = min(1, len(calls.value) - 1)  # select a row of the table: it is the one replied to
    at.session_state["segments_call_list"] = {"selection": {"rows": [picked], "columns": []}}
    at.run()
    assert not at.exception
    row = at.selectbox(key="segments_call_reply_row").value
    assert row == int(calls.value.index[picked])
    assert run.feedback.sentiment.labels[row] == "negative"
    at.button(key="segments_call_reply_draft").click().run()
    assert not at.exception
    kept_row, result = at.session_state[state.REPLY]
    assert kept_row == row and result.fields["reply"].startswith("We are sorry")
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[-1])
    assert run.docs[row][:30] in prompt  # grounded in that customer's own text
    at.radio(key="segments_show").set_value("All customers").run()
    assert not any(getattr(d, "key", None) == "segments_call_list" for d in at.dataframe)


def test_segments_page_lists_search_matches_under_the_map(finished_run) -> None:  # type: ignore[no-untyped-def]
    at = page("pages/2_Segments.py", with_run(finished_run))
    at.run()
    at.text_input(key="segments_search").input("parcel delivery courier").run()
    assert not at.exception
    matches = next(d for d in at.dataframe if "keyword match" in d.value.columns)
    rows = at.session_state[state.SEARCH_ROWS]
    assert len(matches.value) == len(rows) > 0
    assert {"score", "similarity", "keyword match"} <= set(matches.value.columns)
    top = finished_run.docs[rows[0]].lower()
    assert any(word in top for word in ("parcel", "delivery", "courier"))  # the words count
    assert "Matches (CSV)" in [b.label for b in at.get("download_button")]


def _predict_session(customers, fake_embedder, *, text: bool):  # type: ignore[no-untyped-def]
    responded = (customers["theme"] == "support").map({True: "1", False: "0"})
    table = customers.assign(Response=responded)
    table = table.drop(columns=["theme"] if text else ["theme", "feedback"])
    loaded = load_table(table.to_csv(index=False).encode(), "campaign.csv")
    schema = detect_schema(loaded.frame)
    run = run_segmentation(
        loaded,
        schema,
        EmbedConfig(model="fake", sentiment_model="fake"),
        ClusterConfig(n_segments=3, random_state=0),
    )
    return with_run(run)


@pytest.mark.parametrize("text", [True, False])
def test_predict_page_wording_follows_the_label_and_the_text(  # type: ignore[no-untyped-def]
    customers, fake_embedder, text: bool
) -> None:
    at = page("pages/3_Predict.py", _predict_session(customers, fake_embedder, text=text))
    at.run()
    assert not at.exception
    at.selectbox(key="predict_label").select("Response")
    at.button[0].click()  # the form's "Train and compare models"
    at.run(timeout=300)
    assert not at.exception
    headings = [h.value for h in at.subheader]
    assert "The 25 customers most likely to respond" in headings
    assert not any("at risk" in h for h in headings)
    tables = [d.value for d in at.dataframe]
    top = next(t for t in tables if "response score" in t.columns and "segment" in t.columns)
    words_table = any("word" in t.columns for t in tables)
    if text:
        assert words_table and "text" in top.columns
    else:
        assert not words_table and "text" not in top.columns
        assert not any("words" in str(c) for c in top.columns)
        assert not any("Text against" in h for h in headings)


def test_a_run_folder_keeps_the_labels_it_was_named_with(finished_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from segmenter.pipeline import recluster_run, with_labels, write_outputs
    from segmenter.runs import open_run

    relabelled = with_labels(finished_run, {"spend": "Outlay"})
    write_outputs(relabelled, tmp_path / "run")
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert record["labels"]["spend"] == "Outlay" and record["labels"]["plan"] == "Plan"
    opened = open_run(tmp_path / "run")
    assert opened.edited_labels == {"spend": "Outlay"}
    again = recluster_run(opened, 2)
    assert all(t.label == "Outlay" for p in again.result.profiles for t in p.numeric)


def test_campaigns_page_drafts_edits_and_keeps_drafts_over_a_reload(  # type: ignore[no-untyped-def]
    drafting_session, fake_generator, tmp_path
) -> None:
    from segmenter.campaign.store import load_campaign
    from segmenter.runs import campaign_folder

    at = page("pages/4_Campaigns.py", drafting_session)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Campaigns"
    at.text_input(key="campaigns_brand_brand_name").input("Acme")
    at.text_input(key="campaigns_brand_banned_words").input("cheap, deal")
    at.button(key="FormSubmitter:campaigns_brand_form-Save brand profile").click().run()
    assert at.session_state[state.BRAND].banned_words == ("cheap", "deal")
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Segment")).select(2)
    at.text_input(key="campaigns_offer").input("20% off your next order")
    at.number_input(key="campaigns_variants").set_value(2)
    at.button(key="campaigns_draft").click().run()
    assert not at.exception
    drafts = at.session_state[state.DRAFTS][2]
    assert [d.variant for d in drafts] == [1, 2]
    assert all(d.brief.brand.brand_name == "Acme" for d in drafts)
    assert "20% off your next order" in "\n".join(m["content"] for m in fake_generator.prompts[0])
    body = at.text_area(key=f"campaigns_{drafts[0].draft_id}_body")
    assert body.value.startswith("Come back soon.")
    assert len(at.columns) >= 4  # cards beside the work; the two variants side by side
    body.input("We kept your basket: 20% off your next order.").run()
    assert not at.exception
    folder = campaign_folder(session_run(at))
    assert folder.is_relative_to(tmp_path / "runs")
    saved = load_campaign(folder)
    assert saved.brand is not None and saved.brand.brand_name == "Acme"
    assert saved.drafts[0].fields["body"].startswith("We kept your basket")
    assert "20% off your next order" in saved.offers

    # A reload starts a new session: the same run brings its drafts, brand and offers back.
    again = page("pages/4_Campaigns.py", drafting_session).run()
    assert not again.exception
    restored = again.session_state[state.DRAFTS][2]
    assert [d.draft_id for d in restored] == [d.draft_id for d in drafts]
    assert restored[0].fields["body"].startswith("We kept your basket")
    assert again.text_input(key="campaigns_brand_brand_name").value == "Acme"
    again.selectbox(key=next(s.key for s in again.selectbox if s.label == "Segment")).select(2)
    again.run()
    picker = again.selectbox(key="campaigns_offer_pick")
    assert "20% off your next order" in picker.options[-1]  # typed before, offered again

    again.switch_page("pages/5_Export.py").run()
    assert not again.exception
    buttons = {b.label: b for b in again.get("download_button")}
    assert "Campaign plan (CSV)" in buttons and "Campaign plan brief (JSON)" in buttons
    run = session_run(again)
    assert any(
        f"{int((run.result.labels == 2).sum()):,} customers in 1 segment;" in c.value
        for c in again.caption
    )


def test_drafts_saved_in_a_run_folder_reopen_with_it(  # type: ignore[no-untyped-def]
    finished_run, fake_generator, tmp_path, monkeypatch
) -> None:
    from segmenter.campaign import BrandProfile, CampaignBrief, draft_campaign
    from segmenter.campaign.store import DRAFTS_FILE, save_campaign
    from segmenter.pipeline import write_outputs

    monkeypatch.setenv("SEGMENTER_RUNS_DIR", str(tmp_path / "runs"))
    folder = tmp_path / "runs" / "spring"
    write_outputs(finished_run, folder)
    brief = CampaignBrief(channel="sms", brand=BrandProfile(brand_name="Acme"))
    drafts = draft_campaign(finished_run.result.profiles[1], brief, fake_generator)
    save_campaign(folder, drafts, brief.brand, ["10% off"])
    st.cache_resource.clear()
    at = page("pages/1_Upload.py", {state.LM_CONFIG: LMConfig(model="fake-lm")}).run()
    at.button(key="upload_open_run").click().run()
    at.switch_page("pages/4_Campaigns.py").run()
    assert not at.exception
    assert [d.draft_id for d in at.session_state[state.DRAFTS][1]] == [drafts[0].draft_id]
    assert at.session_state[state.BRAND].brand_name == "Acme"
    at.button(key="campaigns_draft").click().run()  # a new draft lands in the same folder
    assert not at.exception
    saved = json.loads((folder / DRAFTS_FILE).read_text(encoding="utf-8"))
    assert len(saved["drafts"]) == 2 and saved["offers"] == ["10% off"]
