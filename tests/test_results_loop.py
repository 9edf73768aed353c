"""The campaign loop: a plan with a held-out control group goes out, its results come back
by customer ID, and what worked reaches the next draft's prompt and is recorded on it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmenter.campaign import CampaignBrief, Draft, draft_campaign
from segmenter.campaign.drafting import drafts_frame
from segmenter.campaign.plan import CONTROL_VARIANT, campaign_plan, plan_brief
from segmenter.campaign.store import draft_from_dict, draft_to_dict
from segmenter.errors import SegmenterError
from segmenter.results import analyse, guess_result_columns, results_from_file
from tests.conftest import FakeGenerator
from tests.test_campaign import prompt_text, themed_profiles
from tests.test_pages import drafting_session, finished_run, loaded_customers  # noqa: F401

NAMES = {0: "Late deliveries", 1: "Price watchers", 2: "Support seekers"}


def _draft(segment: int, variant: int) -> Draft:
    copy = {
        "subject": f"Subject {segment}.{variant}",
        "body": "Body",
        "call_to_action": "Come back",
    }
    return Draft(
        segment_id=segment,
        segment_name=NAMES[segment],
        brief=CampaignBrief(channel="email", offer="free delivery", variants=2),
        language="English",
        variant=variant,
        fields=copy,
        raw_text=json.dumps(copy),
        problems=(),
        model_id="fake-lm",
        seconds=1.0,
        draft_id=f"d{segment}{variant}",
    )


def _plan(n: int, control_share: float, seed: int = 3):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"id": [f"{i:05d}" for i in range(n)], "spend": "1"})
    labels = np.arange(n) % 3
    drafts = [_draft(s, v) for s in range(3) for v in (1, 2)]
    plan = campaign_plan(
        frame,
        labels,
        frame["id"].tolist(),
        drafts,
        channel="email",
        segment_names=NAMES,
        seed=seed,
        id_column="id",
        control_share=control_share,
    )
    return frame, labels, drafts, plan


def test_a_control_share_holds_out_each_segment_reproducibly() -> None:
    frame, labels, _, plan = _plan(3000, 0.1)
    held, sent = plan.holdout, plan.frame
    assert set(held["variant"]) == {CONTROL_VARIANT} and not (held["body"] != "").any()
    assert not set(held["customer_id"]) & set(sent["customer_id"])
    assert len(held) + len(sent) == 3000
    for segment in range(3):
        assert (held["segment_id"] == segment).sum() == 100  # 10% of 1,000
    sizes = sent.groupby(["segment_id", "variant"]).size()
    assert sizes.max() - sizes.min() <= 1  # the rest split evenly between the variants
    assert _plan(3000, 0.1)[3].holdout["customer_id"].tolist() == held["customer_id"].tolist()
    assert plan_brief(plan, _draft(0, 1).brief.brand)["held_out"] == 300
    # No holdout: the assignment is the one plans always had.
    plain = _plan(3000, 0.0)[3]
    assert plain.holdout.empty and len(plain.frame) == 3000
    with pytest.raises(SegmenterError, match="Hold out between 0% and 50%"):
        _plan(30, 0.8)


def test_plan_results_come_back_with_uplift_and_variant_comparison() -> None:
    _, labels, drafts, plan = _plan(6000, 0.2)
    rng = np.random.default_rng(0)
    # What the marketer uploads: the plan and the holdout list, with a converted column.
    back = pd.concat([plan.frame, plan.holdout], ignore_index=True)
    rate = np.where(back["variant"].astype(str) == "2", 0.18, 0.09)
    rate = np.where(back["variant"].astype(str) == CONTROL_VARIANT, 0.04, rate)
    back["converted"] = (rng.random(len(back)) < rate).astype(int)
    back = back.astype(str)
    columns = guess_result_columns(back, [f"{i:05d}" for i in range(6000)])
    assert (columns.id, columns.variant, columns.draft_id) == ("customer_id", "variant", "draft_id")
    assert columns.outcomes == ("converted",)
    results = results_from_file(
        back, [f"{i:05d}" for i in range(6000)], labels, columns, name="spring"
    )
    assert results.has_control and results.has_variants and results.unmatched.empty
    report = analyse(results, NAMES)
    assert (report.uplift.dropna(subset=["uplift"])["ci_low"] > 0).all()
    verdicts = report.comparisons.set_index("segment_id")["verdict"]
    assert verdicts["all"] == "variant 2 responded more than variant 1"
    stored = {d.draft_id: draft_to_dict(d) for d in drafts}
    lessons = report.lessons(1, stored)
    assert any(
        'variant 2 ("Subject 1.2", offer "free delivery") did best' in x for x in lessons.lines
    )
    assert any("more responded than in the control group" in x for x in lessons.lines)


def test_what_worked_reaches_the_prompt_and_is_recorded_on_the_draft() -> None:
    profile = themed_profiles()[0]
    _, labels, drafts, plan = _plan(3000, 0.0)
    back = plan.frame.assign(converted=np.where(plan.frame["variant"] == 2, 1, 0)).astype(str)
    results = results_from_file(
        back,
        [f"{i:05d}" for i in range(3000)],
        labels,
        guess_result_columns(back, [f"{i:05d}" for i in range(3000)]),
        name="spring",
    )
    past = analyse(results, NAMES).lessons(
        profile.segment_id, {d.draft_id: draft_to_dict(d) for d in drafts}
    )
    generator = FakeGenerator()
    [draft] = draft_campaign(profile, CampaignBrief(channel="email"), generator, past=past)
    prompt = prompt_text(generator)
    assert "What earlier campaigns to these customers showed" in prompt
    assert past.lines[0] in prompt
    assert draft.informed_by == past.sources and draft.informed_by
    assert draft_from_dict(draft_to_dict(draft)).informed_by == draft.informed_by
    exported = drafts_frame([draft])
    assert exported["informed_by"].iloc[0] == "; ".join(past.sources)
    # Without results the prompt says nothing of earlier campaigns.
    draft_campaign(profile, CampaignBrief(channel="email"), generator)
    assert "earlier campaigns" not in prompt_text(generator)


# --- the pages ---------------------------------------------------------------------------


def _report_for(run):  # type: ignore[no-untyped-def]
    """Results of a campaign sent to ``run``'s customers: variant 2 did better everywhere."""
    ids = run.prepared.ids.tolist()
    labels = run.result.labels
    back = pd.DataFrame(
        {
            "customer_id": ids,
            "variant": ["1" if i % 2 else "2" for i in range(len(ids))],
            "converted": ["1" if i % 2 == 0 or i % 7 == 0 else "0" for i in range(len(ids))],
        }
    )
    names = {p.segment_id: p.name for p in run.result.profiles}
    columns = guess_result_columns(back, ids)
    return analyse(results_from_file(back, ids, labels, columns, name="spring"), names)


