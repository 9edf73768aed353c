"""Which BM25 library the hybrid search uses: bm25s against rank-bm25 at 100k rows.

Texts are made from the labelled sentences in ``../shared/data`` (English: three Yelp or
Amazon sentences a row; Chinese: two waimai reviews a row), tokenised once with
``segmenter.profile.tokenize`` (as the search does), then each library builds its index
and scores every row for a few queries. Prints seconds per step. rank-bm25 is not a
dependency of the project: install it beside to compare.

    pip install rank-bm25==0.2.2
    python bench/bm25_libraries.py            # 100,000 rows
    python bench/bm25_libraries.py --rows 20000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from segmenter.profile import tokenize  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
QUERIES = {
    "en": ["runs small", "terrible service", "great food", "battery life", "waited forever"],
    "zh": ["送餐太慢", "味道不错"],
}


def corpora(rows: int, seed: int = 0) -> dict[str, list[str]]:
    """English and Chinese texts of ``rows`` rows each, from the labelled sentences."""
    rng = np.random.default_rng(seed)
    english: list[str] = []
    for name in ("yelp", "amazon"):
        lines = (DATA / f"sentiment_{name}_labelled.txt").read_text(encoding="utf-8").splitlines()
        english += [line.rsplit("\t", 1)[0] for line in lines if line.strip()]
    chinese = pd.read_csv(DATA / "waimai_10k.csv")["review"].astype(str).tolist()
    out = {}
    for language, sentences, per_row in (("en", english, 3), ("zh", chinese, 2)):
        pool = np.array(sentences, dtype=object)
        out[language] = [" ".join(pool[rng.integers(0, len(pool), per_row)]) for _ in range(rows)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    import bm25s

    try:
        from rank_bm25 import BM25Okapi
    except ImportError:
        BM25Okapi = None  # noqa: N806
        print("rank-bm25 is not installed (pip install rank-bm25==0.2.2): bm25s only")
    print("| language | step | seconds |\n| --- | --- | --- |")
    for language, texts in corpora(rows).items():
        start = time.perf_counter()
        tokens = [tokenize(text) for text in texts]
        print(f"| {language} | tokenize {rows:,} rows | {time.perf_counter() - start:.2f} |")
        queries = [tokenize(q) for q in QUERIES[language]]
        start = time.perf_counter()
        retriever = bm25s.BM25(k1=1.5, b=0.75)
        retriever.index(tokens, show_progress=False)
        print(f"| {language} | bm25s index | {time.perf_counter() - start:.2f} |")
        start = time.perf_counter()
        for query in queries:
            retriever.get_scores(query)
        each = (time.perf_counter() - start) / len(queries)
        print(f"| {language} | bm25s query, every row scored | {each:.4f} |")
        if BM25Okapi is None:
            continue
        start = time.perf_counter()
        okapi = BM25Okapi(tokens)
        print(f"| {language} | rank-bm25 index | {time.perf_counter() - start:.2f} |")
        start = time.perf_counter()
        for query in queries:
            okapi.get_scores(query)
        each = (time.perf_counter() - start) / len(queries)
        print(f"| {language} | rank-bm25 query, every row scored | {each:.4f} |")


if __name__ == "__main__":
    main()
