"""How well each candidate sentiment reader agrees with human labels on real review text.

Reads the labelled sets in ``../shared/data/`` in place (never copied, never trained on):
UCI "Sentiment Labelled Sentences" from Yelp and Amazon (English, 1,000 each, 0/1;
Kotzias et al., KDD 2015) and ``waimai_10k.csv`` (Chinese delivery reviews, 0/1, sorted by
label, so shuffled with a fixed seed before sampling). Each candidate scores each row;
"agreement" counts a row right when its positive/negative label matches (neutral is a
miss). Also reads a few generated complaint narratives, cancellation requests and refund
demands, which must all read negative.

    .venv/bin/python bench/sentiment_accuracy.py              # waimai: 2,000 sampled rows
    .venv/bin/python bench/sentiment_accuracy.py --rows 600   # every set sampled to 600
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from segmenter.config import EmbedConfig  # noqa: E402
from segmenter.pipeline import embed_documents  # noqa: E402
from segmenter.sentiment import (  # noqa: E402
    PROTOTYPE_SOURCE,
    SENTIMENTS,
    SentimentReader,
    _vader,
    complaint_cues,
    fit_prototype_classifier,
    lexicon_scores,
    prototype_phrases,
    reader_phrases,
    text_model,
)
from tests.labelled import load_labelled  # noqa: E402

COMPLAINTS = (
    "I have disputed this charge with XXXX three times and they keep reporting it to the "
    "credit bureaus as late. I sent them the receipts and the bank statement.",
    "Please cancel my account and stop billing my card. I asked for this last month.",
    "I want a full refund for the order. The item arrived damaged and nobody replies to my emails.",
    "On XX/XX/2019 I called the company to close my account. They said it was closed but I "
    "was charged a fee again in March.",
    "The collector calls my work every day about a debt that is not mine. I have asked them "
    "in writing to stop.",
    "I am still waiting for my money back after returning the phone six weeks ago.",
    "My mortgage payment was applied to the wrong account and now they are charging me late "
    "fees. I have called four times and each agent tells me something different.",
    "Cancel my subscription immediately.",
    "我要求退款，商品收到就是坏的，客服一直不回复。",
    "请帮我注销账户，不要再扣费了。",
)
"""Generated consumer-finance style texts (written for this benchmark): all negative."""


Reader = Callable[[Sequence[str], np.ndarray], np.ndarray]
"""(texts, vectors) -> labels ("negative", "neutral" or "positive") per row."""


def _signs(scores: np.ndarray, neutral_band: float) -> np.ndarray:
    labels = np.where(scores > 0, "positive", "negative").astype(object)
    labels[np.abs(scores) < neutral_band] = "neutral"
    return labels


def candidates(phrase_vectors: np.ndarray) -> dict[str, Reader]:
    """Every reader measured, by name."""
    n_prototypes = len(prototype_phrases()[0])
    _, labels = reader_phrases()
    prototypes = SentimentReader(
        fit_prototype_classifier(phrase_vectors[:n_prototypes], labels[:n_prototypes]),
        PROTOTYPE_SOURCE,
    )
    full = text_model(phrase_vectors)

    def prototype_reader(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return prototypes.read(vectors, np.ones(len(texts), dtype=bool)).labels

    def corpus_only(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        assert full.corpus is not None
        p = full.corpus.predict_proba(vectors)
        return _signs(p[:, list(full.corpus.classes_).index("positive")] - 0.5, 0.0)

    def vader(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        analyser = _vader()
        return _signs(np.array([analyser.polarity_scores(t)["compound"] for t in texts]), 0.05)

    def lexicon(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return _signs(lexicon_scores(texts), 0.05)

    def snownlp(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        from snownlp import SnowNLP  # noqa: PLC0415

        return _signs(np.array([SnowNLP(t).sentiments - 0.5 for t in texts]), 0.0)

    def embeddings_and_lexicon(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        # The shipped reader without complaint cues.
        three = full.prototypes.predict_proba(vectors)
        assert full.corpus is not None
        two = full.corpus.predict_proba(vectors)
        total = three[:, 2] - three[:, 0] + 2 * two[:, 1] - 1 + lexicon_scores(texts)
        return _signs(total, 0.0)

    def shipped(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        return full.read(vectors, texts)[0]

    return {
        "prototypes (before)": prototype_reader,
        "VADER": vader,
        "snownlp": snownlp,
        "lexicon (VADER / zh n-grams)": lexicon,
        "corpus classifier (embeddings)": corpus_only,
        "embeddings + lexicon": embeddings_and_lexicon,
        "embeddings + lexicon + cues (shipped)": shipped,
    }


def measure(
    name: str, frame: pd.DataFrame, vectors: np.ndarray, readers: dict[str, Reader]
) -> list[dict[str, object]]:
    """One table row per reader on one set."""
    truth = np.where(frame["label"].to_numpy() == 1, "positive", "negative")
    chinese = name == "waimai"
    out = []
    for reader_name, reader in readers.items():
        if (reader_name == "VADER" and chinese) or (reader_name == "snownlp" and not chinese):
            continue
        start = time.perf_counter()
        labels = reader(frame["text"].tolist(), vectors)
        seconds = time.perf_counter() - start
        out.append(
            {
                "set": name,
                "reader": reader_name,
                "rows": len(frame),
                "agreement": float((labels == truth).mean()),
                "negative recall": float((labels[truth == "negative"] == "negative").mean()),
                "positive recall": float((labels[truth == "positive"] == "positive").mean()),
                "neutral": float((labels == "neutral").mean()),
                "rows/s": len(frame) / max(seconds, 1e-9),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="rows per set (default: all)")
    parser.add_argument("--waimai-rows", type=int, default=2_000)
    args = parser.parse_args()
    config = EmbedConfig()
    phrases, _ = reader_phrases()
    start = time.perf_counter()
    embedded = embed_documents(phrases, config.sentiment_model, config)
    assert embedded is not None
    print(f"reader phrases embedded: {len(phrases)} in {time.perf_counter() - start:.1f} s")
    readers = candidates(embedded.vectors)
    start = time.perf_counter()
    lexicon_scores(["好"])  # fits the Chinese n-gram model once per process
    print(f"Chinese n-gram model fitted in {time.perf_counter() - start:.1f} s")
    rows: list[dict[str, object]] = []
    for name in ("yelp", "amazon", "waimai"):
        frame = load_labelled(name, args.rows or (args.waimai_rows if name == "waimai" else None))
        start = time.perf_counter()
        vectors = embed_documents(frame["text"].tolist(), config.sentiment_model, config)
        assert vectors is not None
        print(f"{name}: {len(frame)} rows embedded in {time.perf_counter() - start:.1f} s")
        rows.extend(measure(name, frame, vectors.vectors, readers))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    complaints = embed_documents(list(COMPLAINTS), config.sentiment_model, config)
    assert complaints is not None
    print("\ncomplaints read negative (of", len(COMPLAINTS), "):")
    for reader_name, reader in readers.items():
        labels = reader(list(COMPLAINTS), complaints.vectors)
        print(f"  {reader_name}: {int((labels == 'negative').sum())}  {list(labels)}")
    print("cues found:", complaint_cues(COMPLAINTS).tolist(), "classes:", SENTIMENTS)


if __name__ == "__main__":
    main()
