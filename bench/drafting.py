"""Time campaign drafting with each installed local model.

For every bundled model that is installed: load time, then one draft per channel for one
segment of the generated sample customers (profiled by their hidden persona, so no
embedding is needed). Per channel: time to first token, prompt and generation speed
(llama.cpp's own figures), seconds for the whole draft including a retry if one was
needed, and whether the copy passed its checks. Channels run in order on one loaded
model, as a marketer would use them: the first pays for the whole prompt, later ones
reuse the cached segment prefix.

    python bench/drafting.py
    python bench/drafting.py --models smollm2-135m --channels email sms
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from make_sample_data import make_sample_customers  # noqa: E402

from segmenter.campaign import CHANNELS, CampaignBrief, draft_campaign  # noqa: E402
from segmenter.lm import DEFAULT_GENERATOR, SMALL_GENERATOR  # noqa: E402
from segmenter.lm.bundled import qwen_installed, qwen_path, smollm2_path  # noqa: E402
from segmenter.lm.llamacpp import LlamaCppGenerator  # noqa: E402
from segmenter.profile import SegmentProfile, profile_segments  # noqa: E402

MODELS = {
    DEFAULT_GENERATOR: (qwen_path, "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"),
    SMALL_GENERATOR: (smollm2_path, "SmolLM2-135M-Instruct-Q4_1"),
}


def sample_profile(persona: str = "delivery") -> SegmentProfile:
    """The profile of one hidden persona of 2,000 generated customers."""
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
    index = next((i for i, p in enumerate(personas) if persona in p), 0)
    return profiles[index]


def bench_model(name: str, channels: list[str], profile: SegmentProfile) -> list[dict[str, object]]:
    path_of, model_id = MODELS[name]
    generator = LlamaCppGenerator(path_of, model_id, seed=1)
    start = time.perf_counter()
    generator.load()
    load_seconds = time.perf_counter() - start
    rows: list[dict[str, object]] = [{"model": name, "step": "load", "seconds": load_seconds}]
    for channel in channels:
        brief = CampaignBrief(channel=channel, goal="win_back", offer="free delivery for a month")
        first_token: list[float] = []
        started = time.perf_counter()

        def on_text(
            _variant: int, _text: str, marks: list[float] = first_token, t0: float = started
        ) -> None:
            if not marks:
                marks.append(time.perf_counter() - t0)

        [draft] = draft_campaign(profile, brief, generator, on_text=on_text)
        timings = generator.last_timings
        rows.append(
            {
                "model": name,
                "step": channel,
                "first token s": first_token[0] if first_token else float("nan"),
                "prompt tok/s": timings.get("prompt_per_second", float("nan")),
                "gen tok/s": timings.get("predicted_per_second", float("nan")),
                "tokens": timings.get("predicted_n", 0),
                "seconds": draft.seconds,
                "checks": "passed" if draft.ok else "; ".join(draft.problems)[:60],
            }
        )
        print(f"{name} {channel}: {draft.seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


def markdown_table(table: pd.DataFrame) -> str:
    """A Markdown table without the optional ``tabulate`` dependency."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(value) for value in row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None, help="default: every installed one")
    parser.add_argument("--channels", nargs="*", default=list(CHANNELS), choices=list(CHANNELS))
    args = parser.parse_args()
    models = args.models or [
        name for name in MODELS if name != DEFAULT_GENERATOR or qwen_installed()
    ]
    profile = sample_profile()
    rows = []
    for name in models:
        rows += bench_model(name, args.channels, profile)
    table = pd.DataFrame(rows).round(2).astype(object).where(lambda t: t.notna(), "")
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"Python {platform.python_version()}; segment of {profile.size} customers, "
        f"language {profile.language}\n"
    )
    print(markdown_table(table))


if __name__ == "__main__":
    main()
