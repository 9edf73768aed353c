"""``assign`` against segmenting anew: next month's table placed into last month's saved
segments, and the same table segmented from scratch, on one machine in one run.

Month 1 is a customer table from Debian's package descriptions (``corpus.py``; the section
is the known category). Month 2 comes in two kinds: every text new (the same customers with
other words, a fifth of them new customers), and a typical month (80% of the rows as they
were, 10% with new words and values, 10% new customers). Every timed run starts with an
empty cache folder of its own, in a process whose models are loaded and UMAP's kernels
compiled (as in the app after its start-up warm-up). Prints a Markdown table of seconds per
stage, rows per second, the speed-up, NMI against the section, the fit check, and the
identity check (month 1 assigned to its own model: ARI, largest coordinate difference).

    python bench/assign.py                 # 100,000 rows
    python bench/assign.py --rows 20000
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
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import numpy as np  # noqa: PLC0415
    from corpus import customers  # noqa: PLC0415
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: PLC0415

    from segmenter.assign import assign_table, write_assigned  # noqa: PLC0415
    from segmenter.cluster import warm_up_reduction  # noqa: PLC0415
    from segmenter.config import ClusterConfig, EmbedConfig  # noqa: PLC0415
    from segmenter.ingest import detect_schema, load_table  # noqa: PLC0415
    from segmenter.pipeline import run_segmentation, write_outputs  # noqa: PLC0415
    from segmenter.saved_model import read_model  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="bench_assign_"))
    warm_up_reduction()
    month1, truth1 = customers(args.rows, seed=7)
    changed, truth_changed = customers(args.rows, seed=8)
    # All new: the same customers with other words (and a fifth of them new customers).
    all_new = changed.copy()
    all_new["customer_id"] = [
        f"N{i:07d}" if i % 5 == 0 else f"C{i:07d}" for i in range(len(all_new))
    ]
    # A typical month: 80% of the rows as they were, 10% with new words, 10% new customers.
    typical = month1.copy()
    truth_typical = truth1.copy()
    rng = np.random.default_rng(0)
    moved = rng.choice(len(typical), len(typical) // 5, replace=False)
    typical.loc[moved, ["feedback", "age", "monthly_spend", "plan"]] = changed.loc[
        moved, ["feedback", "age", "monthly_spend", "plan"]
    ].to_numpy()
    truth_typical[moved] = truth_changed[moved]
    newcomers = moved[: len(moved) // 2]
    typical.loc[newcomers, "customer_id"] = [f"N{i:07d}" for i in range(len(newcomers))]
    paths = {}
    for name, frame in (("month1", month1), ("all_new", all_new), ("typical", typical)):
        paths[name] = work / f"{name}.parquet"
        frame.to_parquet(paths[name], index=False)

    def config(name: str) -> EmbedConfig:
        return replace(EmbedConfig.from_env(), cache_dir=work / f"cache_{name}")

    def nmi(labels: np.ndarray, truth: np.ndarray) -> float:
        kept = labels >= 0
        return float(normalized_mutual_info_score(truth[kept], labels[kept]))

    loaded1 = load_table(paths["month1"], "month1.parquet")
    schema = detect_schema(loaded1.frame)
    start = time.perf_counter()
    first = run_segmentation(loaded1, schema, config("month1"), ClusterConfig())
    first_seconds = time.perf_counter() - start
    run_dir = work / "run_month1"
    write_outputs(first, run_dir)
    model = read_model(run_dir)
    identity = assign_table(loaded1, model, config("identity"))
    ari_identity = adjusted_rand_score(first.result.labels, identity.labels)
    coord_gap = float(np.nanmax(np.abs(first.result.coords - identity.coords)))

    rows = args.rows
    print(
        f"\n{rows:,} rows, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; embedder {first.embedder_name}"
    )
    print(
        f"month 1 segmented in {first_seconds:.1f} s (k = {first.segmenter.n_segments_}); "
        f"identity: month 1 assigned to its own model: ARI {ari_identity:.4f}, largest "
        f"coordinate difference {coord_gap:.2g}"
    )
    print("\n| month 2 | how | stages (s) | total (s) | rows/s | NMI vs section | speed-up |")
    print("|---|---|---|---:|---:|---:|---:|")
    truths = {"all_new": truth_changed, "typical": truth_typical}
    for name, label in (("all_new", "every text new"), ("typical", "80% unchanged")):
        loaded = load_table(paths[name], f"{name}.parquet")
        start = time.perf_counter()
        assigned = assign_table(loaded, model, config(f"assign_{name}"))
        write_start = time.perf_counter()
        write_assigned(assigned, run_dir, work / f"assigned_{name}")
        assign_seconds = time.perf_counter() - start
        timings = {**assigned.seconds, "write": time.perf_counter() - write_start}
        start = time.perf_counter()
        fresh = run_segmentation(
            load_table(paths[name], f"{name}.parquet"),
            schema,
            config(f"fresh_{name}"),
            ClusterConfig(),
        )
        write_start = time.perf_counter()
        write_outputs(fresh, work / f"fresh_{name}")
        fresh_seconds = time.perf_counter() - start
        fresh_timings = {**fresh.timings, "write": time.perf_counter() - write_start}
        for how, seconds, stages, labels in (
            ("assign", assign_seconds, timings, assigned.labels),
            ("segment anew", fresh_seconds, fresh_timings, fresh.result.labels),
        ):
            listed = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            ratio = f"{fresh_seconds / assign_seconds:.1f}x" if how == "assign" else ""
            print(
                f"| {label} | {how} | {listed} | {seconds:.1f} | {rows / seconds:,.0f} | "
                f"{nmi(labels, truths[name]):.3f} | {ratio} |"
            )
        print(
            f"|  | fit check | {assigned.poor_share:.1%} fit poorly; "
            f"{int(assigned.known.sum()):,} unchanged or learnt rows recognised | | | | |"
        )


if __name__ == "__main__":
    main()
