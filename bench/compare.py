"""Our post-embedding pipeline against BERTopic's default, on the same texts and embeddings.

Texts: Debian's package descriptions in 16 topic sections (``corpus.py``; the section is the
known category). Both pipelines get the same precomputed MiniLM embeddings (and BERTopic
the same local model object, so it never calls a hub). Each runs in a fresh process
("cold": numba compiles UMAP's kernels on the way) and then once more in that process
("warm"). Also compares the embedding modes: MiniLM against the fast static model (with
the table's own topics) on throughput and on the NMI our pipeline reaches with each.

    make bench     # or, after `make test`:
    .venv/bin/pip install -r requirements-bench.txt -c constraints.txt
    .venv/bin/python bench/compare.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


CORPORA = {
    "debian": "Debian package descriptions in 16 topic sections (bench/corpus.py)",
    "reviews": "real English reviews in 12 topics: Drugs.com by condition, Yelp, Amazon "
    "(bench/review_corpus.py)",
    "debian-zh": "5,000 customers whose feedback joins three sentences of one section's "
    "Chinese package descriptions, 18 sections (bench/corpus.py)",
}
MODELS = {"debian-zh": ("multilingual", "multilingual-fast")}
"""The accurate model and its fast mode per corpus (MiniLM's by default)."""
_corpus = ["debian"]


def _models() -> tuple[str, str]:
    return MODELS.get(_corpus[0], ("minilm", "minilm-fast"))


def _texts() -> tuple[list[str], list[str]]:
    if _corpus[0] == "debian-zh":
        from corpus import customers  # noqa: PLC0415

        table, truth = customers(5_000, seed=7, language="zh_CN")
        return table["feedback"].tolist(), [str(t) for t in truth]
    if _corpus[0] == "reviews":
        from review_corpus import review_corpus  # noqa: PLC0415

        reviews = review_corpus(Path.home() / ".cache" / "segmenter-bench")
        return reviews["text"].tolist(), reviews["topic"].tolist()
    from corpus import labelled_texts  # noqa: PLC0415

    frame = labelled_texts()
    return frame["description"].tolist(), frame["section"].tolist()


def _sized_texts(rows: int) -> tuple[list[str], list[str]]:
    """``rows`` customers' feedback (two sentences of one section's descriptions) and the
    section: the tables of ``bench/scale.py``."""
    from corpus import customers  # noqa: PLC0415

    table, truth = customers(rows, seed=7)
    return table["feedback"].tolist(), [str(t) for t in truth]


def _scores(truth: list[str], labels: object) -> dict[str, float]:
    from sklearn.metrics import (  # noqa: PLC0415
        adjusted_rand_score,
        normalized_mutual_info_score,
    )

    return {
        "nmi": normalized_mutual_info_score(truth, labels),
        "ari": adjusted_rand_score(truth, labels),
    }


def embed(name: str, texts: list[str], cache_dir: Path) -> tuple[object, float]:
    """Vectors from registry model ``name`` through the on-disk cache, and texts/s."""
    from dataclasses import replace  # noqa: PLC0415

    from segmenter.config import EmbedConfig  # noqa: PLC0415
    from segmenter.pipeline import embed_documents  # noqa: PLC0415

    config = replace(EmbedConfig(), cache_dir=cache_dir)
    start = time.perf_counter()
    result = embed_documents(texts, name, config)
    seconds = time.perf_counter() - start
    assert result is not None
    rate = result.n_computed / seconds if result.n_computed else float("nan")
    return result, rate


def features(texts: list[str], result: object, cache_dir: Path) -> object:
    """What our pipeline clusters on (for the fast mode: with topics and MiniLM alignment)."""
    from dataclasses import replace  # noqa: PLC0415

    from segmenter.config import EmbedConfig  # noqa: PLC0415
    from segmenter.pipeline import text_features  # noqa: PLC0415

    return text_features(texts, result, replace(EmbedConfig(), cache_dir=cache_dir))


def run_ours(
    texts: list[str], truth: list[str], vectors: object, k: int, seeds: int
) -> dict[str, object]:
    """Timed cold and warm with seed 0; NMI and ARI are the means over ``seeds`` seeds
    (one UMAP seed moves NMI by up to 0.02)."""
    from segmenter.cluster import Segmenter  # noqa: PLC0415
    from segmenter.profile import profile_segments  # noqa: PLC0415

    out: dict[str, object] = {}
    for attempt in ("cold", "warm"):
        start = time.perf_counter()
        segmenter = Segmenter(n_segments=k, random_state=0).fit(vectors)
        fitted = time.perf_counter()
        profile_segments(texts, segmenter.labels_)
        done = time.perf_counter()
        out[attempt] = {
            **{stage: round(s, 2) for stage, s in segmenter.timings_.items()},
            "profile": round(done - fitted, 2),
            "total": round(done - start, 2),
        }
    scores = [_scores(truth, segmenter.labels_)]
    for seed in range(1, seeds):
        again = Segmenter(n_segments=k, random_state=seed).fit(vectors)
        scores.append(_scores(truth, again.labels_))
    out["scores"] = {key: sum(s[key] for s in scores) / len(scores) for key in scores[0]}
    out["nmi_per_seed"] = [round(s["nmi"], 3) for s in scores]
    out["segments"] = int(segmenter.n_segments_)
    out["outliers"] = 0.0
    return out


def run_bertopic(texts: list[str], truth: list[str], vectors: object) -> dict[str, object]:
    from bertopic import BERTopic  # noqa: PLC0415
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415

    from segmenter.embedding.sentence_transformer import bundled_minilm_path  # noqa: PLC0415

    model = SentenceTransformer(str(bundled_minilm_path()), device="cpu")
    out: dict[str, object] = {}
    for attempt in ("cold", "warm"):
        start = time.perf_counter()
        topics, _ = BERTopic(embedding_model=model).fit_transform(texts, vectors)
        out[attempt] = {"total": round(time.perf_counter() - start, 2)}
    out["scores"] = _scores(truth, topics)
    out["segments"] = len(set(topics) - {-1})
    out["outliers"] = sum(t == -1 for t in topics) / len(topics)
    return out


def sized_child(which: str, rows: int, cache_dir: Path) -> dict[str, object]:
    """Ours or BERTopic on ``rows`` customers, both given the same static vectors (what the
    app embeds a table of this size with on a CPU), cold then warm in this process."""
    texts, truth = _sized_texts(rows)
    result, _ = embed("minilm-fast", texts, cache_dir)
    vectors = result.vectors  # type: ignore[attr-defined]
    if which == "bertopic":
        out = run_bertopic(texts, truth, vectors)
    else:
        out = run_ours(texts, truth, vectors, len(set(truth)), seeds=1)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child(which: str, cache_dir: Path, seeds: int) -> dict[str, object]:
    texts, truth = _texts()
    accurate, fast_name = _models()
    if which == "embed":
        _, minilm_rate = embed(accurate, texts, cache_dir)
        fast, fast_rate = embed(fast_name, texts, cache_dir)
        start = time.perf_counter()
        features(texts, fast, cache_dir)
        mode_rate = len(texts) / (len(texts) / fast_rate + time.perf_counter() - start)
        return {"minilm_rate": minilm_rate, "fast_rate": fast_rate, "mode_rate": mode_rate}
    name = fast_name if which == "ours-fast" else accurate
    result, _ = embed(name, texts, cache_dir)
    k = len(set(truth))
    if which == "bertopic":
        out = run_bertopic(texts, truth, result.vectors)
    else:
        start = time.perf_counter()
        joined = features(texts, result, cache_dir)
        lexical = time.perf_counter() - start
        out = run_ours(texts, truth, joined, k, seeds)
        out["lexical"] = round(lexical, 2)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def compare_sizes(sizes: list[int]) -> None:
    """Ours against BERTopic at each size, each in a fresh process (cold, then warm)."""
    results: dict[tuple[int, str], dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            for which in ("ours", "bertopic"):
                command = [sys.executable, __file__, "--child", which, "--rows", str(rows)]
                command += ["--cache", tmp]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
                if not lines:
                    sys.exit(f"{which} at {rows} rows failed:\n{done.stderr[-3000:]}")
                results[(rows, which)] = json.loads(lines[-1][len("RESULT ") :])
                print(f"done: {which}, {rows:,} rows", file=sys.stderr)
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("Customer tables of bench/scale.py (feedback from 16 Debian sections); both sides")
    print("given the same static vectors; ours at k = 16. Seconds from vectors to segments")
    print("with profiles (ours) or topics (BERTopic), in a fresh process (cold) and again.\n")
    head = ["rows", "pipeline", "cold s", "warm s", "segments", "outliers", "NMI", "ARI"]
    print("| " + " | ".join([*head, "peak MB", "BERTopic / ours cold", "warm"]) + " |")
    print("|" + "---|" * (len(head) + 3))
    for rows in sizes:
        ours, theirs = results[(rows, "ours")], results[(rows, "bertopic")]
        for which, r in (("Segmenter (UMAP + KMeans)", ours), ("BERTopic default", theirs)):
            cold, warm, scores = r["cold"], r["warm"], r["scores"]
            ratio = ["", ""]
            if r is theirs:
                ratio = [
                    f"{theirs['cold']['total'] / ours['cold']['total']:.1f}×",
                    f"{theirs['warm']['total'] / ours['warm']['total']:.1f}×",
                ]
            print(
                f"| {rows:,} | {which} | {cold['total']:.1f} | {warm['total']:.1f} | "
                f"{r['segments']} | {r['outliers']:.0%} | {scores['nmi']:.3f} | "
                f"{scores['ari']:.3f} | {r['peak_mb']:.0f} | {ratio[0]} | {ratio[1]} |"
            )
        print(f"| {rows:,} | our stages, warm (s) | {ours['warm']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--seeds", type=int, default=3, help="UMAP seeds our NMI is averaged over (default 3)"
    )
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="debian")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        help="instead: ours against BERTopic on customer tables of these many rows, both "
        "given the same static vectors (e.g. 5000 20000 100000)",
    )
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--teacher-share",
        type=float,
        default=None,
        help="align the fast mode on this share of the texts, with no minimum (a small "
        "corpus otherwise gets no alignment: the app aligns only from 2,000 texts)",
    )
    args = parser.parse_args()
    _corpus[0] = args.corpus
    if args.teacher_share:
        from segmenter.embedding import teacher  # noqa: PLC0415

        teacher.TEACHER_SHARE = args.teacher_share
        teacher.TEACHER_MIN_TEXTS = 1
    if args.child and args.rows:
        print("RESULT " + json.dumps(sized_child(args.child, args.rows, args.cache)))
        return
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.cache, args.seeds)))
        return
    if args.sizes:
        compare_sizes(args.sizes)
        return
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for which in ("embed", "ours", "bertopic", "ours-fast"):
            command = [sys.executable, __file__, "--child", which, "--cache", tmp]
            command += ["--seeds", str(args.seeds), "--corpus", args.corpus]
            if args.teacher_share:
                command += ["--teacher-share", str(args.teacher_share)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if not lines:
                sys.exit(f"{which} failed:\n{done.stderr[-3000:]}")
            results[which] = json.loads(lines[-1][len("RESULT ") :])
            print(f"done: {which}", file=sys.stderr)
    texts, truth = _texts()
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{len(texts):,} texts: {CORPORA[args.corpus]}, {len(set(truth))} categories\n")
    rates = results["embed"]
    print("| embedding | texts/s | speed-up |")
    print("|---|---|---|")
    accurate, fast_name = _models()
    print(f"| {accurate} (accurate) | {rates['minilm_rate']:.0f} | 1× |")
    speed = rates["fast_rate"] / rates["minilm_rate"]
    print(f"| {fast_name} (its static model) | {rates['fast_rate']:.0f} | {speed:.0f}× |")
    mode = rates["mode_rate"] / rates["minilm_rate"]
    print(
        f"| fast mode: static + table topics + {accurate} alignment on a sample | "
        f"{rates['mode_rate']:.0f} | {mode:.0f}× |\n"
    )
    head = ["pipeline (given embeddings)", "cold s", "warm s", "segments", "outliers"]
    print("| " + " | ".join([*head, "NMI", "ARI", "peak MB"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    names = {
        "ours": f"Segmenter, {accurate}: UMAP + KMeans + profiles",
        "bertopic": f"BERTopic default, {accurate}: UMAP + HDBSCAN + c-TF-IDF",
        "ours-fast": f"Segmenter, {fast_name}: static + topics + alignment, UMAP + KMeans",
    }
    for which, label in names.items():
        r = results[which]
        cold, warm, scores = r["cold"], r["warm"], r["scores"]
        print(
            f"| {label} | {cold['total']:.1f} | {warm['total']:.1f} | {r['segments']} | "
            f"{r['outliers']:.0%} | {scores['nmi']:.3f} | {scores['ari']:.3f} | "
            f"{r['peak_mb']:.0f} |"
        )
    ours, theirs = results["ours"], results["bertopic"]
    print(
        f"\nBERTopic / ours: {theirs['cold']['total'] / ours['cold']['total']:.1f}× cold, "
        f"{theirs['warm']['total'] / ours['warm']['total']:.1f}× warm. Fast mode keeps "
        f"{results['ours-fast']['scores']['nmi'] / ours['scores']['nmi']:.0%} of "
        f"{accurate}'s NMI."
    )
    print(f"our stages, warm (s): {ours['warm']}")
    fast_seeds = results["ours-fast"]["nmi_per_seed"]
    print(f"NMI per seed: {accurate} {ours['nmi_per_seed']}, fast mode {fast_seeds}")


if __name__ == "__main__":
    main()
