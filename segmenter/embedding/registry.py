"""Embedding backends by plain string name; one instance per name per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from segmenter.embedding.base import Embedder
from segmenter.embedding.chargram import CharGramEmbedder
from segmenter.embedding.sentence_transformer import (
    MINILM_DIMENSION,
    MINILM_MODEL_ID,
    SentenceTransformerEmbedder,
    bundled_minilm_path,
)
from segmenter.embedding.static import StaticEmbedder
from segmenter.embedding.teacher import TEACHER_TOKENS
from segmenter.embedding.use import UniversalSentenceEncoderEmbedder
from segmenter.errors import UnknownModelError

DEFAULT_EMBEDDER = "minilm"
"""Bundled English model: all-MiniLM-L6-v2, 384-d."""
FAST_EMBEDDER = "minilm-fast"
"""MiniLM distilled into a static model on this machine (256-d): for large English tables
on the CPU, with topics from the table's own words added by the pipeline."""
TEACHER_EMBEDDER = "minilm-teacher"
"""MiniLM reading each text's first ``teacher.TEACHER_TOKENS`` word pieces: the fast mode
aligns its features with it on a sample of the table (``teacher.py``)."""
MULTILINGUAL_EMBEDDER = "multilingual"
"""Bundled multilingual model: Universal Sentence Encoder multilingual v3, 512-d."""
MULTILINGUAL_FAST_EMBEDDER = "multilingual-fast"
"""Any script, for large tables on the CPU: hashed character 1-2-grams (256-d), with topics
from the table's own characters added by the pipeline and aligned with the multilingual
model on a sample."""


@dataclass(frozen=True)
class _Entry:
    factory: Callable[[], Embedder]
    description: str


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
_instances: dict[str, Embedder] = {}


def register_embedder(name: str, factory: Callable[[], Embedder], *, description: str) -> None:
    """Make an embedder available under ``name``; registering a name again replaces it.

    Args:
        name: the registry name users pick (``EmbedConfig.model``).
        factory: builds the embedder; it must be cheap (no weights loaded), since
            it runs on the first ``get_embedder(name)``.
        description: one line shown in model pickers.

    Example:
        >>> register_embedder("mine", lambda: MyEmbedder(), description="My model")
    """
    if not name or not name.strip():
        raise ValueError("name must be a non-empty string")
    with _lock:
        _entries[name] = _Entry(factory, description)
        _instances.pop(name, None)


def unregister_embedder(name: str) -> None:
    """Remove ``name`` and forget its instance.

    Raises:
        UnknownModelError: ``name`` is not registered.
    """
    with _lock:
        if name not in _entries:
            raise UnknownModelError(name, _entries)
        del _entries[name]
        _instances.pop(name, None)


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder registered under ``name``, created on first request.

    Every caller (every Streamlit session, every thread) gets the same instance,
    so weights are loaded once, lazily, on its first ``embed``.

    Raises:
        UnknownModelError: ``name`` is not registered; the message lists valid names.
    """
    with _lock:
        embedder = _instances.get(name)
        if embedder is None:
            entry = _entries.get(name)
            if entry is None:
                raise UnknownModelError(name, _entries)
            embedder = entry.factory()
            _instances[name] = embedder
        return embedder


def available_embedders() -> dict[str, str]:
    """Registered names mapped to their descriptions, in registration order."""
    with _lock:
        return {name: entry.description for name, entry in _entries.items()}


def _minilm() -> Embedder:
    return SentenceTransformerEmbedder(
        bundled_minilm_path, MINILM_MODEL_ID, dimension=MINILM_DIMENSION
    )


register_embedder(
    DEFAULT_EMBEDDER,
    _minilm,
    description="English, fast: all-MiniLM-L6-v2 (384-d, bundled)",
)


def _minilm_teacher() -> Embedder:
    return SentenceTransformerEmbedder(
        bundled_minilm_path,
        f"{MINILM_MODEL_ID} (first {TEACHER_TOKENS} word pieces)",
        dimension=MINILM_DIMENSION,
        max_tokens=TEACHER_TOKENS,
    )


register_embedder(
    MULTILINGUAL_EMBEDDER,
    UniversalSentenceEncoderEmbedder,
    description="16 languages incl. Chinese: Universal Sentence Encoder multilingual v3 "
    "(512-d, bundled)",
)
register_embedder(
    FAST_EMBEDDER,
    StaticEmbedder,
    description="English, for large tables on the CPU: MiniLM distilled into a static "
    "model on this machine (256-d)",
)
register_embedder(
    TEACHER_EMBEDDER,
    _minilm_teacher,
    description="English: all-MiniLM-L6-v2 on each text's first "
    f"{TEACHER_TOKENS} word pieces (the fast mode's teacher; bundled)",
)
register_embedder(
    MULTILINGUAL_FAST_EMBEDDER,
    CharGramEmbedder,
    description="Any language, for large tables on the CPU: character 1-2-grams, hashed "
    "(256-d), with the table's own character topics, aligned with the multilingual model",
)
