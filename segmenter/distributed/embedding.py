"""Embedding on the cluster: an actor pool per model, and the fast mode's table topics."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from segmenter.config import EmbedConfig
from segmenter.distributed.columns import (
    BATCH_ROWS,
    DOC,
    FEATURES,
    HAS_TEXT,
    ROW,
    VECTOR,
    gather,
    numbers_where,
    texts_at,
)
from segmenter.embed_stage import (
    FAST_MODES,
    FastMode,
    FastTextModel,
    batch_size,
    embed_documents,
    fast_features,
    no_progress,
    resolve_embedder_name,
    teacher_alignment,
)
from segmenter.embedding import FAST_EMBEDDER
from segmenter.embedding.lexical import fit_lexical
from segmenter.embedding.teacher import teacher_rows
from segmenter.fusion import fit_rows
from segmenter.sampling import SCHEMA_ROWS


class TextEmbedder:
    """A Ray Data actor: loads the embedding model once, then embeds batch after batch
    through the per-text cache."""

    def __init__(
        self,
        name: str,
        config: EmbedConfig,
        threads: int,
        source: str = DOC,
        target: str = VECTOR,
        has_text: str = HAS_TEXT,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch  # noqa: PLC0415

        from segmenter.embedding import get_embedder  # noqa: PLC0415

        if not torch.cuda.is_available():
            torch.set_num_threads(threads)
        self.name = name
        self.config = config
        self.source, self.target, self.has_text = source, target, has_text
        embedder = get_embedder(name)
        self.dimension = embedder.dimension
        embedder.embed(["load the weights now, once per actor"])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        docs = [str(d) for d in batch[self.source]]
        result = embed_documents(docs, self.name, self.config)
        if result is None:
            batch[self.target] = np.zeros((len(docs), self.dimension), dtype=np.float32)
            batch[self.has_text] = np.zeros(len(docs), dtype=bool)
        else:
            batch[self.target] = result.vectors.astype(np.float32)
            batch[self.has_text] = result.has_text.astype(bool)
        return batch


def embed_rows(
    ray: Any,
    rows: Any,
    name: str,
    config: EmbedConfig,
    columns: tuple[str, str, str] = (DOC, VECTOR, HAS_TEXT),
) -> Any:
    """Every row's text vector, from one actor per GPU or one per CPU core. Ray Data
    restarts an actor that dies and retries its batch (its defaults for actor pools)."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    batch = batch_size(config, bool(gpus))
    return rows.map_batches(
        TextEmbedder,
        fn_constructor_kwargs={
            "name": name,
            "config": config,
            "threads": 1,
            "source": columns[0],
            "target": columns[1],
            "has_text": columns[2],
        },
        batch_size=max(batch * 8, 512),
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=gpus or cpus),
        num_gpus=1 if gpus else None,
        num_cpus=None if gpus else 1,
    ).materialize()


def choose_model(ray: Any, rows: Any, config: EmbedConfig, n_rows: int) -> str:
    """The local engine's choice (``embed_stage.resolve_embedder_name``), judged on a sample
    of the texts, with the cluster's GPUs."""
    sample = [str(r[DOC]) for r in rows.select_columns([DOC]).limit(SCHEMA_ROWS).take_all()]
    gpus = ray.cluster_resources().get("GPU", 0)
    return resolve_embedder_name(sample, config, n_rows=n_rows, gpu=bool(gpus))


def with_topics(batch: dict[str, np.ndarray], topics: Any, alignment: Any) -> dict[str, np.ndarray]:
    """A batch with its fast features (``embed_stage.fast_features``)."""
    docs = [str(d) for d in batch[DOC]]
    has_text = np.asarray(batch[HAS_TEXT], dtype=bool)
    extra = topics.transform(docs, has_text) if topics is not None else None
    batch[FEATURES] = fast_features(batch[VECTOR], extra, alignment)
    return batch


def add_table_topics(
    rows: Any, config: EmbedConfig, mode: FastMode | None = None
) -> tuple[Any, FastTextModel]:
    """The fast mode's second half (``embed_stage.text_features``): topics learnt from the
    table's own words, from a uniform sample of at most ``fusion.FIT_ROWS`` texts (all of a
    smaller table), joined to every row's static vector; then the alignment with MiniLM,
    learnt on the driver from the texts of ``teacher_rows``. Also what was learnt, for the
    saved model."""
    numbers = numbers_where(rows, HAS_TEXT)
    chosen = numbers[fit_rows(len(numbers))]
    texts = texts_at(rows, chosen)
    mode = mode or FAST_MODES[FAST_EMBEDDER]
    topics = fit_lexical([texts[int(r)] for r in chosen], by=mode.topics_by)
    alignment = None
    taught = numbers[teacher_rows(len(numbers))]
    if len(taught):
        found = with_topics(gather(rows, taught, [ROW, DOC, VECTOR, HAS_TEXT]), topics, None)
        docs = [str(d) for d in found[DOC]]
        alignment = teacher_alignment(found[FEATURES], docs, config, no_progress, mode)
    learnt = FastTextModel(topics, alignment)
    if topics is None and alignment is None:
        return rows, learnt
    return add_fast_features(rows, learnt), learnt


def add_fast_features(rows: Any, learnt: FastTextModel) -> Any:
    """Every row's fast features (``FEATURES``) from its static vector and text."""
    return rows.map_batches(
        with_topics,
        fn_kwargs={"topics": learnt.topics, "alignment": learnt.alignment},
        batch_format="numpy",
        batch_size=BATCH_ROWS,
    ).materialize()
