"""A server-wide limit on heavy jobs (segmentation, prediction, drafting), with a queue.

On a 2-core server, eight users segmenting at once each get a quarter of a core and all
finish late; and a 100k-row run holds about 2 GB while it works. ``JobGate`` lets
``slots`` jobs run at once and queues the others in arrival order, each able to say how
many jobs are ahead of it ("2 jobs ahead of yours"), so the first users finish at full
speed and the others know where they stand.

>>> gate = JobGate(slots=1)
>>> with gate.slot(on_wait=lambda ahead: print(f"{ahead} ahead")):
...     pass  # the job
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HEAVY_JOBS_ENV = "SEGMENTER_HEAVY_JOBS"
"""How many heavy jobs run at once on this server; the default is one per CPU core. One job
at a time on 2 cores (tried first) made the second of two users wait the whole first run,
and the server's health answer took 2.3–2.75 s in 4 of 5 runs of the e2e isolation test
(it allows 2 s; the cause was not pinned down); two at a time keeps two users as before
and queues the third and later."""
POLL_SECONDS = 0.5
"""How often a waiting job reports its place, so the page's message stays current and a
user who leaves is noticed (Streamlit stops the script at its next call)."""


def default_slots() -> int:
    """``SEGMENTER_HEAVY_JOBS`` when set to a positive number, else the CPU cores (≥ 1)."""
    raw = os.environ.get(HEAVY_JOBS_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, os.cpu_count() or 1)


class JobGate:
    """At most ``slots`` jobs at once; the rest wait first come, first served."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots={slots} should be >= 1: at least one job must run.")
        self.slots = slots
        self._condition = threading.Condition()
        self._waiting: deque[int] = deque()
        self._running = 0
        self._tickets = itertools.count()

    @property
    def running(self) -> int:
        """Jobs running now."""
        with self._condition:
            return self._running

    @property
    def waiting(self) -> int:
        """Jobs queued now."""
        with self._condition:
            return len(self._waiting)

    def _ahead(self, ticket: int) -> int:
        """Jobs that start before ``ticket``: those queued before it, and those running
        beyond the slots it would free (0 when it may start)."""
        position = self._waiting.index(ticket)
        return position + max(0, self._running - self.slots + 1)

    @contextmanager
    def slot(
        self,
        on_wait: Callable[[int], None] | None = None,
        poll: float = POLL_SECONDS,
    ) -> Iterator[None]:
        """Hold a slot for the ``with`` block, waiting in line first.

        ``on_wait`` is called with the number of jobs ahead while waiting (at once, then
        every ``poll`` seconds); an exception it raises (the user left) gives up the place.
        """
        with self._condition:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
        started = False
        try:
            while True:
                with self._condition:
                    ahead = self._ahead(ticket)
                    if ahead == 0:
                        self._waiting.remove(ticket)
                        self._running += 1
                        started = True
                        break
                if on_wait is not None:
                    on_wait(ahead)
                with self._condition:
                    self._condition.wait(timeout=poll)
            yield
        finally:
            with self._condition:
                if started:
                    self._running -= 1
                elif ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._condition.notify_all()


_gate: JobGate | None = None
_gate_lock = threading.Lock()


def heavy_jobs() -> JobGate:
    """The server's one gate for heavy jobs, made on first use (``default_slots``)."""
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = JobGate(default_slots())
        return _gate
