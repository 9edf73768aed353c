"""The server-wide gate for heavy jobs: never more at once than its slots, first come first
served, each waiting job told how many are ahead, and a place given up when a user leaves."""

from __future__ import annotations

import threading
import time

import pytest

from segmenter.jobs import HEAVY_JOBS_ENV, JobGate, default_slots
from segmenter.ui.jobs import waiting_message


def _run_jobs(gate: JobGate, n: int, seconds: float) -> tuple[list[int], list[list[int]], int]:
    """Start ``n`` jobs a moment apart; returns their start order, what each was told while
    waiting, and the most that ever ran at once."""
    started: list[int] = []
    told: list[list[int]] = [[] for _ in range(n)]
    busy, most = 0, 0
    lock = threading.Lock()

    def job(i: int) -> None:
        nonlocal busy, most
        with gate.slot(on_wait=told[i].append, poll=0.02):
            with lock:
                started.append(i)
                busy += 1
                most = max(most, busy)
            time.sleep(seconds)
            with lock:
                busy -= 1

    threads = []
    for i in range(n):
        threads.append(threading.Thread(target=job, args=(i,)))
        threads[-1].start()
        time.sleep(0.03)  # arrive in order
    for thread in threads:
        thread.join(timeout=30)
    return started, told, most


def test_one_slot_runs_jobs_one_at_a_time_in_arrival_order() -> None:
    gate = JobGate(slots=1)
    started, told, most = _run_jobs(gate, 4, 0.15)
    assert most == 1 and started == [0, 1, 2, 3]
    assert told[0] == []  # the first job never waits
    assert told[3][0] == 3  # three jobs ahead when it arrived
    assert told[3] == sorted(told[3], reverse=True) and told[3][-1] == 1  # and counting down
    assert gate.running == 0 and gate.waiting == 0


def test_two_slots_run_two_at_once() -> None:
    gate = JobGate(slots=2)
    started, told, most = _run_jobs(gate, 5, 0.15)
    assert most == 2 and sorted(started) == list(range(5))
    assert told[0] == [] and told[1] == []
    assert told[4] and told[4][0] == 3  # two queued before it, and one of two running to end


def test_a_user_who_leaves_gives_up_their_place_and_a_failed_job_its_slot() -> None:
    gate = JobGate(slots=1)
    release = threading.Event()

    def holder() -> None:
        with gate.slot():
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    while gate.running == 0:
        time.sleep(0.01)

    class Left(Exception):
        pass

    def leave(_ahead: int) -> None:
        raise Left  # what Streamlit does to a script whose user went away

    with pytest.raises(Left), gate.slot(on_wait=leave, poll=0.01):
        pass
    assert gate.waiting == 0
    release.set()
    thread.join(5)
    with pytest.raises(RuntimeError), gate.slot():
        raise RuntimeError("the job failed")
    assert gate.running == 0  # the slot came back
    with gate.slot():
        assert gate.running == 1


def test_slots_come_from_the_environment_or_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEAVY_JOBS_ENV, "3")
    assert default_slots() == 3
    monkeypatch.setenv(HEAVY_JOBS_ENV, "zero")
    assert default_slots() >= 1
    with pytest.raises(ValueError, match="slots=0 should be >= 1"):
        JobGate(0)


def test_the_waiting_message_says_where_the_user_stands() -> None:
    assert waiting_message(2, 1).startswith("Waiting for the server: 2 jobs ahead of yours.")
    assert "one job at a time" in waiting_message(1, 1)
    assert "1 job ahead" in waiting_message(1, 2) and "2 jobs at a time" in waiting_message(1, 2)
