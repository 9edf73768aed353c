"""The ``Embedder`` protocol that every embedding backend satisfies, and a shared helper."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors.

    ``model_id`` names the exact model (it keys the embedding cache, so two
    backends that give different vectors must not share one). ``dimension`` is
    known without loading weights. Construction is cheap; weights load on the
    first ``embed`` call and are held for the life of the instance.
    """

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Return an ``(len(texts), dimension)`` float32 array of L2-normalised rows."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Return ``vectors`` as float32 with unit-length rows; all-zero rows stay zero.

    Backends call this on model output even when the model claims to normalise,
    because half-precision (GPU) output is only approximately unit length.
    """
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-D array of embeddings, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (out / norms).astype(np.float32, copy=False)


class LazyEmbedder:
    """Shared machinery of the bundled backends: weights load once, on first use.

    Subclasses implement ``_load_model`` (return the loaded model, raising project
    errors) and ``_encode`` (model output for a non-empty list of texts). Loading and
    encoding are serialised per instance: concurrent encodes on one model only compete
    for the same cores (or GPU memory) and run no faster.
    """

    def __init__(self, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._model is not None

    def load(self) -> None:
        """Load the weights now (idempotent, thread-safe); ``embed`` does this on first use."""
        with self._lock:
            self._ensure_loaded()

    def _ensure_loaded(self) -> None:
        if self._model is None:
            self._model = self._load_model()

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` into an ``(n, dimension)`` float32 array of unit rows."""
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            self._ensure_loaded()
            out = self._encode(self._model, list(texts), batch_size)
        return l2_normalise(out)

    def _load_model(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"


def count_matrix(
    columns: np.ndarray, per_row: np.ndarray, width: int, dtype: Any = np.float32
) -> Any:
    """A sparse ``(len(per_row), width)`` matrix with a 1 for each of ``columns``, the first
    ``per_row[0]`` in row 0 and so on (repeats add up): texts by their words, words by their
    pieces or terms."""
    import scipy.sparse as sparse  # noqa: PLC0415 - with scikit-learn, loaded lazily

    indptr = np.concatenate([[0], np.cumsum(per_row)])
    data = np.ones(len(columns), dtype=dtype)
    return sparse.csr_matrix((data, columns, indptr), shape=(len(per_row), width))
