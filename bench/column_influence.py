"""How much one discrete column decides the segments: the figures in docs/segmentation.md.

Generated personas (``scripts/make_sample_data.py``) with a column added: a 10-valued store
independent of the persona, a random 0/1 flag, or a tier that matches the persona for 70% of
rows. Each one is segmented with the default settings, on the text plus that column alone and
on the columns alone, and the script prints NMI(segments, persona) / NMI(segments, column).
``--rise`` sets ``fusion.ISLAND_MAX_RISE`` (``inf``: no bound). ``--real`` segments the
tables in ``../shared/data/`` instead and prints, for each, the few-valued columns that
explain the segments most.

    python bench/column_influence.py --rise 0.25
    python bench/column_influence.py --rise inf --real Mall_Customers.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score as nmi

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from make_sample_data import PERSONA_COLUMN, add_category_columns, make_sample_customers  # noqa: E402

from segmenter import fusion  # noqa: E402
from segmenter.cluster import Segmenter  # noqa: E402
from segmenter.config import ClusterConfig, EmbedConfig  # noqa: E402
from segmenter.ingest import build_documents, detect_schema, load_table, prepare_columns  # noqa: E402
from segmenter.pipeline import embed_documents, run_segmentation  # noqa: E402

SCENARIOS = ("store", "flag", "tier")


def generated(seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = add_category_columns(make_sample_customers(2000, seed), seed, informative=True)
    frame["flag"] = np.random.default_rng(seed).integers(0, 2, len(frame)).astype(str)
    persona = frame.pop(PERSONA_COLUMN).to_numpy()
    return frame.astype(str).replace("nan", ""), persona


def bench_generated(seeds: list[int]) -> None:
    config = EmbedConfig(sentiment_model="none")
    for seed in seeds:
        frame, persona = generated(seed)
        schema = detect_schema(frame.drop(columns=list(SCENARIOS)))
        embedding = embed_documents(build_documents(frame, schema), "minilm", config)
        assert embedding is not None
        full = detect_schema(frame)
        prepared = prepare_columns(frame, full.with_roles({"flag": "numeric"}))
        for scenario in SCENARIOS:
            added = prepared.numeric[[scenario]] if scenario == "flag" else None
            category = prepared.categorical[[scenario]] if scenario != "flag" else None
            runs = {
                "text + column": (embedding.vectors, added, category),
                "columns only": (None, prepared.numeric, prepared.categorical),
            }
            for name, (vectors, numeric, categorical) in runs.items():
                if name == "columns only":  # the table's own columns and this one
                    others = [c for c in SCENARIOS if c != scenario]
                    numeric = prepared.numeric.drop(columns=others, errors="ignore")
                    categorical = prepared.categorical.drop(columns=others, errors="ignore")
                segmenter = Segmenter(random_state=0).fit(
                    vectors,
                    embedding.has_text if vectors is not None else None,
                    numeric=numeric,
                    categorical=categorical,
                )
                labels = segmenter.labels_
                print(
                    f"seed {seed} {scenario:5} {name:13} persona {nmi(persona, labels):.2f} "
                    f"column {nmi(frame[scenario], labels):.2f} k={segmenter.n_segments_} "
                    f"bounded {dict(segmenter.fusion_.factors)}",
                    flush=True,
                )


def bench_real(names: list[str]) -> None:
    for name in names:
        path = ROOT.parent / "shared" / "data" / name
        loaded = load_table(path, path.name)
        schema = detect_schema(loaded.frame)
        run = run_segmentation(loaded, schema, EmbedConfig(sentiment_model="none"), ClusterConfig())
        labels = run.result.labels
        frame = loaded.frame
        few = [
            c
            for c in (*schema.categorical_columns, *schema.numeric_columns)
            if frame[c].nunique() <= fusion.DISCRETE_MAX_VALUES
        ]
        scores = sorted(((nmi(frame[c].astype(str), labels), c) for c in few), reverse=True)
        print(
            f"{name}: k={run.segmenter.n_segments_} bounded "
            f"{dict(run.segmenter.fusion_.factors)} strongest "
            f"{[(c, round(v, 2)) for v, c in scores[:4]]}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rise", type=float, default=fusion.ISLAND_MAX_RISE)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 3])
    parser.add_argument("--real", nargs="*", default=None, help="files in ../shared/data/")
    args = parser.parse_args()
    fusion.ISLAND_MAX_RISE = args.rise
    if args.real is not None:
        bench_real(args.real or ["Mall_Customers.csv", "Telco-Customer-Churn.csv"])
    else:
        bench_generated(args.seeds)


if __name__ == "__main__":
    main()
