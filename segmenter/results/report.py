"""The results report: every table computed once, written as CSV and JSON for the export
and the ``results`` command."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.export import to_csv_bytes
from segmenter.results.collect import CampaignResults
from segmenter.results.lessons import PastResults, past_results
from segmenter.results.rates import MIN_CUSTOMERS, compare_variants, response_rates, uplift
from segmenter.results.stats import ALPHA, PRIOR_CUSTOMERS
from segmenter.results.targets import TargetList

RATES_FILE = "rates.csv"
COMPARISONS_FILE = "comparisons.csv"
UPLIFT_FILE = "uplift.csv"
TARGETS_FILE = "targets.csv"
UNMATCHED_FILE = "unmatched.csv"
REPORT_FILE = "results.json"
NO_CONTROL = (
    "No control group: every customer in these results was contacted (or the file marks "
    "none as control, holdout or not contacted), so uplift cannot be estimated. Hold some "
    "customers out of the next send (the plan's control share) to measure it."
)


@dataclass(frozen=True)
class ResultsReport:
    """Campaign results and every table computed from them."""

    results: CampaignResults
    rates: pd.DataFrame
    comparisons: pd.DataFrame
    uplift: pd.DataFrame

    @property
    def uplift_note(self) -> str:
        """Why there is no uplift table, or nothing."""
        return "" if self.results.has_control else NO_CONTROL

    def variant_drafts(self, segment_id: int) -> dict[tuple[str, str], str]:
        """(campaign, variant) -> the draft sent to ``segment_id`` as that variant, where the
        results say (each segment has its own drafts)."""
        frame = self.results.frame
        sent = frame[
            (frame["draft_id"] != "") & ~frame["control"] & (frame["segment_id"] == segment_id)
        ]
        if sent.empty:
            return {}
        common = sent.groupby(["campaign", "variant"])["draft_id"].agg(lambda d: d.mode().iloc[0])
        return {(str(key[0]), str(key[1])): str(d) for key, d in common.items()}  # type: ignore[index]

    def lessons(
        self, segment_id: int, drafts: Mapping[str, Mapping[str, object]] | None = None
    ) -> PastResults:
        """What worked before for ``segment_id`` (``lessons.past_results``)."""
        return past_results(
            segment_id,
            self.rates,
            self.comparisons,
            self.uplift,
            source=self.results.source,
            drafts=drafts,
            variant_drafts=self.variant_drafts(segment_id),
        )


def analyse(results: CampaignResults, names: Mapping[int, str]) -> ResultsReport:
    """Rates, variant comparisons and uplift for ``results``; ``names``: segment names."""
    return ResultsReport(
        results=results,
        rates=response_rates(results, names),
        comparisons=compare_variants(results, names),
        uplift=uplift(results, names),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict(orient="records")
    ]


def report_json(report: ResultsReport, targets: TargetList | None = None) -> str:
    """Everything in one JSON document: what was read, the settings and every table."""
    document: dict[str, Any] = {
        "source": report.results.source,
        "read": report.results.describe(),
        "notes": list(report.results.notes),
        "unmatched_rows": len(report.results.unmatched),
        "settings": {
            "interval": "95% Wilson score interval (rates), Newcombe hybrid score (differences)",
            "test": "score test for two independent proportions, Holm-adjusted over the "
            "segment comparisons (and apart over the all-customers ones)",
            "alpha": ALPHA,
            "min_customers": MIN_CUSTOMERS,
            "shrinkage_customers": PRIOR_CUSTOMERS,
        },
        "rates": _records(report.rates),
        "comparisons": _records(report.comparisons),
        "uplift": _records(report.uplift) if len(report.uplift) else report.uplift_note,
    }
    if targets is not None:
        document["targets"] = {
            "basis": targets.basis,
            "note": targets.note,
            "segments": _records(targets.segments),
        }
    return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)


def write_report(
    report: ResultsReport, targets: TargetList | None, out_dir: Path
) -> dict[str, Path]:
    """Write ``rates.csv``, ``comparisons.csv``, ``targets.csv``, ``uplift.csv`` (with a
    control group), ``unmatched.csv`` (when rows matched no customer) and ``results.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {RATES_FILE: report.rates, COMPARISONS_FILE: report.comparisons}
    if len(report.uplift):
        tables[UPLIFT_FILE] = report.uplift
    if targets is not None:
        tables[TARGETS_FILE] = targets.frame
    if len(report.results.unmatched):
        tables[UNMATCHED_FILE] = report.results.unmatched
    written = {}
    for name, frame in tables.items():
        path = out_dir / name
        path.write_bytes(to_csv_bytes(frame))
        written[name] = path
    path = out_dir / REPORT_FILE
    path.write_text(report_json(report, targets), encoding="utf-8")
    written[REPORT_FILE] = path
    return written
