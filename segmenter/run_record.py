"""``run.json``: the record of one run, written by both engines and read by ``runs``.

Both engines fill the same ``RunRecord`` (the Ray engine adds its ``engine`` block) and
write it through ``export.run_sidecar``, which adds the library versions and writes NaN
(the silhouette of a one-segment run, say) as ``null``, so the file is always valid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmenter.export import run_sidecar
from segmenter.k_choice import KChoice

RUN_FILE = "run.json"


def k_choice_record(choice: KChoice) -> dict[str, Any]:
    """How the number of segments was chosen, as ``run.json`` holds it."""
    return {
        "k": choice.k,
        "reason": choice.reason,
        "silhouettes": choice.silhouettes,
        "smallest_segment": choice.smallest_segment,
        "largest_share": choice.largest_share,
    }


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)  # NaN was written as null


def k_choice_from_record(record: Mapping[str, Any], default_k: int) -> KChoice:
    """``k_choice_record`` read back (JSON keys are text, NaN is null)."""
    return KChoice(
        k=int(record.get("k", default_k)),
        silhouettes={int(a): _number(b) for a, b in record.get("silhouettes", {}).items()},
        smallest_segment={int(a): int(b) for a, b in record.get("smallest_segment", {}).items()},
        reason=str(record.get("reason", "")),
        largest_share={int(a): _number(b) for a, b in record.get("largest_share", {}).items()},
    )


def result_record(
    *,
    n_segments: int,
    silhouette: float,
    choice: KChoice,
    reduction: str,
    text_weight_applied: float,
    unsegmented_rows: int,
    influence: Mapping[str, Any],
) -> dict[str, Any]:
    """``run.json``'s ``result`` block: what the segmentation found and how."""
    return {
        "n_segments": n_segments,
        "silhouette": silhouette,
        "k_choice": k_choice_record(choice),
        "reduction": reduction,
        "text_weight_applied": text_weight_applied,
        "unsegmented_rows": unsegmented_rows,
        **influence,
    }


@dataclass(frozen=True)
class RunRecord:
    """Every setting, model id, finding and timing of one run."""

    input: dict[str, Any]
    """The table: filename, rows, columns, encoding, delimiter, notes."""
    schema: dict[str, Any]
    embedding: dict[str, Any]
    """``model_id`` (None without text) and the ``requested`` model; the local engine adds
    how many texts were embedded and how many came from the cache."""
    segmenter: dict[str, Any]
    """The estimator's ``get_params()``."""
    result: dict[str, Any]
    """``result_record``."""
    seconds: dict[str, float]
    feedback: dict[str, Any] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    """Every column's label, as the segments were named with."""
    engine: dict[str, Any] | None = None
    """The Ray engine's cluster and parts; ``None`` for the local engine."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys this version does not know (kept when a folder is opened and shown)."""

    @staticmethod
    def seconds_of(timings: Mapping[str, float]) -> dict[str, float]:
        """Seconds per stage, rounded to the millisecond."""
        return {stage: round(seconds, 3) for stage, seconds in timings.items()}

    @property
    def engine_name(self) -> str:
        return str((self.engine or {}).get("name", "local"))

    def to_dict(self) -> dict[str, Any]:
        """The record as ``run.json`` holds it (without the library versions)."""
        record: dict[str, Any] = {} if self.engine is None else {"engine": self.engine}
        record.update(
            {
                "input": self.input,
                "schema": self.schema,
                "embedding": self.embedding,
                "segmenter": self.segmenter,
                "result": self.result,
                "feedback": self.feedback,
                "seconds": self.seconds,
                "labels": self.labels,
            }
        )
        record.update(self.extra)
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> RunRecord:
        known = {"engine", "input", "schema", "embedding", "segmenter", "result"}
        known |= {"feedback", "seconds", "labels"}
        return cls(
            input=dict(record.get("input") or {}),
            schema=dict(record.get("schema") or {}),
            embedding=dict(record.get("embedding") or {}),
            segmenter=dict(record.get("segmenter") or {}),
            result=dict(record.get("result") or {}),
            seconds={k: float(v) for k, v in (record.get("seconds") or {}).items()},
            feedback=record.get("feedback"),
            labels={str(k): str(v) for k, v in (record.get("labels") or {}).items()},
            engine=record.get("engine"),
            extra={k: v for k, v in record.items() if k not in known},
        )

    def k_choice(self) -> KChoice:
        """How the number of segments was chosen."""
        return k_choice_from_record(
            self.result.get("k_choice", {}), int(self.result.get("n_segments", 0))
        )

    def to_json(self) -> str:
        """``run.json``'s text: with the library versions, NaN written as null."""
        return run_sidecar(self.to_dict())

    def write(self, folder: Path) -> Path:
        """Write ``run.json`` into ``folder``."""
        path = folder / RUN_FILE
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> RunRecord:
        """``run.json`` of ``folder``.

        Raises:
            OSError, ValueError: when it is missing or not JSON.
        """
        return cls.from_dict(json.loads((folder / RUN_FILE).read_text(encoding="utf-8")))
