"""The Campaigns page in a real browser: upload a table with contact columns, segment,
draft an email on the Campaigns page with the small bundled model, download the campaign
plan (one row per customer of the segment, with their contacts and a variant) and its
control group, and bring results for them back on the Campaign results page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.walk import (
    DRAFT_TIMEOUT_MS,
    Walk,
    count,
    english_table,
    start_segmenting,
    upload,
    wait_segmented,
)

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def contacts_table() -> pd.DataFrame:
    table = english_table()
    n = len(table)
    table["Email"] = [f"customer{i}@example.com" for i in range(n)]
    table["Mobile"] = [f"+1 (415) 555-{i:04d}" for i in range(n)]
    table["First Name"] = [f"Alex{i}" for i in range(n)]
    return table


def test_campaigns_page_drafts_and_exports_a_campaign_plan(
    app_url: str, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    table = contacts_table()
    source = tmp_path / "contacts_customers.csv"
    table.to_csv(source, index=False, encoding="utf-8")
    folder = artifacts / "campaigns"
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    walk = Walk(context.new_page(), folder)
    try:
        walk.page.goto(app_url)
        walk.page.wait_for_selector("text=Segmenter", timeout=60_000)
        upload(walk, source)
        start_segmenting(walk)
        wait_segmented(walk)
        walk.go("Campaigns")
        walk.page.wait_for_selector("text=Brief for", timeout=60_000)
        walk.shot("campaigns")
        walk.page.locator(".st-key-campaigns_draft button").click()
        walk.page.wait_for_selector("[class*='st-key-campaigns_regen_']", timeout=DRAFT_TIMEOUT_MS)
        walk.settle()
        walk.shot("drafted")
        main = walk.page.locator("[data-testid=stMain]")
        copy = [main.locator("textarea").nth(i).input_value() for i in range(count(main))]
        # SmolLM2-135M writes poor copy: the walk checks that copy arrived in the boxes.
        assert sum(len(text.strip()) for text in copy) >= 10, copy
        body = main.locator("[class*='st-key-campaigns_'][class*='_body'] textarea").first
        box = body.bounding_box()
        assert box is not None and box["height"] >= 250  # room to read and edit an email

        walk.go("Export")
        walk.page.locator(".st-key-export_plan_control input").fill("20")
        walk.page.keyboard.press("Enter")
        walk.settle()
        walk.page.get_by_role("button", name="Campaign plan (CSV)").scroll_into_view_if_needed()
        walk.shot("export")
        plan_csv = walk.download("Campaign plan (CSV)", folder / "campaign_plan.csv")
        plan_json = walk.download("Campaign plan brief (JSON)", folder / "campaign_plan.json")
        control_csv = walk.download("Control group (CSV)", folder / "control_group.csv")

        # The results come back: the plan and the control group with a converted column,
        # and a row for a customer who is not in the table.
        sent = pd.read_csv(plan_csv, dtype=str, keep_default_na=False)
        held = pd.read_csv(control_csv, dtype=str, keep_default_na=False)
        back = pd.concat([sent, held], ignore_index=True)
        back["converted"] = ["1" if i % 3 == 0 else "0" for i in range(len(back))]
        stranger = {"customer_id": "NOT-A-CUSTOMER", "variant": "1", "converted": "1"}
        back = pd.concat([back, pd.DataFrame([stranger])], ignore_index=True).fillna("")
        results_csv = tmp_path / "email_results.csv"
        back.to_csv(results_csv, index=False)
        walk.go("Campaign results")
        walk.page.get_by_text("Upload results").click()
        walk.settle()
        walk.page.locator("input[type=file]").set_input_files(str(results_csv))
        walk.settle()
        walk.page.locator(".st-key-results_use_file button").click()
        walk.settle()
        walk.page.get_by_text("Contacted minus control response").wait_for(timeout=60_000)
        walk.shot("results")
        main = walk.page.locator("[data-testid=stMain]").inner_text()
        labels = walk.page.locator("[data-testid=stDownloadButton] button").all_inner_texts()
        target_button = next(b for b in labels if b.startswith("targets.csv"))
        targets_csv = walk.download(target_button, folder / "targets.csv")
    finally:
        context.close()

    assert "1 result row matches no customer of this run" in main
    assert f"{len(sent) + len(held):,} customers in 1 campaign from email_results" in main
    targets = pd.read_csv(targets_csv, dtype=str, keep_default_na=False)
    assert len(targets) == len(table) and set(targets["customer_id"]) == set(table["customer_id"])
    assert targets["rank"].tolist() == [str(i) for i in range(1, len(table) + 1)]

    plan = pd.read_csv(plan_csv, dtype=str, keep_default_na=False, encoding="utf-8")
    brief = json.loads(plan_json.read_text(encoding="utf-8"))
    [segment] = brief["segments"]
    assert len(plan) == segment["customers"] > 0
    assert set(plan["segment_id"]) == {str(segment["segment_id"])}
    assert list(plan.columns[:9]) == [
        "customer_id",
        "segment_id",
        "segment_name",
        "channel",
        "variant",
        "draft_id",
        "subject",
        "body",
        "call_to_action",
    ]
    rows = table.set_index("customer_id").loc[plan["customer_id"]]
    assert plan["email"].tolist() == rows["Email"].tolist()
    assert plan["first_name"].tolist() == rows["First Name"].tolist()
    assert plan["phone"].str.fullmatch(r"\+1415555\d{4}").all()
    assert (plan["channel"] == "email").all() and set(plan["variant"]) == {"1"}
    assert brief["brand"]["sms_opt_out"] and isinstance(brief["seed"], int)
