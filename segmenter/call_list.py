"""Call lists: the customers behind a view of the map, as a table someone can work through.

The Segments page's negative and urgent-risk views list their customers under the map
(ID, segment, what they wrote, urgent flags, sentiment and its score), most negative first;
the same table is the "call list" CSV. Search matches are listed the same way
(``segmenter.search.matches_frame``). The CLI can call these functions as well.

>>> frame = call_list("urgent", feedback, ids=ids, id_name="customer_id",
...                   segment_names=names, docs=docs)
>>> to_csv_bytes(frame)  # formula-safe CSV
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from segmenter.errors import SegmenterError
from segmenter.sentiment import FeedbackResult

View = Literal["negative", "urgent"]
VIEWS: tuple[View, ...] = ("negative", "urgent")
SNIPPET_CHARS = 300
"""Characters of each customer's text in the list: about three lines of a review, enough
to know what a call is about; the reply drafter reads the whole text."""
SEGMENT = "segment"
TEXT = "text"
FLAGS = "urgent flags"
SENTIMENT = "sentiment"
SCORE = "sentiment score"


class CallListError(SegmenterError):
    """A call list asked of a run that cannot give one."""


def plain_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut at ``limit`` characters with an ellipsis.

    >>> plain_snippet("Late  again.\\nRefund me", 12)
    'Late again.…'
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def customer_rows(
    rows: Sequence[int] | np.ndarray,
    *,
    ids: pd.Series,
    id_name: str,
    segment_names: Sequence[str],
    docs: Sequence[str],
) -> pd.DataFrame:
    """ID, segment and text snippet of ``rows`` (row positions), indexed by row position,
    so a selection in a displayed table leads back to the row."""
    positions = np.asarray(rows, dtype=np.int64)
    return pd.DataFrame(
        {
            id_name: ids.iloc[positions].astype(str).to_numpy(),
            SEGMENT: [segment_names[i] for i in positions],
            TEXT: [plain_snippet(docs[i]) for i in positions],
        },
        index=pd.Index(positions, name="row"),
    )


def view_rows(view: View, feedback: FeedbackResult) -> np.ndarray:
    """Row positions in ``view``: negative sentiment, or at least one urgent flag.

    Raises:
        CallListError: ``view`` is not one of ``VIEWS``.
    """
    if view == "negative":
        return np.flatnonzero(feedback.sentiment.labels == "negative")
    if view == "urgent":
        return np.flatnonzero(feedback.urgent)
    raise CallListError(f"There is no {view!r} view: choose one of {', '.join(VIEWS)}.")


def call_list(
    view: View,
    feedback: FeedbackResult,
    *,
    ids: pd.Series,
    id_name: str,
    segment_names: Sequence[str],
    docs: Sequence[str],
) -> pd.DataFrame:
    """The customers of a negative or urgent-risk view, most negative first (ties in table
    order): ID, segment, text snippet, urgent flags, sentiment and sentiment score
    (P(positive) − P(negative), from −1 to 1). Indexed by row position.

    Raises:
        CallListError: ``view`` is not one of ``VIEWS``.
    """
    rows = view_rows(view, feedback)
    scores = np.asarray(feedback.sentiment.scores, dtype=float)[rows]
    rows = rows[np.argsort(np.nan_to_num(scores, nan=np.inf), kind="stable")]
    frame = customer_rows(rows, ids=ids, id_name=id_name, segment_names=segment_names, docs=docs)
    frame[FLAGS] = [feedback.flags[i] for i in rows]
    frame[SENTIMENT] = feedback.sentiment.labels[rows].astype(str)
    frame[SCORE] = np.round(np.asarray(feedback.sentiment.scores, dtype=float)[rows], 3)
    return frame


def call_list_filename(view: View) -> str:
    """ "call_list_urgent.csv" """
    return f"call_list_{view}.csv"
