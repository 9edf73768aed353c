"""Shared fixtures: tiny synthetic customers, a fake embedder with structure, isolated caches."""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

# One numba cache for the test process and the app servers the browser tests start, so
# UMAP's kernels compile once per test run (per machine, where the folder survives).
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".pytest_cache" / "numba")
)

THEMES: dict[str, tuple[str, ...]] = {
    "delivery": (
        "The delivery was late again and the parcel arrived damaged",
        "Courier lost my package, delivery took two weeks",
        "Shipping is slow and tracking never updates",
    ),
    "price": (
        "Too expensive compared to other shops, prices keep rising",
        "The subscription price went up and I want a discount",
        "Great product but the cost is far too high for me",
    ),
    "support": (
        "Support agent was friendly and solved my problem quickly",
        "Customer service answered my chat in minutes, very helpful",
        "Helpful support team, they fixed my account issue",
    ),
}
THEME_KEYWORDS: dict[str, tuple[str, ...]] = {
    "delivery": ("delivery", "courier", "shipping", "parcel", "package"),
    "price": ("price", "expensive", "cost", "discount"),
    "support": ("support", "service", "agent", "helpful"),
}
FAKE_DIM = 16


def make_customers(n_per_theme: int = 40, seed: int = 0) -> pd.DataFrame:
    """Customers in three obvious themes, as ingest delivers them: every cell a string."""
    rng = np.random.default_rng(seed)
    rows = []
    plans = {"delivery": "basic", "price": "basic", "support": "premium"}
    spend_centre = {"delivery": 40.0, "price": 25.0, "support": 120.0}
    for theme, sentences in THEMES.items():
        for i in range(n_per_theme):
            rows.append(
                {
                    "theme": theme,
                    "feedback": f"{sentences[i % len(sentences)]} ({i})",
                    "spend": f"{spend_centre[theme] + rng.normal(0, 3):.2f}",
                    "plan": plans[theme],
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "customer_id", [f"{i:04d}" for i in range(1, len(frame) + 1)])
    return frame


def make_transaction_log(n_customers: int = 40, seed: int = 0) -> pd.DataFrame:
    """Order lines in the UCI Online Retail layout: frequent, occasional and one-off buyers,
    a few ``C`` returns and guest lines without a CustomerID; every cell a string."""
    rng = np.random.default_rng(seed)
    products = ("Red mug", "Tea towel", "Lamp", "Garden hose", "Notebook", "Candle")
    rows = []
    invoice = 500000
    for index in range(n_customers):
        customer = "" if index % 13 == 12 else f"{17000 + index}"
        orders = (12, 4, 1)[index % 3]
        for order in range(orders):
            invoice += 1
            day = int(rng.integers(0, 30)) + order * (300 // orders)
            for line in range(1 + index % 3):
                quantity = int(rng.integers(1, 5))
                if order == orders - 1 and line == 0 and index % 5 == 0:
                    quantity = -quantity  # a return
                rows.append(
                    {
                        "InvoiceNo": f"C{invoice}" if quantity < 0 else str(invoice),
                        "CustomerID": customer,
                        "InvoiceDate": f"2024-01-01 10:00 +{day}d",
                        "Description": products[(index + line) % len(products)],
                        "Quantity": str(quantity),
                        "UnitPrice": f"{2.5 + (index % 4) * 5:.2f}",
                    }
                )
    frame = pd.DataFrame(rows)
    base = pd.Timestamp("2024-01-01 10:00")
    days = frame["InvoiceDate"].str.extract(r"\+(\d+)d")[0].astype(int)
    frame["InvoiceDate"] = (base + pd.to_timedelta(days, unit="D")).dt.strftime("%Y-%m-%d %H:%M")
    return frame


class FakeEmbedder:
    """Deterministic embedder: one direction per theme plus seeded noise, no model download."""

    def __init__(self, model_id: str = "fake-themes") -> None:
        self.model_id = model_id
        self.dimension = FAKE_DIM
        self.calls: list[list[str]] = []
        basis = np.random.default_rng(42).normal(size=(len(THEMES) + 1, FAKE_DIM))
        self._basis = basis / np.linalg.norm(basis, axis=1, keepdims=True)

    def _theme_index(self, text: str) -> int:
        lowered = text.lower()
        for index, words in enumerate(THEME_KEYWORDS.values()):
            if any(word in lowered for word in words):
                return index
        return len(THEMES)

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.empty((len(texts), FAKE_DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = zlib.crc32(hashlib.sha256(text.encode()).digest())
            noise = np.random.default_rng(seed).normal(scale=0.15, size=FAKE_DIM)
            vector = self._basis[self._theme_index(text)] + noise
            out[row] = vector / np.linalg.norm(vector)
        return out


@pytest.fixture
def customers() -> pd.DataFrame:
    """120 customers in three themes (40 each) with string cells and zero-padded IDs."""
    return make_customers()


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEmbedder]:
    """A FakeEmbedder registered under the name ``fake`` for the duration of a test;
    pages read feedback sentiment with it too (``SEGMENTER_SENTIMENT_MODEL``)."""
    from segmenter.embedding import register_embedder, unregister_embedder

    monkeypatch.setenv("SEGMENTER_SENTIMENT_MODEL", "fake")
    embedder = FakeEmbedder()
    register_embedder("fake", lambda: embedder, description="test embedder")
    yield embedder
    unregister_embedder("fake")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every cache at a fresh temporary folder so tests never share state."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SEGMENTER_CACHE_DIR", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SEGMENTER_WARM_UP", "0")  # AppTests: no background compile
    monkeypatch.setenv("SEGMENTER_RUNS_DIR", str(tmp_path / "runs"))  # drafts saved per run
    from segmenter import run_budget
    from segmenter.pipeline import clear_run_cache

    clear_run_cache()  # runs are cached by content and settings: start each test cold
    monkeypatch.setattr(run_budget, "_budget", None)  # each test its own memory budget
    return cache


class FakeGenerator:
    """A deterministic ``TextGenerator``: answers from a script (or a function of the
    prompt), streams in small pieces, and records every conversation it was sent."""

    is_local = True

    def __init__(
        self,
        replies: Sequence[str] | None = None,
        reply_for: Callable[[list[dict[str, str]]], str] | None = None,
        model_id: str = "fake-lm",
    ) -> None:
        self.model_id = model_id
        self.replies = list(replies or [])
        self.reply_for = reply_for
        self.prompts: list[list[dict[str, str]]] = []
        self.schemas: list[Any] = []
        self.avoided: list[tuple[str, ...]] = []

    def stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        conversation = [dict(m) for m in messages]
        self.prompts.append(conversation)
        self.schemas.append(json_schema)
        self.avoided.append(tuple(avoid))
        if self.reply_for is not None:
            reply = self.reply_for(conversation)
        elif self.replies:
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        else:
            keys = (json_schema or {}).get("required", ["text"])
            reply = json.dumps(dict.fromkeys(keys, "Come back soon."))
        for start in range(0, len(reply), 7):
            yield reply[start : start + 7]


@pytest.fixture
def fake_generator() -> Iterator[FakeGenerator]:
    """A FakeGenerator registered under the name ``fake-lm`` for the duration of a test."""
    from segmenter.lm import register_generator, unregister_generator

    generator = FakeGenerator()
    register_generator("fake-lm", lambda: generator, description="test generator")
    yield generator
    unregister_generator("fake-lm")
