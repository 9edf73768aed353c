"""Time each stage of the segmentation pipeline at several table sizes.

Generates customers with ``scripts/make_sample_data.py`` (English and Chinese feedback,
hidden personas), writes them to CSV, and runs the same stage functions as the app and
the CLI with a fresh embedding cache (cold), printing a Markdown table. Segment quality is
reported as NMI against the hidden persona.

    python bench/pipeline.py                       # 2k, 20k, 100k rows
    python bench/pipeline.py --sizes 2000 --embedder minilm
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from make_sample_data import make_sample_customers, write_sample_csv  # noqa: E402
from sklearn.metrics import normalized_mutual_info_score  # noqa: E402

from segmenter.cluster import assign_segments, choose_n_segments, fuse_features, reduce_features  # noqa: E402
from segmenter.config import ClusterConfig, EmbedConfig  # noqa: E402
from segmenter.export import SegmentationResult, results_frame, to_csv_bytes  # noqa: E402
from segmenter.ingest import build_documents, detect_schema, load_table, prepare_columns  # noqa: E402
from segmenter.pipeline import embed_documents, resolve_embedder_name  # noqa: E402
from segmenter.profile import profile_segments  # noqa: E402

STAGES = ("read", "schema", "embed", "umap", "choose_k", "kmeans", "profile", "export")


def run_once(rows: int, embedder: str, workdir: Path) -> dict[str, float]:
    """Time every stage on ``rows`` generated customers; returns seconds per stage."""
    truth_frame = make_sample_customers(rows, seed=11)
    path = workdir / f"customers_{rows}.csv"
    write_sample_csv(truth_frame, path)
    cluster = ClusterConfig()
    embed_config = replace(
        EmbedConfig.from_env(), model=embedder, cache_dir=workdir / f"cache_{rows}"
    )
    seconds: dict[str, float] = {}

    def timed(stage: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        value = func(*args, **kwargs)
        seconds[stage] = time.perf_counter() - start
        return value

    loaded = timed("read", load_table, path, path.name)
    schema = timed("schema", detect_schema, loaded.frame)
    prepared = prepare_columns(loaded.frame, schema)
    docs = build_documents(loaded.frame, schema)
    name = resolve_embedder_name(docs, embed_config)
    embedding = timed("embed", embed_documents, docs, name, embed_config)
    fused = fuse_features(
        embedding.vectors,
        embedding.has_text,
        prepared.numeric,
        prepared.categorical,
        text_weight=cluster.text_weight,
    )
    reduction = timed("umap", reduce_features, fused.matrix, random_state=cluster.random_state)
    choice = timed(
        "choose_k",
        choose_n_segments,
        reduction.cluster_space,
        k_min=cluster.k_min,
        k_max=cluster.k_max,
        min_segment_size=cluster.min_segment_size,
        silhouette_sample=cluster.silhouette_sample,
    )
    assignment = timed("kmeans", assign_segments, reduction.cluster_space, choice.k)
    labels = assignment.labels
    profiles = timed(
        "profile", profile_segments, docs, labels, prepared.numeric, prepared.categorical
    )
    coords = reduction.map_coords
    result = SegmentationResult(labels=labels, coords=coords, profiles=tuple(profiles))
    timed("export", lambda: to_csv_bytes(results_frame(loaded.frame, result)))
    seconds["total"] = sum(seconds[s] for s in STAGES)
    seconds["k"] = choice.k
    seconds["nmi"] = normalized_mutual_info_score(truth_frame["_persona"], labels)
    seconds["model"] = name  # type: ignore[assignment]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--embedder", default="auto")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    import torch  # noqa: PLC0415 - only to report the thread count

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}, python {platform.python_version()}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            print(f"running {rows:,} rows…", file=sys.stderr, flush=True)
            results[rows] = run_once(rows, args.embedder, Path(tmp))
            print(f"  {rows:,} rows: {results[rows]}", file=sys.stderr, flush=True)
    header = "| stage | " + " | ".join(f"{rows:,} rows" for rows in sizes) + " |"
    print(header)
    print("|" + "---|" * (len(sizes) + 1))
    for stage in (*STAGES, "total"):
        cells = " | ".join(f"{results[rows][stage]:.1f} s" for rows in sizes)
        print(f"| {stage} | {cells} |")
    print("| segments (auto k) | " + " | ".join(str(results[r]["k"]) for r in sizes) + " |")
    print("| NMI vs persona | " + " | ".join(f"{results[r]['nmi']:.2f}" for r in sizes) + " |")
    print("| model | " + " | ".join(str(results[r]["model"]) for r in sizes) + " |")


if __name__ == "__main__":
    main()
