"""A bounded load test on loopback: several browser sessions upload and segment at once.

Starts the app with ``streamlit run`` on a free port, opens N sessions in Debian's
Chromium, has each upload its own copy of the sample customers (text made distinct per
session, so nothing comes from another session's embedding cache), find segments at the
same moment and download the export. Meanwhile ``/_stcore/health`` is polled twice a
second. Prints a Markdown table: seconds per session, rows back, the slowest and 95th
percentile health answer, and the server's peak memory.

    python bench/load.py                 # 4 sessions of 2,000 rows
    python bench/load.py --sessions 8 --rows 20000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM_ARGS, running_app  # noqa: E402
from tests.e2e.test_isolation import HealthProbe  # noqa: E402
from tests.e2e.walk import Walk, upload  # noqa: E402

SAMPLE = ROOT / "assets" / "sample_customers.csv"


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def session_file(folder: Path, session: int, rows: int) -> tuple[Path, list[str]]:
    """``rows`` customers from the sample (repeated as often as needed, each copy with its
    own IDs), with text made unique to this session and copy: nothing comes from a cache."""
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    copies = -(-rows // len(sample))
    frame = pd.concat([sample.assign(_copy=str(c)) for c in range(copies)], ignore_index=True).head(
        rows
    )
    frame["feedback"] = frame["feedback"].where(
        frame["feedback"] == "",
        frame["feedback"] + f" (session {session}, copy " + frame["_copy"] + ")",
    )
    frame["customer_id"] = f"S{session}-" + frame["_copy"] + "-" + frame["customer_id"]
    frame = frame.drop(columns="_copy")
    path = folder / f"session_{session}.csv"
    frame.to_csv(path, index=False)
    return path, frame["customer_id"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument(
        "--budget-mb",
        type=int,
        default=None,
        help="the server's memory budget for runs (SEGMENTER_MEMORY_BUDGET_MB); small enough "
        "and the sessions' runs move to their folders and come back for the export",
    )
    args = parser.parse_args()
    if args.budget_mb:
        os.environ["SEGMENTER_MEMORY_BUDGET_MB"] = str(args.budget_mb)

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        folder = Path(tmp)
        files = [session_file(folder, s, args.rows) for s in range(args.sessions)]
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        with running_app(folder) as (url, process):
            idle_mb = peak_memory_mb(process.pid)
            walks = []
            for session, (path, _ids) in enumerate(files):
                context = browser.new_context(
                    viewport={"width": 1400, "height": 1000}, accept_downloads=True
                )
                walk = Walk(context.new_page(), folder / f"shots_{session}")
                walk.page.goto(url)
                walk.page.wait_for_selector("text=Segmenter", timeout=60_000)
                upload(walk, path)
                walk.page.get_by_role("button", name="Continue to segments").click()
                walk.settle()
                walks.append(walk)
            probe = HealthProbe(url)
            probe.samples = []  # type: ignore[attr-defined]
            probe.start()
            started = time.perf_counter()
            for walk in walks:  # everyone presses Find segments at the same moment
                walk.page.get_by_role("button", name="Find segments").click()
            # The last session should be told its place in the queue (``segmenter.jobs``).
            walks[-1].page.wait_for_timeout(3_000)
            queued = walks[-1].page.get_by_text("ahead of yours").count() > 0
            walks[-1].shot("queued")
            seconds = []
            for walk in walks:
                walk.page.wait_for_selector("text=Profiles", timeout=1_200_000)
                seconds.append(time.perf_counter() - started)
            probe.done.set()
            rows_back = []
            for session, walk in enumerate(walks):
                walk.go("Export")
                target = folder / f"export_{session}.csv"
                walk.download("Download all rows (CSV)", target)
                back = pd.read_csv(target, dtype=str, keep_default_na=False)
                ids_ok = back["customer_id"].tolist() == files[session][1]
                rows_back.append(f"{len(back):,}{'' if ids_ok else ' (IDs differ!)'}")
            peak_mb = peak_memory_mb(process.pid)
        log = (folder / "streamlit.log").read_text(encoding="utf-8", errors="replace")
        moved = log.count("Memory budget: moved a run")
        read_back = log.count("Memory budget: read a run back")
        browser.close()

    machine = platform.processor() or platform.machine()
    print(f"\n{args.sessions} sessions × {args.rows:,} rows, {machine}, {os.cpu_count()} cores\n")
    print("| session | seconds to segments | rows back (IDs checked) |")
    print("|---|---|---|")
    for session, (took, back) in enumerate(zip(seconds, rows_back, strict=True)):
        print(f"| {session} | {took:.0f} | {back} |")
    print(f"\nhealth answers: slowest {probe.slowest:.2f} s, failures {probe.failures}")
    budget = f", budget for runs {args.budget_mb:,} MB" if args.budget_mb else ""
    print(f"server memory: {idle_mb:.0f} MB at start, peak {peak_mb:.0f} MB{budget}")
    print(f"all sessions done in {max(seconds):.0f} s (median {np.median(seconds):.0f} s)")
    print(f"the last session was shown its place in the queue: {'yes' if queued else 'no'}")
    print(f"runs moved out of memory: {moved}; read back from their folders: {read_back}")


if __name__ == "__main__":
    main()
