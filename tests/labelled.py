"""The labelled sentiment sets in ../shared/data, read in place (never copied or trained on):
the accuracy test and bench/sentiment_accuracy.py measure on the same rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 0


def load_labelled(name: str, rows: int | None = None) -> pd.DataFrame:
    """``yelp``, ``amazon`` or ``waimai`` as (text, label), label 1 positive / 0 negative,
    shuffled with a fixed seed (waimai is sorted by label); ``rows``: the first that many."""
    if name == "waimai":
        frame = pd.read_csv(SHARED_DATA / "waimai_10k.csv").rename(columns={"review": "text"})
    else:
        frame = pd.read_csv(
            SHARED_DATA / f"sentiment_{name}_labelled.txt",
            sep="\t",
            header=None,
            names=["text", "label"],
            quoting=3,
            dtype={"text": str, "label": int},
        )
    frame = frame.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    return frame.iloc[: rows or len(frame)][["text", "label"]].astype({"text": str})
