"""Campaign results kept with their run, so the loop survives a reload: the next session's
Results page and drafting brief find what the last one read.

The run's campaign folder (``runs.campaign_folder``, where the drafts are kept) holds the
latest results read for it: ``campaign_results.csv`` (the long table), its unmatched rows,
and ``campaign_results.json`` (source, notes, counts, when).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from segmenter.campaign.store import write_atomically
from segmenter.errors import ResultsError
from segmenter.export import to_csv_bytes
from segmenter.results.collect import RESULT_COLUMNS, CampaignResults

RESULTS_TABLE = "campaign_results.csv"
UNMATCHED_TABLE = "campaign_results_unmatched.csv"
RESULTS_RECORD = "campaign_results.json"
STORE_VERSION = 1


def save_results(folder: Path, results: CampaignResults) -> None:
    """Keep ``results`` in ``folder`` in place of any results kept there before.

    Raises:
        ResultsError: the folder cannot be written; the message says where.
    """
    record = {
        "version": STORE_VERSION,
        "source": results.source,
        "notes": list(results.notes),
        "duplicates_merged": results.duplicates_merged,
        "conflicts": results.conflicts,
        "saved": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        # The long table is the app's own: written without the spreadsheet formula guard,
        # which would change IDs and variants that start with "-" or "+".
        frame = results.frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
        write_atomically(folder / RESULTS_TABLE, frame)
        write_atomically(folder / UNMATCHED_TABLE, to_csv_bytes(results.unmatched))
        write_atomically(
            folder / RESULTS_RECORD,
            json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8"),
        )
    except OSError as err:
        raise ResultsError(
            f"Could not keep the results in {folder} ({err.strerror or err}): set "
            "SEGMENTER_RUNS_DIR to a folder this server can write."
        ) from None


def load_results(folder: Path, ids: Sequence[str]) -> CampaignResults | None:
    """The results kept in ``folder`` for the run whose customers are ``ids``; ``None``
    when there are none, they are damaged, or they name customers this run does not have
    in those rows (they belong to another table)."""
    try:
        record = json.loads((folder / RESULTS_RECORD).read_text(encoding="utf-8"))
        frame = pd.read_csv(
            folder / RESULTS_TABLE, dtype=str, keep_default_na=False, encoding="utf-8"
        )
    except (OSError, ValueError):
        return None
    if record.get("version") != STORE_VERSION or list(frame.columns) != list(RESULT_COLUMNS):
        return None
    try:
        rows = frame["row"].astype(int).to_numpy()
        frame = frame.assign(
            row=rows,
            segment_id=frame["segment_id"].astype(int),
            control=frame["control"] == "True",
            responded=frame["responded"].astype(np.int8),
            value=pd.to_numeric(frame["value"], errors="coerce"),
        )
    except ValueError:
        return None
    id_array = np.asarray([str(i) for i in ids], dtype=object)
    if len(rows) and (
        rows.max() >= len(id_array) or (id_array[rows] != frame["customer_id"]).any()
    ):
        return None
    unmatched = pd.DataFrame()
    with contextlib.suppress(OSError, ValueError):
        unmatched = pd.read_csv(
            folder / UNMATCHED_TABLE, dtype=str, keep_default_na=False, encoding="utf-8"
        )
    return CampaignResults(
        frame=frame,
        source=str(record.get("source", "saved results")),
        unmatched=unmatched,
        duplicates_merged=int(record.get("duplicates_merged", 0)),
        conflicts=int(record.get("conflicts", 0)),
        notes=tuple(str(n) for n in record.get("notes", ())),
    )
