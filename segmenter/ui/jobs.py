"""Heavy work in a page waits its turn on the server's ``JobGate``, saying where it stands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from segmenter.jobs import heavy_jobs
from segmenter.run_budget import run_budget, working_bytes


def waiting_message(ahead: int, slots: int) -> str:
    """What a queued user reads: how many jobs are ahead and why there is a queue."""
    jobs = "1 job" if ahead == 1 else f"{ahead} jobs"
    at_once = "one job at a time" if slots == 1 else f"{slots} jobs at a time"
    return (
        f"Waiting for the server: {jobs} ahead of yours. It runs {at_once}, so each "
        "finishes at full speed; yours starts by itself, keep this page open."
    )


@contextmanager
def heavy_job() -> Iterator[None]:
    """Run the ``with`` block when the server has a free slot; meanwhile the page shows the
    user's place in the queue (and a user who leaves gives it up)."""
    gate = heavy_jobs()
    notice = st.empty()

    shown: list[int] = []

    def show(ahead: int) -> None:
        if shown[-1:] != [ahead]:  # redraw only when the place changes
            notice.info(waiting_message(ahead, gate.slots), icon="⏳")
            shown.append(ahead)

    try:
        with gate.slot(on_wait=show):
            notice.empty()
            yield
    finally:
        notice.empty()


@contextmanager
def segmentation_job(frame: pd.DataFrame) -> Iterator[None]:
    """A segmentation of ``frame`` as a heavy job whose working memory counts against the
    server's budget for runs (older runs move to disk to make room).

    Raises:
        TableTooLargeError: the table alone needs more than the budget (before queueing).
    """
    budget = run_budget()
    needed = working_bytes(frame)
    budget.check_fits(needed, len(frame))
    with heavy_job(), budget.working(needed, len(frame)):
        yield
