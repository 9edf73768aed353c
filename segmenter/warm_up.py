"""What a server does in the background when it starts, so the first segmentation waits for
none of it: compile UMAP's kernels, load the bundled embedding models, read the sentiment
reader's phrases with the multilingual model, load VADER and learn the Chinese n-grams.

Each step is timed and independent: a model that cannot load is reported when a user
segments, not here.
"""

from __future__ import annotations

import time

from segmenter.cluster import warm_up_reduction
from segmenter.config import EmbedConfig
from segmenter.embedding import get_embedder
from segmenter.embedding.registry import (
    DEFAULT_EMBEDDER,
    FAST_EMBEDDER,
    MULTILINGUAL_EMBEDDER,
    MULTILINGUAL_FAST_EMBEDDER,
    TEACHER_EMBEDDER,
)
from segmenter.errors import SegmenterError

WARM_UP_MODELS = (
    FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    MULTILINGUAL_EMBEDDER,
    MULTILINGUAL_FAST_EMBEDDER,
    DEFAULT_EMBEDDER,
)
"""The fast mode's static model and its MiniLM teacher first (large tables wait longest),
then the multilingual model (Chinese text, sentiment, the Chinese fast mode's teacher) and
its fast mode, and MiniLM (small English tables)."""


def warm_up_server(config: EmbedConfig | None = None) -> dict[str, float]:
    """Compile, load and read what the first segmentation would otherwise wait for.

    Returns the seconds each step took (a step that failed is left out).
    """
    config = config or EmbedConfig.from_env()
    seconds: dict[str, float] = {"umap": warm_up_reduction()}
    for name in WARM_UP_MODELS:
        start = time.perf_counter()
        try:
            embedder = get_embedder(name)
            load = getattr(embedder, "load", None)
            if load is not None:
                load()
        except SegmenterError:
            continue
        seconds[name] = time.perf_counter() - start
    if config.sentiment_model != "none":
        from segmenter.feedback_stage import reader_vectors  # noqa: PLC0415 - after the models
        from segmenter.sentiment.reading import load_lexicons  # noqa: PLC0415

        start = time.perf_counter()
        try:
            reader_vectors(config)
            load_lexicons()
        except SegmenterError:
            pass
        else:
            seconds["sentiment reader"] = time.perf_counter() - start
    return seconds