def test_campaigns_page_drafts_with_what_worked_and_says_so(  # type: ignore[no-untyped-def]
    drafting_session,  # noqa: F811 - the fixture imported from test_pages
    fake_generator,
) -> None:
    from segmenter.ui import state
    from tests.test_pages import page

    run = drafting_session[state.RUN]
    report = _report_for(run)
    at = page("pages/4_Campaigns.py", {**drafting_session, state.RESULTS_REPORT: report})
    at.run()
    assert not at.exception
    segment = run.result.profiles[0].segment_id
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Segment")).select(segment)
    at.run()
    assert at.toggle(key="campaigns_use_results").value is True
    lessons = report.lessons(segment)
    assert lessons and any(lessons.lines[0] in m.value.replace("\\", "") for m in at.markdown)
    at.button(key="campaigns_draft").click().run()
    assert not at.exception
    prompt = "\n".join(m["content"] for m in fake_generator.prompts[-1])
    assert lessons.lines[0] in prompt
    [draft] = at.session_state[state.DRAFTS][segment]
    assert draft.informed_by == lessons.sources
    assert any(c.value.startswith("Informed by:") for c in at.caption)
    # Switched off, the next draft knows nothing of earlier campaigns.
    at.toggle(key="campaigns_use_results").set_value(False).run()
    at.button(key="campaigns_draft").click().run()
    assert "earlier campaigns" not in "\n".join(m["content"] for m in fake_generator.prompts[-1])
    assert at.session_state[state.DRAFTS][segment][-1].informed_by == ()


