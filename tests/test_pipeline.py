"""The local pipeline as a whole: what it keeps between runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmenter import pipeline
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.ingest import detect_schema, load_table
from tests.conftest import FakeEmbedder, make_customers


def test_the_same_table_and_settings_come_back_from_the_run_cache(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    frame = make_customers()
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    config = EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")
    loaded = load_table(path, path.name)
    schema = detect_schema(loaded.frame)
    first = pipeline.run_segmentation(loaded, schema, config, ClusterConfig())
    calls = len(fake_embedder.calls)
    again = pipeline.run_segmentation(load_table(path, path.name), schema, config, ClusterConfig())
    assert again.reused and not first.reused
    assert len(fake_embedder.calls) == calls  # nothing embedded again
    np.testing.assert_array_equal(again.result.labels, first.result.labels)
    # Another table, or other settings, is a new run.
    changed = frame.copy()
    changed.loc[0, "feedback"] = "Something else entirely"
    changed.to_csv(path, index=False)
    other = pipeline.run_segmentation(load_table(path, path.name), schema, config, ClusterConfig())
    assert not other.reused
    seeded = pipeline.run_segmentation(loaded, schema, config, ClusterConfig(random_state=3))
    assert not seeded.reused
