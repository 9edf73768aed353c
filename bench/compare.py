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


def _texts() -> tuple[list[str], list[str]]:
    from corpus import labelled_texts  # noqa: PLC0415

    frame = labelled_texts()
    return frame["description"].tolist(), frame["section"].tolist()


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


def child(which: str, cache_dir: Path, seeds: int) -> dict[str, object]:
    texts, truth = _texts()
    if which == "embed":
        _, minilm_rate = embed("minilm", texts, cache_dir)
        fast, fast_rate = embed("minilm-fast", texts, cache_dir)
        start = time.perf_counter()
        features(texts, fast, cache_dir)
        mode_rate = len(texts) / (len(texts) / fast_rate + time.perf_counter() - start)
        return {"minilm_rate": minilm_rate, "fast_rate": fast_rate, "mode_rate": mode_rate}
    name = "minilm-fast" if which == "ours-fast" else "minilm"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--seeds", type=int, default=3, help="UMAP seeds our NMI is averaged over (default 3)"
    )
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.cache, args.seeds)))
        return
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for which in ("embed", "ours", "bertopic", "ours-fast"):
            command = [sys.executable, __file__, "--child", which, "--cache", tmp]
            command += ["--seeds", str(args.seeds)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if not lines:
                sys.exit(f"{which} failed:\n{done.stderr[-3000:]}")
            results[which] = json.loads(lines[-1][len("RESULT ") :])
            print(f"done: {which}", file=sys.stderr)
    texts, truth = _texts()
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{len(texts):,} Debian package descriptions, {len(set(truth))} sections\n")
    rates = results["embed"]
    print("| embedding | texts/s | speed-up |")
    print("|---|---|---|")
    print(f"| MiniLM (sentence-transformers) | {rates['minilm_rate']:.0f} | 1× |")
    speed = rates["fast_rate"] / rates["minilm_rate"]
    print(f"| static, distilled from MiniLM | {rates['fast_rate']:.0f} | {speed:.0f}× |")
    mode = rates["mode_rate"] / rates["minilm_rate"]
    print(
        f"| fast mode: static + table topics + MiniLM alignment on a sample | "
        f"{rates['mode_rate']:.0f} | {mode:.0f}× |\n"
    )
    head = ["pipeline (given embeddings)", "cold s", "warm s", "segments", "outliers"]
    print("| " + " | ".join([*head, "NMI", "ARI", "peak MB"]) + " |")
    print("|---|---|---|---|---|---|---|---|")
    names = {
        "ours": "Segmenter, MiniLM: UMAP + KMeans + profiles",
        "bertopic": "BERTopic default, MiniLM: UMAP + HDBSCAN + c-TF-IDF",
        "ours-fast": "Segmenter, fast mode: static + LSA, UMAP + KMeans + profiles",
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
        f"{results['ours-fast']['scores']['nmi'] / ours['scores']['nmi']:.0%} of MiniLM's NMI."
    )
    print(f"our stages, warm (s): {ours['warm']}")
    fast_seeds = results["ours-fast"]["nmi_per_seed"]
    print(f"NMI per seed: MiniLM {ours['nmi_per_seed']}, fast mode {fast_seeds}")


if __name__ == "__main__":
    main()