def test_export_page_holds_out_a_control_group(  # type: ignore[no-untyped-def]
    drafting_session,  # noqa: F811 - the fixture imported from test_pages
) -> None:
    from segmenter.ui import state
    from tests.test_pages import page

    run = drafting_session[state.RUN]
    segment = run.result.profiles[0].segment_id
    drafts = {segment: [_draft(segment, 1)]}
    at = page("pages/5_Export.py", {**drafting_session, state.DRAFTS: drafts})
    at.run()
    assert not at.exception
    assert not any(b.label == "Control group (CSV)" for b in at.get("download_button"))
    at.number_input(key="export_plan_control").set_value(20).run()
    assert not at.exception
    assert any(b.label == "Control group (CSV)" for b in at.get("download_button"))
    held = int(round(0.2 * int((run.result.labels == segment).sum())))
    assert any(f"{held:,} customers held out as the control group" in c.value for c in at.caption)


def test_results_kept_with_a_run_come_back_only_for_that_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from segmenter.results.store import load_results, save_results

    _, labels, _, plan = _plan(900, 0.2)
    back = pd.concat([plan.frame, plan.holdout], ignore_index=True)
    back["converted"] = ["1" if i % 4 == 0 else "0" for i in range(len(back))]
    back = pd.concat(
        [back, pd.DataFrame([{"customer_id": "-stranger", "variant": "1", "converted": "1"}])]
    ).fillna("")
    ids = [f"{i:05d}" for i in range(900)]
    results = results_from_file(back, ids, labels, guess_result_columns(back, ids), name="spring")
    save_results(tmp_path, results)
    kept = load_results(tmp_path, ids)
    assert kept is not None and kept.source == "spring" and kept.has_control
    pd.testing.assert_frame_equal(
        kept.frame.reset_index(drop=True),
        results.frame.reset_index(drop=True),
        check_dtype=False,
    )
    assert len(kept.unmatched) == 1
    assert analyse(kept, NAMES).rates.equals(analyse(results, NAMES).rates)
    # Another table's run (other customers in those rows) does not get them.
    assert load_results(tmp_path, [f"X{i}" for i in range(900)]) is None
    assert load_results(tmp_path / "nothing", ids) is None


def test_the_campaigns_page_finds_results_kept_by_an_earlier_session(  # type: ignore[no-untyped-def]
    drafting_session,  # noqa: F811 - the fixture imported from test_pages
) -> None:
    from segmenter.results.store import save_results
    from segmenter.runs import campaign_folder
    from segmenter.ui import state
    from tests.test_pages import page

    run = drafting_session[state.RUN]
    save_results(campaign_folder(run), _report_for(run).results)
    at = page("pages/4_Campaigns.py", drafting_session).run()
    assert not at.exception
    report = at.session_state[state.RESULTS_REPORT]
    assert report.results.source == "spring"
    assert at.toggle(key="campaigns_use_results").value is True


def test_copy_that_tells_the_customer_about_our_campaigns_is_caught() -> None:
    from segmenter.campaign.checks import copy_problems, drop_promises

    body = (
        "We noticed you love our wines. Here's what we found about your previous campaigns. "
        "We've been tracking your behavior closely. A free bottle with your next case awaits."
    )
    fields = {"subject": "Your next case", "body": body, "call_to_action": "See the wines"}
    problems = copy_problems(fields, channel="email", offer="a free bottle with your next case")
    assert any("talks about our data" in p for p in problems)
    kept, notes = drop_promises(fields, "a free bottle with your next case", [])
    assert "campaigns" not in kept["body"] and "tracking" not in kept["body"]
    assert kept["body"].startswith("We noticed you love our wines.") and notes
    clean = dict(fields, body="We noticed you love our wines. A free bottle with your next case.")
    assert not any(
        "data" in p
        for p in copy_problems(clean, channel="email", offer="a free bottle with your next case")
    )
