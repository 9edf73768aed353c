"""Upload to map at 10k and 100k rows, in the fast and the accurate embedding mode.

Generates customers whose feedback comes from Debian's package descriptions (``corpus.py``;
the section is the known category), writes them to CSV, and runs exactly what the app
runs (read, detect roles, ``run_segmentation``) with a fresh cache, in a fresh process per
run so every run pays its own model loading and numba compile ("cold"). Then the same file
again in the same process ("warm") and a change of the number of segments. Prints a
Markdown table with seconds per stage, peak memory and NMI against the section.

    python bench/scale.py                          # 10k and 100k, fast; accurate at 10k
    python bench/scale.py --sizes 100000 --modes fast
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

STAGES = ("read", "embed", "lexical", "sentiment", "umap", "choose_k", "profile")


PARQUET_FROM = 500_000
"""Larger tables are written as Parquet: as CSV they pass the 200 MB upload limit."""


def one_run(rows: int, mode: str, workdir: Path, *, warm_run: bool = True) -> dict[str, object]:
    """Run in this process: generate, write, read and segment; then warm and recluster."""
    from dataclasses import replace  # noqa: PLC0415

    from sklearn.metrics import normalized_mutual_info_score  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import customers  # noqa: PLC0415

    from segmenter.cluster import warm_up_reduction  # noqa: PLC0415
    from segmenter.config import ClusterConfig, EmbedConfig  # noqa: PLC0415
    from segmenter.ingest import detect_schema, load_table  # noqa: PLC0415
    from segmenter.pipeline import recluster_run, run_segmentation  # noqa: PLC0415

    warm_up = warm_up_reduction()  # the server does this in the background at start
    table, truth = customers(rows, seed=7)
    if rows >= PARQUET_FROM:
        path = workdir / f"customers_{rows}.parquet"
        table.to_parquet(path, index=False)
    else:
        path = workdir / f"customers_{rows}.csv"
        table.to_csv(path, index=False)
    del table
    config = replace(
        EmbedConfig.from_env(),
        mode="fast" if mode == "fast" else "accurate",
        cache_dir=workdir / f"cache_{mode}",
    )
    start = time.perf_counter()
    loaded = load_table(path, path.name)
    schema = detect_schema(loaded.frame)
    read = time.perf_counter() - start
    last = [""]

    def report(message: str, _fraction: float) -> None:
        head = message.split(":")[0]
        if head != last[0]:  # one line per step, not per chunk
            last[0] = head
            print(f"{time.perf_counter() - start:7.1f}s  {message}", file=sys.stderr, flush=True)

    run = run_segmentation(loaded, schema, config, ClusterConfig(), report)
    cold = time.perf_counter() - start
    warm = float("nan")
    again = run
    if warm_run:
        start = time.perf_counter()
        again = run_segmentation(load_table(path, path.name), schema, config, ClusterConfig())
        warm = time.perf_counter() - start
    start = time.perf_counter()
    recluster_run(again, again.segmenter.n_segments_ + 1)
    recluster = time.perf_counter() - start
    labels = run.result.labels
    return {
        "rows": rows,
        "mode": mode,
        "embedder": run.embedder_name,
        "seconds": {"read": read, **run.timings},
        "warm_up": warm_up,
        "cold": cold,
        "warm": warm,
        "recluster": recluster,
        "k": run.segmenter.n_segments_,
        "nmi": normalized_mutual_info_score(truth[labels >= 0], labels[labels >= 0]),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def gpu() -> str:
    """The CUDA device's name, or "no GPU"."""
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return "no GPU"
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", default=["fast", "accurate"])
    parser.add_argument(
        "--accurate-max", type=int, default=10_000, help="largest table run in accurate mode"
    )
    parser.add_argument(
        "--no-warm", action="store_true", help="skip the same-file-again run (saves time at 1M)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            warm_run = args.child[2] == "warm"
            result = one_run(int(args.child[0]), args.child[1], Path(tmp), warm_run=warm_run)
        print("RESULT " + json.dumps(result))
        return
    results = []
    for rows in args.sizes:
        for mode in args.modes:
            if mode == "accurate" and rows > args.accurate_max:
                continue
            warm = "cold" if args.no_warm else "warm"
            child = [sys.executable, __file__, "--child", str(rows), mode, warm]
            out = subprocess.run(child, stdout=subprocess.PIPE, text=True, check=False)
            lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
            if not lines:
                sys.exit(f"{rows} rows, {mode}: failed (its messages are above)")
            results.append(json.loads(lines[-1][len("RESULT ") :]))
            print(f"done: {rows:,} rows, {mode}", file=sys.stderr)
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, {gpu()}\n")
    head = ["rows", "mode", *STAGES, "cold total", "warm", "recluster", "k", "NMI", "peak MB"]
    print("Stage seconds of the first segmentation in a new process, after the start-up")
    print("warm-up the server runs in the background (numba compile, not counted).\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        seconds = r["seconds"]
        cells = [f"{r['rows']:,}", f"{r['mode']} ({r['embedder']})"]
        cells += [f"{seconds[s]:.1f}" if s in seconds else "-" for s in STAGES]
        cells += [f"{r['cold']:.1f}", f"{r['warm']:.1f}", f"{r['recluster']:.2f}"]
        cells += [str(r["k"]), f"{r['nmi']:.3f}", f"{r['peak_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    warm_ups = ", ".join(f"{r['warm_up']:.0f}" for r in results)
    print(f"\nstart-up warm-up per process (s): {warm_ups}")


if __name__ == "__main__":
    main()
