"""Time campaign drafting with the default model, and what each speed lever gives.

Every lever runs in a fresh llama.cpp server (they are server settings), after the model is
loaded, on the same sequence a marketer makes: an email for one segment (the first draft
of the session), then emails for other segments (the second and later drafts). Segments
are the hidden personas of the generated sample customers (profiled without embedding).
Per draft: seconds to first token, seconds for the whole draft (retry included), model
calls, prompt tokens read and reused from the cache (llama.cpp's own figures), generation
speed and, with a draft model, how many proposed tokens were accepted.

Levers:
- ``baseline``: the prompts in the tree, threads = physical cores, no warming, no draft model;
- ``compact``: compact facts (3 traits, 2 quotes of at most 120 characters), patched in;
- ``warm``: the fixed prefix read into the cache after loading (``warm_prefix``);
- ``spec``: speculative decoding with Qwen2.5-Coder-0.5B (``requirements-model-draft.txt``);
- ``threads1``: one thread, against one per physical core.

    python bench/drafting.py                       # every lever whose model is installed
    python bench/drafting.py --levers baseline warm --segments 3
    python bench/drafting.py --models smollm2-135m --levers baseline   # the old per-model run
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from make_sample_data import make_sample_customers  # noqa: E402

from segmenter.campaign import CampaignBrief, draft_campaign  # noqa: E402
from segmenter.campaign import prompts as campaign_prompts  # noqa: E402
from segmenter.lm import DEFAULT_GENERATOR, SMALL_GENERATOR  # noqa: E402
from segmenter.lm.bundled import draft_model_path, qwen_path, smollm2_path  # noqa: E402
from segmenter.lm.llamacpp import LlamaCppGenerator, physical_cores  # noqa: E402
from segmenter.lm.prefix import campaign_prefix  # noqa: E402
from segmenter.profile import SegmentProfile, profile_segments  # noqa: E402

MODELS = {
    DEFAULT_GENERATOR: (qwen_path, "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"),
    SMALL_GENERATOR: (smollm2_path, "SmolLM2-135M-Instruct-Q4_1"),
}
LEVERS = ("baseline", "compact", "warm", "spec", "threads1")
COMPACT = {"FACT_TRAITS": 3, "QUOTE_MAX_CHARS": 120}
COMPACT_QUOTES = 2
"""Compact facts: three traits, two quotes of at most 120 characters (the tree: 6, 4, 200)."""


def sample_profiles() -> list[SegmentProfile]:
    """The profiles of the hidden personas of 2,000 generated customers, largest first."""
    frame = make_sample_customers(2000, seed=11)
    personas = sorted(frame["_persona"].unique())
    labels = frame["_persona"].map({p: i for i, p in enumerate(personas)}).to_numpy()
    numeric = frame[["monthly_spend", "tenure_months", "age"]].apply(pd.to_numeric, errors="coerce")
    profiles = profile_segments(
        frame["feedback"].fillna("").tolist(),
        labels,
        numeric,
        frame[["plan", "region"]],
        distances=np.zeros(len(frame)),
    )
    return sorted(profiles, key=lambda p: -p.size)


@contextlib.contextmanager
def patched(module: Any, values: dict[str, Any]) -> Iterator[None]:
    """Set module constants for the duration (the compact-facts lever)."""
    old = {name: getattr(module, name) for name in values if hasattr(module, name)}
    try:
        for name, value in values.items():
            if name in old:
                setattr(module, name, value)
        yield
    finally:
        for name, value in old.items():
            setattr(module, name, value)


class Timed:
    """Wraps a generator: per model call, seconds to the first piece and llama.cpp's timings."""

    def __init__(self, inner: LlamaCppGenerator) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.is_local = True
        self.calls: list[dict[str, float]] = []

    def stream(self, messages: Any, **kwargs: Any) -> Iterator[str]:
        start = time.perf_counter()
        call: dict[str, float] = {"first_token_s": float("nan")}
        self.calls.append(call)
        for piece in self.inner.stream(messages, **kwargs):
            if np.isnan(call["first_token_s"]):
                call["first_token_s"] = time.perf_counter() - start
            yield piece
        call.update({k: float(v) for k, v in self.inner.last_timings.items()})


