"""Embed a column of texts: skip empty ones, embed each distinct text once, reuse the cache."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from segmenter.embedding.base import Embedder, l2_normalise
from segmenter.embedding.cache import EmbeddingCache, text_key
from segmenter.errors import ModelError

MAX_TEXT_CHARS = 2000
"""Texts are cut to this many characters before embedding.

MiniLM reads at most 256 word pieces (about 1,000 characters of English), so
the cut changes nothing for it; it bounds tokenizer time and memory when a cell
holds a whole document, and for the multilingual model (which averages over all
tokens) it means the opening of a long text decides its vector.
"""
EMBED_CHUNK = 512
"""Distinct texts per call to the model: progress is reported and the cache written per chunk."""


@dataclass(frozen=True)
class EmbeddingResult:
    """Embeddings of a column of texts, one row per input text.

    Attributes:
        vectors: ``(n, d)`` float32, L2-normalised; zero rows where the text is empty.
        has_text: ``(n,)`` bool, False where the text was empty or whitespace.
        model_id: the model that produced the vectors.
        n_computed: distinct texts actually sent to the model.
        n_cached: distinct texts found in the cache.
    """

    vectors: np.ndarray
    has_text: np.ndarray
    model_id: str
    n_computed: int
    n_cached: int


def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> EmbeddingResult:
    """Embed ``texts`` with ``embedder``, one row per text, computing only what is new.

    Args:
        texts: one string per row; empty or whitespace-only strings get a zero row.
        embedder: the model (see ``get_embedder``).
        cache: where to look vectors up first and store new ones; ``None`` disables it.
        batch_size: texts per forward pass inside the model.
        progress: called as ``progress(done, total)`` with counts of distinct texts
            to compute, once before the first chunk and after each chunk.

    Returns:
        An ``EmbeddingResult``.

    Raises:
        TypeError: an element of ``texts`` is not a string.
        ModelError: the model returned the wrong shape or non-finite values.

    Example:
        >>> result = embed_texts(docs, get_embedder("minilm"), cache=EmbeddingCache(path))
        >>> result.vectors.shape
        (120, 384)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} should be >= 1")
    n = len(texts)
    has_text = np.zeros(n, dtype=bool)
    row_keys: list[str | None] = [None] * n
    to_embed: dict[str, str] = {}  # key -> truncated text, first-seen order
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"texts[{row}] is {type(text).__name__}, not str: convert cells to text first"
            )
        if not text.strip():
            continue
        clipped = text[:MAX_TEXT_CHARS]
        key = text_key(clipped)
        has_text[row] = True
        row_keys[row] = key
        to_embed.setdefault(key, clipped)

    dim = embedder.dimension
    found: dict[str, np.ndarray] = {}
    if cache is not None and to_embed:
        found = cache.get_many(embedder.model_id, list(to_embed), dimension=dim)
    missing = [key for key in to_embed if key not in found]

    total = len(missing)
    if progress is not None:
        progress(0, total)
    # Chunks of several batches: the model sorts each chunk by length, so less padding.
    # A backend may ask for larger chunks (the static model tokenises each chunk's distinct
    # words once: the larger the chunk, the fewer words it tokenises again).
    chunk = max(EMBED_CHUNK, 8 * batch_size, int(getattr(embedder, "chunk_texts", 0)))
    for start in range(0, total, chunk):
        keys = missing[start : start + chunk]
        vectors = _checked(
            embedder.embed([to_embed[k] for k in keys], batch_size=batch_size),
            len(keys),
            dim,
            embedder.model_id,
        )
        computed = dict(zip(keys, vectors, strict=True))
        found.update(computed)
        if cache is not None:
            cache.put_many(embedder.model_id, computed)
        if progress is not None:
            progress(min(start + chunk, total), total)

    out = np.zeros((n, dim), dtype=np.float32)
    for row, row_key in enumerate(row_keys):
        if row_key is not None:
            out[row] = found[row_key]
    return EmbeddingResult(
        vectors=out,
        has_text=has_text,
        model_id=embedder.model_id,
        n_computed=total,
        n_cached=len(to_embed) - total,
    )


def _checked(vectors: np.ndarray, n: int, dim: int, model_id: str) -> np.ndarray:
    """The model's output as unit float32 rows, after checking its shape and values."""
    array = np.asarray(vectors)
    if array.shape != (n, dim):
        raise ModelError(
            f"The embedding model {model_id} returned shape {array.shape} for {n} texts, "
            f"expected ({n}, {dim}): check the backend's dimension."
        )
    if not np.isfinite(array).all():
        raise ModelError(
            f"The embedding model {model_id} returned NaN or infinite values: "
            "try another model or batch size."
        )
    return l2_normalise(array)
