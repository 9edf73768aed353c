"""The whole path in a real browser: upload through the file input, change a column role,
segment, pick a segment, draft copy with the small bundled model, download the export and
check that every row and ID came back. Once on English feedback, once on Chinese feedback
and once on a table of numbers and categories only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.walk import (
    DRAFT_TIMEOUT_MS,
    SEGMENT_TIMEOUT_MS,
    Walk,
    chinese_table,
    count,
    english_table,
    structured_table,
)

pytestmark = [pytest.mark.e2e, pytest.mark.model]

WALKS = {
    "english": (english_table, "customer_id", "plan"),
    "chinese": (chinese_table, "会员编号", "城市"),
    "structured": (structured_table, "CustomerID", "Genre"),
}


@pytest.mark.parametrize("name", list(WALKS))
def test_walk_from_upload_to_export(
    name: str, app_url: str, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    make_table, id_column, role_column = WALKS[name]
    table = make_table()
    source = tmp_path / f"{name}_customers.csv"
    table.to_csv(source, index=False, encoding="utf-8")
    folder = artifacts / name
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    walk = Walk(context.new_page(), folder)
    try:
        walk.page.goto(app_url)
        walk.page.wait_for_selector("text=Segmenter", timeout=60_000)
        walk.go("Upload")
        walk.page.locator("input[type=file]").set_input_files(str(source))
        walk.page.wait_for_selector("text=Column roles", timeout=60_000)
        walk.settle()
        walk.shot("uploaded")

        walk.set_role(list(table.columns).index(role_column), role_column, "ignored")
        walk.shot("role_changed")
        walk.page.get_by_role("button", name="Continue to segments").click()
        walk.settle()
        walk.choose("segments_k", "3")
        walk.page.get_by_role("button", name="Find segments").click()
        walk.page.wait_for_selector("text=Profiles", timeout=SEGMENT_TIMEOUT_MS)
        walk.settle()
        walk.shot("segmented")

        sidebar = walk.page.locator("[data-testid=stSidebar]")
        sidebar.get_by_role("combobox").first.click()
        walk.page.get_by_role("option").nth(1).click()
        walk.settle()
        walk.shot("segment_selected")
        walk.page.locator(".st-key-campaign_draft button").click()
        walk.page.wait_for_selector("[class*='st-key-campaign_regen_']", timeout=DRAFT_TIMEOUT_MS)
        walk.settle()
        sidebar.locator("[class*='st-key-campaign_regen_']").first.scroll_into_view_if_needed()
        walk.shot("drafted")
        copy = [sidebar.locator("textarea").nth(i).input_value() for i in range(count(sidebar))]
        # SmolLM2-135M writes poor copy; the walk checks that real copy arrived, not its
        # quality: the draft's fields (after the brand-voice box) hold text.
        fields = [text.strip() for text in copy[1:]]
        assert len([f for f in fields if f]) >= 2 and sum(map(len, fields)) >= 10, copy

        walk.go("Export")
        walk.shot("export")
        export = walk.download("Download all rows (CSV)", folder / "export.csv")
        run = walk.download("Run details: parameters, models, versions (JSON)", folder / "run.json")
    finally:
        context.close()

    downloaded = pd.read_csv(export, dtype=str, keep_default_na=False, encoding="utf-8")
    assert len(downloaded) == len(table)
    assert downloaded[id_column].tolist() == table[id_column].tolist()
    for column in table.columns:
        assert downloaded[column].tolist() == table[column].tolist(), column
    assert (downloaded["segment_id"].astype(int) >= 0).all()
    assert downloaded["segment_id"].nunique() == 3
    roles = {c["name"]: c["role"] for c in json.loads(run.read_text())["schema"]["columns"]}
    assert roles[role_column] == "ignored"