def run_lever(
    lever: str, model: str, profiles: list[SegmentProfile], channel: str
) -> list[dict[str, Any]]:
    """Load a fresh server for ``lever`` and draft for each profile in turn."""
    path_of, model_id = MODELS[model]
    options: dict[str, Any] = {"seed": 1}
    if lever == "spec":
        draft = draft_model_path()
        if draft is None:
            print("spec: draft model not installed (requirements-model-draft.txt)", file=sys.stderr)
            return []
        options["draft_model"] = draft
    if lever == "threads1":
        options["threads"] = 1
    generator = LlamaCppGenerator(path_of, model_id, **options)
    start = time.perf_counter()
    generator.load()
    rows: list[dict[str, Any]] = [
        {"lever": lever, "step": "load", "seconds": time.perf_counter() - start}
    ]
    if lever == "warm":
        prefix = campaign_prefix()
        seconds = generator.warm_prefix(prefix)
        rows.append(
            {
                "lever": lever,
                "step": "warm prefix",
                "seconds": seconds,
                "prompt tokens": generator.last_timings.get("prompt_n", float("nan")),
                "prefix chars": sum(len(m["content"]) for m in prefix),
            }
        )
    timed = Timed(generator)
    constants = COMPACT if lever == "compact" else {}
    if lever == "compact":
        # quote_block's default count is bound when it is defined: fewer quotes go in instead.
        profiles = [replace(p, examples=p.examples[:COMPACT_QUOTES]) for p in profiles]
    with patched(campaign_prompts, constants):
        for n, profile in enumerate(profiles, start=1):
            brief = CampaignBrief(
                channel=channel, goal="win_back", offer="free delivery for a month"
            )
            calls_before = len(timed.calls)
            [result] = draft_campaign(profile, brief, timed)
            calls = timed.calls[calls_before:]
            first = calls[0] if calls else {}
            rows.append(
                {
                    "lever": lever,
                    "step": f"{channel} {n}" + (" (first)" if n == 1 else ""),
                    "first token s": first.get("first_token_s", float("nan")),
                    "seconds": result.seconds,
                    "calls": len(calls),
                    "prompt tokens": first.get("prompt_n", float("nan")),
                    "cached tokens": first.get("cache_n", float("nan")),
                    "gen tok/s": first.get("predicted_per_second", float("nan")),
                    "accepted": (
                        f"{first['draft_n_accepted']:.0f}/{first['draft_n']:.0f}"
                        if "draft_n" in first
                        else ""
                    ),
                    "checks": "passed" if result.ok else "; ".join(result.problems)[:50],
                }
            )
            print(
                f"{lever} {rows[-1]['step']}: {result.seconds:.1f} s", file=sys.stderr, flush=True
            )
    del timed, generator  # one model at a time: the server goes with its generator
    gc.collect()
    return rows


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table without the optional ``tabulate`` dependency."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(value) for value in row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=[DEFAULT_GENERATOR], choices=MODELS)
    parser.add_argument("--levers", nargs="*", default=list(LEVERS), choices=LEVERS)
    parser.add_argument("--segments", type=int, default=3, help="drafts per lever, one a segment")
    parser.add_argument("--channel", default="email")
    args = parser.parse_args()
    profiles = sample_profiles()[: args.segments]
    rows = []
    for model in args.models:
        for lever in args.levers:
            rows += [
                {"model": model, **row} for row in run_lever(lever, model, profiles, args.channel)
            ]
    table = pd.DataFrame(rows).round(1).astype(object).where(lambda t: t.notna(), "")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs ({physical_cores()} physical "
        f"cores), {platform.system()}; Python {platform.python_version()}; load average "
        f"{load:.1f} at the end; {args.segments} segments of the sample, channel {args.channel}\n"
    )
    print(markdown_table(table))


if __name__ == "__main__":
    main()
