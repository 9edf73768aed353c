"""Browser helpers for the end-to-end tests: generated tables and a ``Walk`` that drives
one browser session through the app's pages, with a screenshot per step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.conftest import make_customers

SEGMENT_TIMEOUT_MS = 300_000
DRAFT_TIMEOUT_MS = 240_000
ROW_HEIGHT = 35  # Streamlit's data editor: header and rows are 35 px tall


def english_table() -> pd.DataFrame:
    return make_customers(n_per_theme=40).drop(columns=["theme"])


CHINESE_THEMES = (
    ("快递太慢了，等了一个多星期才到", "包裹被压坏了，物流太差", "发货慢，客服也不催"),
    ("价格太贵了，希望多一些优惠", "会员费又涨价了，不划算", "比别家贵，想要折扣"),
    ("客服很耐心，问题很快解决了", "售后服务很好，退款很及时", "客服态度好，一直跟进"),
)


def chinese_table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for theme, sentences in enumerate(CHINESE_THEMES):
        for i in range(30):
            rows.append(
                {
                    "会员编号": f"{theme * 100 + i + 1:05d}",
                    "评价": f"{sentences[i % 3]}（{i}）",
                    "消费": f"{(40, 25, 120)[theme] + rng.normal(0, 3):.2f}",
                    "城市": ("北京", "上海", "广州")[i % 3],
                }
            )
    return pd.DataFrame(rows)


def structured_table() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    centres = ((25, 30, 80), (45, 90, 20), (60, 50, 50))
    for group, (age, income, score) in enumerate(centres):
        for i in range(50):
            rows.append(
                {
                    "CustomerID": f"{group * 50 + i + 1:04d}",
                    "Genre": ("Male", "Female")[i % 2],
                    "Age": str(int(age + rng.normal(0, 3))),
                    "Annual Income (k$)": str(int(income + rng.normal(0, 5))),
                    "Spending Score (1-100)": str(int(score + rng.normal(0, 5))),
                }
            )
    return pd.DataFrame(rows)


def count(locator: Any) -> int:
    """How many text areas ``locator`` holds (brand voice, then each draft field)."""
    return int(locator.locator("textarea").count())


@dataclass
class Walk:
    """One browser session, with a screenshot per step."""

    page: Any
    folder: Path
    step: int = 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.folder / f"{self.step:02d}_{name}.png"))

    def settle(self) -> None:
        """Wait until Streamlit has finished the current run (no spinner, no progress)."""
        busy = "[data-testid=stSpinner], [data-testid=stProgress], [data-testid=stSkeleton]"
        self.page.wait_for_timeout(600)
        self.page.wait_for_function(
            f"() => document.querySelectorAll('{busy}').length === 0", timeout=SEGMENT_TIMEOUT_MS
        )
        self.page.wait_for_timeout(400)

    def go(self, label: str) -> None:
        self.page.locator("[data-testid=stSidebarNav] a", has_text=label).first.click()
        self.settle()

    def choose(self, key: str, option: str) -> None:
        self.page.locator(f".st-key-{key}").get_by_role("combobox").click()
        self.page.get_by_role("option", name=option, exact=True).click()
        self.settle()

    def set_role(self, row: int, column: str, role: str) -> None:
        """Change the role in row ``row`` (0-based, column ``column``) of the roles editor.

        The editor is a canvas: click its first cell, then move with the keyboard (column
        widths vary with the content, rows do not move).
        """
        editor = self.page.locator("[data-testid=stDataFrame]").last
        editor.scroll_into_view_if_needed()
        box = editor.bounding_box()
        assert box is not None
        self.page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT * 1.5)
        self.page.keyboard.press("ArrowRight")
        for _ in range(row):
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Enter")
        self.page.wait_for_timeout(800)  # the select editor opens; typing earlier is lost
        self.page.keyboard.type(role, delay=50)
        self.page.keyboard.press("Enter")
        # The page confirms once the server has the new role.
        self.page.get_by_text(f"Changed by you: {column} → {role}").wait_for(timeout=30_000)
        self.settle()

    def download(self, button: str, target: Path) -> Path:
        with self.page.expect_download() as info:
            self.page.get_by_role("button", name=button).click()
        info.value.save_as(str(target))
        return target


def upload(walk: Walk, source: Path) -> None:
    """Open the Upload page and send ``source`` through the real file input."""
    walk.go("Upload")
    walk.page.locator("input[type=file]").set_input_files(str(source))
    walk.page.wait_for_selector("text=Column roles", timeout=60_000)
    walk.settle()


def start_segmenting(walk: Walk, k: int = 3) -> None:
    """From the Upload page, ask for ``k`` segments and press Find segments (no waiting)."""
    walk.page.get_by_role("button", name="Continue to segments").click()
    walk.settle()
    walk.choose("segments_k", str(k))
    walk.page.get_by_role("button", name="Find segments").click()


def wait_segmented(walk: Walk) -> None:
    walk.page.wait_for_selector("text=Profiles", timeout=SEGMENT_TIMEOUT_MS)
    walk.settle()
