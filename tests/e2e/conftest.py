"""A real Streamlit server on a free local port and Debian's Chromium driven by Playwright.

The browser is the system's ``chromium`` (``make test`` installs it with apt); Playwright
never downloads one. Screenshots of every step land in ``artifacts/e2e/`` (or
``$SEGMENTER_E2E_ARTIFACTS``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``/_stcore/health`` until the server answers ``ok``."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"streamlit did not become healthy:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the screenshots and downloads of the walks go."""
    path = Path(os.environ.get("SEGMENTER_E2E_ARTIFACTS", ROOT / "artifacts" / "e2e"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def running_app(home: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The app, started with ``streamlit run`` as a user would, drafting with SmolLM2."""
    port = free_port()
    log = home / "streamlit.log"
    env = {
        **os.environ,
        "SEGMENTER_CACHE_DIR": str(home / "cache"),
        "SEGMENTER_LM": "smollm2-135m",
        "SEGMENTER_RUNS_DIR": str(home / "runs"),  # drafts are saved per run, not in the repo
        "HF_HUB_OFFLINE": "1",
    }
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *extra,
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One app server shared by the browser tests."""
    with running_app(tmp_path_factory.mktemp("server")) as (url, _process):
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium under Playwright."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only for e2e

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
