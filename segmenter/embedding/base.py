"""The ``Embedder`` protocol that every embedding backend satisfies, and a shared helper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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
