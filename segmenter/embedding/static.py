"""A static (lookup-table) model distilled on this machine from the bundled MiniLM.

model2vec passes every word piece of MiniLM's vocabulary through MiniLM once, reduces the
outputs to 256 dimensions with PCA and keeps them as a table: a text's vector is then the
mean of its word pieces' rows, about 200 times faster than running the transformer on the
CPU. The distillation takes about 40 s on 2 cores, runs once, and is kept under the cache
folder; nothing is downloaded. Alone it keeps about 80% of MiniLM's segment quality, so the
pipeline joins it with topics learnt from the table's own words (``lexical.py``) and aligns
the two with MiniLM on a sample of the table's texts (``teacher.py``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from segmenter.config import default_cache_dir
from segmenter.embedding.base import LazyEmbedder
from segmenter.embedding.sentence_transformer import bundled_minilm_path, force_offline
from segmenter.errors import MissingDependencyError, ModelError

STATIC_MODEL_ID = "model2vec/all-MiniLM-L6-v2-distilled-256"
STATIC_DIMENSION = 256
STATIC_FOLDER = "minilm-static-256"
STATIC_PACKAGE = "model2vec"

_distil_lock = threading.Lock()


def static_model_path(cache_dir: Path | None = None) -> Path:
    """Where the distilled model is kept (it may not exist yet)."""
    return (cache_dir or default_cache_dir()) / "models" / STATIC_FOLDER


def ensure_static_model(cache_dir: Path | None = None) -> Path:
    """The distilled model's folder, distilling it from the bundled MiniLM first if needed.

    Safe to call from several threads or processes: each distils into a temporary folder
    and the first to finish moves it into place.

    Raises:
        MissingDependencyError: model2vec or the bundled MiniLM is not installed.
        ModelError: the distillation failed.
    """
    target = static_model_path(cache_dir)
    if (target / "model.safetensors").exists():
        return target
    force_offline()
    try:
        from model2vec.distill import distill  # noqa: PLC0415 - heavy, only when distilling
    except ImportError as err:
        raise MissingDependencyError(STATIC_PACKAGE, "The fast embedding mode") from err
    source = bundled_minilm_path()
    with _distil_lock:
        if (target / "model.safetensors").exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".distil-", dir=target.parent))
        try:
            model = distill(model_name=str(source), pca_dims=STATIC_DIMENSION)
            model.save_pretrained(str(scratch))
            os.replace(scratch, target)
        except OSError:
            if not (target / "model.safetensors").exists():
                raise
        except (RuntimeError, ValueError) as err:
            raise ModelError(
                f"Could not distil the fast embedding model from MiniLM: {err}. "
                "Choose the accurate mode, or reinstall model2vec."
            ) from err
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


class StaticEmbedder(LazyEmbedder):
    """model2vec static embeddings distilled from the bundled MiniLM (256-d, CPU only).

    Per-text caching is not worth it here: computing a vector costs less than storing it.
    """

    worth_caching = False

    def __init__(self, cache_dir: Path | None = None) -> None:
        super().__init__(STATIC_MODEL_ID, STATIC_DIMENSION)
        self.cache_dir = cache_dir

    def _load_model(self) -> Any:
        path = ensure_static_model(self.cache_dir)
        from model2vec import StaticModel  # noqa: PLC0415 - lazy like the other backends

        try:
            return StaticModel.from_pretrained(str(path))
        except (OSError, ValueError) as err:
            raise ModelError(
                f"Could not load the fast embedding model from {path}: {err}. "
                "Delete that folder to distil it again."
            ) from err

    def _encode(self, model: Any, texts: list[str], batch_size: int) -> np.ndarray:
        # model2vec batches internally; its multiprocessing would fight the app's threads.
        return np.asarray(model.encode(texts, use_multiprocessing=False), dtype=np.float32)
