"""Segmenter: customer segments from free text and structured columns.

Importing the package is cheap: it loads neither torch nor streamlit, and the
names below are imported from their modules on first use.

>>> from segmenter import load_table, detect_schema, run_segmentation
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "SegmenterError": "segmenter.errors",
    "InputError": "segmenter.errors",
    "SchemaError": "segmenter.errors",
    "ModelError": "segmenter.errors",
    "UnknownModelError": "segmenter.errors",
    "EmbedConfig": "segmenter.config",
    "ClusterConfig": "segmenter.config",
    "load_table": "segmenter.ingest",
    "detect_schema": "segmenter.ingest",
    "prepare_columns": "segmenter.ingest",
    "build_documents": "segmenter.ingest",
    "embed_texts": "segmenter.embedding",
    "get_embedder": "segmenter.embedding",
    "Segmenter": "segmenter.cluster",
    "profile_segments": "segmenter.profile",
    "SegmentProfile": "segmenter.profile",
    "results_frame": "segmenter.export",
    "run_segmentation": "segmenter.pipeline",
    "write_outputs": "segmenter.pipeline",
    "LMConfig": "segmenter.config",
    "CampaignBrief": "segmenter.campaign",
    "draft_campaign": "segmenter.campaign",
    "name_segments": "segmenter.campaign",
    "draft_reply": "segmenter.campaign",
    "get_generator": "segmenter.lm",
    "mask_pii": "segmenter.privacy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segmenter' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
