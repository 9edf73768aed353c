"""Call lists: the negative and urgent-risk customers as a table and a formula-safe CSV."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from segmenter.call_list import (
    FLAGS,
    SCORE,
    SEGMENT,
    SENTIMENT,
    TEXT,
    CallListError,
    call_list,
    plain_snippet,
)
from segmenter.export import to_csv_bytes
from segmenter.sentiment import FeedbackResult, SentimentResult, SentimentSource

DOCS = [
    "Love it, great fit",
    '=HYPERLINK("http://evil") refund me now or I call my lawyer',
    "Arrived late",
    "",
    "Broken on arrival, I want my money back\nand an apology",
]
LABELS = np.array(["positive", "negative", "negative", "(no text)", "negative"], dtype=object)
SCORES = np.array([0.9, -0.6, -0.2, np.nan, -0.9])
FLAG_VALUES = ("", "refund; legal", "", "", "refund")
IDS = pd.Series(["007", "+44123", "011", "012", "013"])
NAMES = ["Fans", "Angry", "Angry", "Unsegmented", "Angry"]


def _feedback() -> FeedbackResult:
    return FeedbackResult(
        SentimentResult(LABELS, SCORES, SentimentSource("prototypes")), FLAG_VALUES
    )


def _list(view: str) -> pd.DataFrame:
    return call_list(
        view,  # type: ignore[arg-type]
        _feedback(),
        ids=IDS,
        id_name="customer_id",
        segment_names=NAMES,
        docs=DOCS,
    )


def test_negative_view_lists_every_negative_customer_most_negative_first() -> None:
    frame = _list("negative")
    assert frame.index.tolist() == [4, 1, 2]  # row positions, by sentiment score
    assert list(frame.columns) == ["customer_id", SEGMENT, TEXT, FLAGS, SENTIMENT, SCORE]
    assert frame["customer_id"].tolist() == ["013", "+44123", "011"]  # IDs stay text
    assert frame[SCORE].tolist() == [-0.9, -0.6, -0.2]
    assert frame[TEXT].iloc[0] == "Broken on arrival, I want my money back and an apology"
    assert (frame[SENTIMENT] == "negative").all() and frame[SEGMENT].tolist()[0] == "Angry"


def test_urgent_view_lists_flagged_customers_with_their_flags() -> None:
    frame = _list("urgent")
    assert frame.index.tolist() == [4, 1]
    assert frame[FLAGS].tolist() == ["refund", "refund; legal"]


def test_the_call_list_csv_is_safe_in_a_spreadsheet() -> None:
    text = to_csv_bytes(_list("urgent")).decode("utf-8")
    back = pd.read_csv(io.StringIO(text), dtype=str)
    assert back[TEXT].iloc[1].startswith("'=HYPERLINK")  # shown as text, never run
    assert back["customer_id"].tolist() == ["013", "+44123"]  # a plain number stays data


def test_an_unknown_view_says_which_exist() -> None:
    with pytest.raises(CallListError, match="negative, urgent"):
        _list("angry")


def test_snippets_are_one_line_and_cut() -> None:
    assert plain_snippet("a  b\nc") == "a b c"
    assert plain_snippet("x" * 400, 10) == "x" * 9 + "…"
