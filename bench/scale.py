"""Upload to map at 10k and 100k rows, in the fast and the accurate embedding mode.

Generates customers whose feedback comes from Debian's package descriptions (``corpus.py``;
the section is the known category), writes them to CSV, and runs exactly what the app
runs (read, detect roles, ``run_segmentation``) with a fresh cache, in a fresh process per
run so every run pays its own model loading and numba compile ("cold"). Then the same file
again in the same process ("warm") and a change of the number of segments. Prints a
Markdown table with seconds per stage, peak memory and NMI against the section.

    python bench/scale.py                          # 10k and 100k, fast; accurate at 10k
    python bench/scale.py --sizes 100000 --modes fast
    python bench/scale.py --engine ray --sizes 100000 --modes fast   # Ray beside local

With ``--engine ray`` each size and mode runs twice, in separate processes: the local engine,
then the Ray engine on the same file cut into ``RAY_PARTS`` CSV parts (a Ray cluster started
in the process with every core, or the one at ``--address``). Both write their outputs; the
table compares stage seconds and rows per second, and the adjusted Rand index of the Ray
engine's segments against the local engine's.
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


def one_run(
    rows: int, mode: str, workdir: Path, *, warm_run: bool = True, language: str = "en"
) -> dict[str, object]:
    """Run in this process: generate, write, read and segment; then warm and recluster."""
    from dataclasses import replace  # noqa: PLC0415

    from sklearn.metrics import normalized_mutual_info_score  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import customers  # noqa: PLC0415

    from segmenter.config import ClusterConfig, EmbedConfig  # noqa: PLC0415
    from segmenter.ingest import detect_schema, load_table  # noqa: PLC0415
    from segmenter.pipeline import recluster_run, run_segmentation  # noqa: PLC0415
    from segmenter.warm_up import warm_up_server  # noqa: PLC0415

    # What the server does in the background at start: UMAP's kernels, the models, the
    # sentiment reader's phrases (in the user's cache folder, as on a server).
    warm_up = sum(warm_up_server().values())
    table, truth = customers(rows, seed=7, language=language)
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
    from segmenter.run_budget import run_bytes  # noqa: PLC0415

    start = time.perf_counter()
    held_mb = run_bytes(run) / 1024**2  # what a session holds, counted by the memory budget
    print(
        f"run held: {held_mb:.0f} MB, measured in {time.perf_counter() - start:.2f} s",
        file=sys.stderr,
    )
    return {
        "held_mb": held_mb,
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


RAY_PARTS = 4
RAY_STAGES = ("read", "embed", "lexical", "sentiment", "fit", "apply", "profile", "export")
FIT_STAGES = ("gather", "fuse", "umap", "choose_k", "kmeans")


def engine_run(
    rows: int, mode: str, engine: str, workdir: Path, address: str | None
) -> dict[str, object]:
    """One engine on a generated table: upload to export, timed by stage; labels saved."""
    from dataclasses import replace  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415
    from sklearn.metrics import normalized_mutual_info_score  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import customers  # noqa: PLC0415

    from segmenter.config import ClusterConfig, EmbedConfig  # noqa: PLC0415

    table, truth = customers(rows, seed=7)
    config = replace(
        EmbedConfig.from_env(),
        mode="fast" if mode == "fast" else "accurate",
        cache_dir=workdir / f"cache_{engine}_{mode}",
    )
    out = workdir / f"out_{engine}_{mode}_{rows}"
    if engine == "ray":
        import ray  # noqa: PLC0415

        from segmenter.distributed import segment_on_ray  # noqa: PLC0415

        parts = workdir / f"parts_{rows}"
        parts.mkdir(exist_ok=True)
        for i, chunk in enumerate(np.array_split(np.arange(len(table)), RAY_PARTS)):
            table.iloc[chunk].to_csv(parts / f"part-{i:02d}.csv", index=False)
        del table
        start = time.perf_counter()
        if address is None:
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        started = time.perf_counter() - start
        start = time.perf_counter()
        run = segment_on_ray(parts, out, config, ClusterConfig(), address=address)
        total = time.perf_counter() - start
        seconds = dict(run.timings)
        seconds["fit"] = sum(seconds.pop(stage, 0.0) for stage in FIT_STAGES)
        k = len(run.profiles)
    else:
        from segmenter.cluster import warm_up_reduction  # noqa: PLC0415
        from segmenter.ingest import detect_schema, load_table  # noqa: PLC0415
        from segmenter.pipeline import run_segmentation, write_outputs  # noqa: PLC0415

        started = warm_up_reduction()
        path = workdir / f"customers_{rows}.csv"
        table.to_csv(path, index=False)
        del table
        start = time.perf_counter()
        loaded = load_table(path, path.name)
        schema = detect_schema(loaded.frame)
        read = time.perf_counter() - start
        local = run_segmentation(loaded, schema, config, ClusterConfig())
        write_outputs(local, out)
        total = time.perf_counter() - start
        seconds = {"read": read, **local.timings}
        seconds["fit"] = sum(
            seconds.pop(stage, 0.0) for stage in ("fuse", "umap", "choose_k", "kmeans")
        )
        seconds["apply"] = 0.0
        k = local.segmenter.n_segments_
    import pandas as pd  # noqa: PLC0415

    labels = pd.read_csv(out / "segments.csv", usecols=["segment_id"])["segment_id"].to_numpy()
    np.save(workdir / f"labels_{engine}_{mode}_{rows}.npy", labels)
    return {
        "rows": rows,
        "mode": mode,
        "engine": engine,
        "seconds": seconds,
        "start_up": started,
        "total": total,
        "k": k,
        "nmi": normalized_mutual_info_score(truth[labels >= 0], labels[labels >= 0]),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def compare_engines(args: argparse.Namespace) -> None:
    """Local and Ray engines on the same tables, each in a fresh process; prints the table."""
    import numpy as np  # noqa: PLC0415
    from sklearn.metrics import adjusted_rand_score  # noqa: PLC0415

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.sizes:
            for mode in args.modes:
                if mode == "accurate" and rows > args.accurate_max:
                    continue
                for engine in ("local", "ray"):
                    child = [
                        sys.executable,
                        __file__,
                        "--engine-child",
                        str(rows),
                        mode,
                        engine,
                        tmp,
                    ]
                    if args.address:
                        child += ["--address", args.address]
                    out = subprocess.run(child, stdout=subprocess.PIPE, text=True, check=False)
                    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
                    if not lines:
                        sys.exit(f"{rows} rows, {mode}, {engine}: failed (its messages are above)")
                    result = json.loads(lines[-1][len("RESULT ") :])
                    if engine == "ray":
                        mine = np.load(Path(tmp) / f"labels_ray_{mode}_{rows}.npy")
                        theirs = np.load(Path(tmp) / f"labels_local_{mode}_{rows}.npy")
                        result["ari_local"] = adjusted_rand_score(theirs, mine)
                    results.append(result)
                    print(f"done: {rows:,} rows, {mode}, {engine}", file=sys.stderr)
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, {gpu()}\n")
    head = ["rows", "mode", "engine", *RAY_STAGES, "total", "rows/s", "k", "NMI", "ARI vs local"]
    head.append("driver peak MB")
    print("Seconds from reading the file to the written export. Ray: a cluster in the")
    print("process with every core (start-up not counted); fit = the driver's sampled fits.\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        seconds = r["seconds"]
        cells = [f"{r['rows']:,}", r["mode"], r["engine"]]
        cells += [f"{seconds[s]:.1f}" if s in seconds else "-" for s in RAY_STAGES]
        cells += [f"{r['total']:.1f}", f"{r['rows'] / r['total']:,.0f}", str(r["k"])]
        cells += [f"{r['nmi']:.3f}", f"{r['ari_local']:.3f}" if "ari_local" in r else "-"]
        cells.append(f"{r['peak_mb']:.0f}")
        print("| " + " | ".join(cells) + " |")
    start_ups = ", ".join(f"{r['engine']} {r['start_up']:.0f}" for r in results)
    print(f"\nstart-up per process, not counted (s): {start_ups}")


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
    parser.add_argument(
        "--engine", choices=["local", "ray"], default="local", help="ray: compare both engines"
    )
    parser.add_argument("--address", default=None, help="a Ray cluster to use (default: start one)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--language",
        default="en",
        help="en, or zh_CN: Chinese descriptions (3 sentences a row, 18 sections; "
        "`apt-get update -o Acquire::Languages=en,zh_CN`), segmented with the multilingual "
        "model (accurate) or its fast mode",
    )
    parser.add_argument("--engine-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_child:
        rows, mode, engine, workdir = args.engine_child
        result = engine_run(int(rows), mode, engine, Path(workdir), args.address)
        print("RESULT " + json.dumps(result))
        return
    if args.engine == "ray":
        compare_engines(args)
        return
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            warm_run = args.child[2] == "warm"
            result = one_run(
                int(args.child[0]),
                args.child[1],
                Path(tmp),
                warm_run=warm_run,
                language=args.language,
            )
        print("RESULT " + json.dumps(result))
        return
    results = []
    for rows in args.sizes:
        for mode in args.modes:
            if mode == "accurate" and rows > args.accurate_max:
                continue
            warm = "cold" if args.no_warm else "warm"
            child = [sys.executable, __file__, "--child", str(rows), mode, warm]
            child += ["--language", args.language]
            out = subprocess.run(child, stdout=subprocess.PIPE, text=True, check=False)
            lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
            if not lines:
                sys.exit(f"{rows} rows, {mode}: failed (its messages are above)")
            results.append(json.loads(lines[-1][len("RESULT ") :]))
            print(f"done: {rows:,} rows, {mode}", file=sys.stderr)
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, {gpu()}\n")
    head = ["rows", "mode", *STAGES, "cold total", "warm", "recluster", "k", "NMI", "peak MB"]
    head.append("run held MB")
    print("Stage seconds of the first segmentation in a new process, after the start-up")
    print("warm-up the server runs in the background (UMAP compile, models, the sentiment")
    print("reader's phrases; not counted).\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        seconds = r["seconds"]
        cells = [f"{r['rows']:,}", f"{r['mode']} ({r['embedder']})"]
        cells += [f"{seconds[s]:.1f}" if s in seconds else "-" for s in STAGES]
        cells += [f"{r['cold']:.1f}", f"{r['warm']:.1f}", f"{r['recluster']:.2f}"]
        cells += [str(r["k"]), f"{r['nmi']:.3f}", f"{r['peak_mb']:.0f}"]
        cells.append(f"{r['held_mb']:.0f}")
        print("| " + " | ".join(cells) + " |")
    warm_ups = ", ".join(f"{r['warm_up']:.0f}" for r in results)
    print(f"\nstart-up warm-up per process (s): {warm_ups}")


if __name__ == "__main__":
    main()
