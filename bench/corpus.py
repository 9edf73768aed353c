"""Real text with a known category, for benchmarks: Debian's package descriptions.

Each package's English long description (about 60 words, like a review) with its archive
section (games, sound, science, mail...) as the category that segments should recover.
Read from apt's own lists on a Debian machine; nothing is downloaded by this module.
If the descriptions are missing, run once (as root):

    apt-get update -o Acquire::Languages=en

Elsewhere (a GPU machine without apt), ``python bench/corpus.py --save FILE`` writes the
sentences that ``customers`` draws from, and ``SEGMENTER_BENCH_SENTENCES=FILE`` reads them.

``customers(n)`` turns them into a customer table of any size: each row's feedback joins two
sentences from packages of one section, so texts are distinct and the section is known.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import re
import subprocess
from collections.abc import Iterator
from functools import cache

import numpy as np
import pandas as pd

TOPIC_SECTIONS = (
    "games",
    "sound",
    "science",
    "net",
    "graphics",
    "fonts",
    "math",
    "mail",
    "editors",
    "video",
    "database",
    "electronics",
    "hamradio",
    "web",
    "text",
    "admin",
)
"""Sections named for what the software is about (not its language or packaging)."""
PER_SECTION = 500


def _records(text: str) -> Iterator[dict[str, str]]:
    record: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line:
            if record:
                yield record
            record, key = {}, ""
        elif line[0] in " \t" and key:
            record[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            record[key] = value.strip()
    if record:
        yield record


@cache
def descriptions(language: str = "en") -> pd.DataFrame:
    """One row per source package: ``package``, ``section``, ``description`` in ``language``
    (``en``, or ``zh_CN`` for the packages Debian's translators have described in Chinese:
    `apt-get update -o Acquire::Languages=en,zh_CN`)."""
    quoted = language.replace("_", "%5f")
    translations = sorted(glob.glob(f"/var/lib/apt/lists/*_main_i18n_Translation-{quoted}*"))
    if not translations:
        raise SystemExit(
            f"No {language} package descriptions in /var/lib/apt/lists: run "
            f"`apt-get update -o Acquire::Languages={language}` once (as root)."
        )
    long_text: dict[str, str] = {}
    for path in translations:
        raw = subprocess.run(
            ["/usr/lib/apt/apt-helper", "cat-file", path],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for record in _records(raw):
            if "Description-md5" in record:
                long_text[record["Description-md5"]] = record.get(f"Description-{language}", "")
    packages = subprocess.run(
        ["apt-cache", "dumpavail"], check=True, capture_output=True, text=True
    ).stdout
    rows, seen = [], set()
    separator = "。" if language.startswith("zh") else ". "
    for record in _records(packages):
        source = record.get("Source", record["Package"]).split()[0]
        text = long_text.get(record.get("Description-md5", ""))
        if source in seen or not text:
            continue
        seen.add(source)
        synopsis, _, body = text.partition("\n")
        joiner = "" if language.startswith("zh") else " "
        body = joiner.join(line for line in body.split("\n") if line != ".")
        section = record.get("Section", "").split("/")[-1]
        rows.append((record["Package"], section, f"{synopsis}{separator}{body}".strip()))
    return pd.DataFrame(rows, columns=["package", "section", "description"])


def labelled_texts(
    per_section: int = PER_SECTION, seed: int = 0, language: str = "en", min_section: int = 1
) -> pd.DataFrame:
    """Up to ``per_section`` descriptions from each topic section (5,141 on bookworm in
    English), leaving out sections with fewer than ``min_section``."""
    frame = descriptions(language)
    frame = frame[frame["section"].isin(TOPIC_SECTIONS)]
    sizes = frame["section"].value_counts()
    frame = frame[frame["section"].isin(sizes[sizes >= min_section].index)]
    parts = [
        group.sample(min(len(group), per_section), random_state=seed)
        for _, group in frame.groupby("section")
    ]
    return pd.concat(parts).reset_index(drop=True)


SENTENCES_ENV = "SEGMENTER_BENCH_SENTENCES"
"""A file written by ``python bench/corpus.py --save FILE``, for machines without apt's lists."""


