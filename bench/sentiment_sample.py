"""How many rows a large table's sentiment must be read on: the carried labels' agreement
with human labels, against the number of rows the sentiment model reads.

On a table of more than ``SENTIMENT_FULL_ROWS`` rows the multilingual model reads a sample
(``SENTIMENT_SAMPLE_ROWS``) and a classifier on the segmentation's vectors carries its
reading to the other rows (``reading.carry_sentiment``). Reading the sample is most of the
stage's time at 100k rows, so this measures what a smaller sample costs in agreement. The
UCI Yelp and Amazon sentences (``../shared/data``, read in place, never trained on) stand
in for a table: a sample of them is read, the rest carried, through the fast mode's static
vectors (what a large English table is segmented with); each size over several draws.
``--set waimai``: 4,000 Chinese delivery reviews, carried through the Chinese fast mode's.

    .venv/bin/python bench/sentiment_sample.py [--set waimai]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmenter.config import EmbedConfig  # noqa: E402
from segmenter.feedback_stage import reader_vectors  # noqa: E402
from segmenter.pipeline import embed_documents  # noqa: E402
from segmenter.sentiment import SentimentResult, carry_sentiment, classify_text  # noqa: E402
from tests.labelled import load_labelled  # noqa: E402

SIZES = (250, 500, 1000, 1500, 2000)
DRAWS = 5
SETS = {
    "english": (("yelp", "amazon"), "minilm-fast", None),
    "waimai": (("waimai",), "multilingual-fast", 4_000),
}
"""Each set's files, the fast mode whose vectors carry the reading, and how many rows."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=sorted(SETS), default="english")
    args = parser.parse_args()
    names, carrier_model, rows_wanted = SETS[args.set]
    config = EmbedConfig()
    texts: list[str] = []
    truth: list[str] = []
    for name in names:
        frame = load_labelled(name, rows_wanted)
        texts += frame["text"].tolist()
        truth += ["positive" if label == 1 else "negative" for label in frame["label"]]
    gold = np.array(truth, dtype=object)
    n = len(texts)
    has_text = np.ones(n, dtype=bool)
    read_vectors = embed_documents(texts, config.sentiment_model, config)
    static = embed_documents(texts, carrier_model, config)
    assert read_vectors is not None and static is not None
    phrases = reader_vectors(config)
    start = time.perf_counter()
    full = classify_text(texts, read_vectors.vectors, has_text, phrases)
    per_row = (time.perf_counter() - start) / n
    agree = float((full.labels == gold).mean())
    print(f"{n:,} rows of {' and '.join(names)}; every row read: agreement {agree:.1%}")
    print(f"carried through {carrier_model}'s vectors\n")
    head = ["rows read", "carried rows: agreement (mean, min–max over draws)", "all rows"]
    head.append("classifier's held-out agreement with the reading, per draw")
    print("| " + " | ".join(head) + " |")
    print("|---|---|---|---|")
    for size in (s for s in SIZES if s < n):
        carried_scores, all_scores, notes = [], [], []
        for draw in range(DRAWS):
            rows = np.sort(np.random.default_rng(draw).choice(n, size, replace=False))
            sample = SentimentResult(
                full.labels[rows], full.scores[rows], full.source, full.cv_accuracy
            )
            result = carry_sentiment(sample, rows, static.vectors, has_text)
            rest = np.setdiff1d(np.arange(n), rows)
            carried_scores.append(float((result.labels[rest] == gold[rest]).mean()))
            all_scores.append(float((result.labels == gold).mean()))
            found = re.search(r"(\d+)% agreement", result.note)
            notes.append(found.group(1) if found else "-")
        print(
            f"| {size:,} | {np.mean(carried_scores):.1%} ({min(carried_scores):.1%}–"
            f"{max(carried_scores):.1%}) | {np.mean(all_scores):.1%} | "
            f"{', '.join(notes)}% |"
        )
    print(
        "\nreading cost per row (lexicons, cues, classifiers; vectors given): "
        f"{per_row * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
