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
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmenter.config import default_cache_dir
from segmenter.embedding.base import LazyEmbedder, count_matrix
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
    chunk_texts = 25_000
    """Texts per call (``embed_texts``): each call tokenises its distinct words once, and a
    chunk of 25,000 reviews repeats most of them; progress is still reported four times in
    100,000 rows."""

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
        return pooled_by_word(model, texts)


def pooled_by_word(model: Any, texts: list[str]) -> np.ndarray:
    """model2vec's vectors (each text's mean of its word pieces' rows), with every distinct
    word tokenised once instead of every text in full.

    Tokenising was most of the fast mode's embedding time (13 of 16 s for 100,000 reviews
    on 2 cores), and a table repeats its words. MiniLM's tokenizer splits on whitespace
    before anything else and normalises character by character, so a whitespace-separated
    word becomes the same word pieces alone as inside its text: the sums are model2vec's,
    up to float16 rounding (model2vec averages in float16). Texts past the model's length
    limit, where model2vec cuts the word pieces, go through model2vec itself.
    """
    n = len(texts)
    limit = model.max_length
    if limit is not None:  # model2vec cuts the characters first, then the word pieces
        texts = [text[: limit * model.median_token_length] for text in texts]
    words = [text.split() for text in texts]
    per_text = np.fromiter(map(len, words), dtype=np.int64, count=n)
    codes, distinct = pd.factorize(pd.Series(list(chain.from_iterable(words)), dtype=object))
    encodings = model.tokenizer.encode_batch_fast(list(distinct), add_special_tokens=False)
    pieces = [[i for i in e.ids if i != model.unk_token_id] for e in encodings]
    pieces_per_word = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    rows = np.asarray(model.embedding, dtype=np.float32)
    word_pieces = count_matrix(
        np.fromiter(chain.from_iterable(pieces), dtype=np.int64), pieces_per_word, len(rows)
    )
    word_sums = word_pieces @ rows  # each distinct word's sum of its pieces' rows
    counts = count_matrix(codes, per_text, len(pieces))  # each text's words
    sums = np.asarray(counts @ word_sums)
    pieces_per_text = np.asarray(counts @ pieces_per_word.astype(np.float32)).ravel()
    out = np.zeros((n, rows.shape[1]), dtype=np.float32)
    some = pieces_per_text > 0
    out[some] = (sums[some] / pieces_per_text[some, None]).astype(np.float32)
    if limit is not None and (too_long := np.flatnonzero(pieces_per_text > limit)).size:
        cut = model.encode([texts[i] for i in too_long], use_multiprocessing=False)
        out[too_long] = np.asarray(cut, dtype=np.float32)
    return out