@cache
def sentences_by_section() -> dict[str, list[str]]:
    """The descriptions' sentences of five words or more, per topic section."""
    saved = os.environ.get(SENTENCES_ENV)
    if saved:
        with gzip.open(saved, "rt", encoding="utf-8") as handle:
            loaded: dict[str, list[str]] = json.load(handle)
        return loaded
    frame = descriptions()
    frame = frame[frame["section"].isin(TOPIC_SECTIONS)]
    sentences: dict[str, list[str]] = {}
    for section, group in frame.groupby("section"):
        sentences[str(section)] = [
            s.strip()
            for text in group["description"]
            for s in text.split(". ")
            if len(s.split()) >= 5
        ]
    return sentences


ZH_MIN_SECTION = 15
"""Sections with at least this many Chinese descriptions make the Chinese tables (12 on
bookworm: admin, devel, games, gnome, graphics, kde, libs, net, python, science, text,
utils, x11 ...)."""


@cache
def chinese_sentences_by_section() -> dict[str, list[str]]:
    """The Chinese descriptions' sentences (split at 。 ； and line items) of six characters or
    more, per section with at least ``ZH_MIN_SECTION`` descriptions."""
    frame = descriptions("zh_CN")
    sizes = frame["section"].value_counts()
    frame = frame[frame["section"].isin(sizes[sizes >= ZH_MIN_SECTION].index)]
    sentences: dict[str, list[str]] = {}
    for section, group in frame.groupby("section"):
        pieces = (
            piece.strip(" *")
            for text in group["description"]
            for piece in re.split(r"[。；;]|\* ", text)
        )
        sentences[str(section)] = sorted({p for p in pieces if len(p) >= 6})
    return sentences


def customers(n_rows: int, seed: int = 0, language: str = "en") -> tuple[pd.DataFrame, np.ndarray]:
    """A customer table of ``n_rows`` (id, feedback, age, monthly spend, plan) and each
    row's true section. Feedback joins two different sentences from one section's
    descriptions (three in Chinese, whose pools are smaller, so texts stay distinct);
    age, spend and plan lean by section."""
    rng = np.random.default_rng(seed)
    chinese = language.startswith("zh")
    sentences = chinese_sentences_by_section() if chinese else sentences_by_section()
    names = sorted(sentences)
    truth = rng.choice(len(names), n_rows)
    feedback = np.empty(n_rows, dtype=object)
    for label, name in enumerate(names):
        rows = np.flatnonzero(truth == label)
        pool = np.array(sentences[name], dtype=object)
        first = rng.integers(0, len(pool), len(rows))
        second = (first + rng.integers(1, len(pool), len(rows))) % len(pool)
        if chinese:
            third = (second + rng.integers(1, len(pool), len(rows))) % len(pool)
            feedback[rows] = pool[first] + "。" + pool[second] + "。" + pool[third] + "。"
        else:
            feedback[rows] = pool[first] + ". " + pool[second] + "."
    table = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(n_rows)],
            "feedback": feedback.tolist(),
            # Traits that lean by section, as a real customer base's would.
            "age": np.clip(rng.normal(25 + 3 * truth, 8), 18, 90).astype(int),
            "monthly_spend": np.round(rng.gamma(2.0, 10.0, n_rows) + 8 * truth, 2),
            "plan": np.array(["basic", "plus", "premium"])[
                (truth + rng.integers(0, 2, n_rows)) % 3
            ],
        }
    )
    return table, np.array(names)[truth]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Save the sentences for another machine.")
    parser.add_argument("--save", required=True, help="a .json.gz file to write")
    path = parser.parse_args().save
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(sentences_by_section(), handle)
    print(f"wrote {path}")
