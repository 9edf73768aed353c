"""The embedding stage, decided once for both engines: which model (and whether a GPU is
there), the batch size, embedding through the cache, and the fast mode's features (the
static vectors joined with the table's own topics, then aligned with MiniLM).

The local engine (``pipeline``) runs these on the whole table; the Ray engine
(``distributed.embedding``) runs the same functions on a sample of the texts (the choice)
and on each batch (the embedding and the features).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from segmenter.config import EmbedConfig
from segmenter.embedding import (
    DEFAULT_EMBEDDER,
    FAST_EMBEDDER,
    MULTILINGUAL_EMBEDDER,
    MULTILINGUAL_FAST_EMBEDDER,
    TEACHER_EMBEDDER,
    EmbeddingCache,
    EmbeddingResult,
    choose_embedder_name,
    embed_texts,
    get_embedder,
)
from segmenter.embedding.lexical import LexicalModel, fit_table_topics
from segmenter.embedding.teacher import Alignment, fit_alignment, teacher_rows

Progress = Callable[[str, float], None]
"""Called with a description of the current step and the fraction done (0..1)."""


def no_progress(_message: str, _fraction: float) -> None:
    return None


CPU_BATCH_SIZE = 64
"""On a CPU, larger batches are no faster (measured 32 to 128) and only pad more."""
GPU_BATCH_SIZE = 512
"""On a GPU, small batches leave it idle between Python calls."""


@dataclass(frozen=True)
class FastMode:
    """A fast embedding mode: a static ``embedder`` joined with topics from the table's own
    words (or characters, for scripts without spaces) and aligned with the accurate model
    (``teacher``) on a sample of the table's texts."""

    embedder: str
    accurate: str
    teacher: str
    topics_by: str  # "word" or "char" (``lexical.fit_lexical``)
    teacher_name: str  # how the page names the teacher


FAST_MODES = {
    FAST_EMBEDDER: FastMode(FAST_EMBEDDER, DEFAULT_EMBEDDER, TEACHER_EMBEDDER, "word", "MiniLM"),
    MULTILINGUAL_FAST_EMBEDDER: FastMode(
        MULTILINGUAL_FAST_EMBEDDER,
        MULTILINGUAL_EMBEDDER,
        MULTILINGUAL_EMBEDDER,
        "char",
        "the multilingual model",
    ),
}
"""Each fast embedder's mode; the accurate models switch to theirs in ``resolve_embedder_name``."""


def fast_mode(name: str | None) -> FastMode | None:
    """The fast mode of embedder ``name`` (``None`` for an accurate model)."""
    return FAST_MODES.get(name) if name is not None else None


def has_gpu() -> bool:
    """Whether torch sees a CUDA device (False when torch is not installed)."""
    try:
        import torch  # noqa: PLC0415 - seconds to import; only asked for large tables
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def batch_size(config: EmbedConfig, gpu: bool) -> int:
    """Texts per embedding call: the configured size, else one for the device."""
    return config.batch_size or (GPU_BATCH_SIZE if gpu else CPU_BATCH_SIZE)


def distinct_texts(docs: Sequence[str]) -> int:
    """How many different non-empty texts there are to embed."""
    return len({doc for doc in docs if doc.strip()})


def has_any_text(docs: Sequence[str]) -> bool:
    """Whether at least one row has text to embed."""
    return any(doc.strip() for doc in docs)


def resolve_embedder_name(
    docs: Sequence[str],
    config: EmbedConfig,
    *,
    n_rows: int | None = None,
    gpu: bool | None = None,
) -> str:
    """The registry name to embed with: the configured one, or the automatic choice.

    The automatic choice is MiniLM for mostly Latin-script text and the multilingual model
    otherwise; each becomes its fast mode (``FAST_MODES``) in ``"fast"`` mode, and in
    ``"auto"`` mode without a GPU when there are at least ``config.fast_min_texts`` distinct
    texts.
    ``docs`` may be a uniform sample of a table of ``n_rows`` rows (the distinct texts are
    then estimated); ``gpu`` is asked of torch (``has_gpu``) when not given, and only then.
    """
    name = choose_embedder_name(docs) if config.model == "auto" else config.model
    fast = next((m.embedder for m in FAST_MODES.values() if m.accurate == name), None)
    if fast is None or config.mode == "accurate":
        return name
    if config.mode == "fast":
        return fast
    if config.model != "auto":
        return name
    scale = max(1.0, (n_rows or len(docs)) / max(len(docs), 1))
    if distinct_texts(docs) * scale >= config.fast_min_texts and not (
        has_gpu() if gpu is None else gpu
    ):
        return fast
    return name


def embed_documents(
    docs: Sequence[str],
    name: str,
    config: EmbedConfig,
    progress: Progress = no_progress,
    *,
    gpu: bool | None = None,
) -> EmbeddingResult | None:
    """Embed the documents with embedder ``name`` (``None`` when no row has text),
    through the on-disk cache."""
    if not has_any_text(docs):
        return None
    embedder = get_embedder(name)
    worth_caching = getattr(embedder, "worth_caching", True)
    use_cache = config.use_cache and worth_caching
    cache = EmbeddingCache(config.cache_dir / "embeddings") if use_cache else None

    def report(done: int, total: int) -> None:
        progress(
            f"Embedding text with {name}: {done:,} of {total:,} new texts", done / max(total, 1)
        )

    size = batch_size(config, has_gpu() if gpu is None else gpu)
    return embed_texts(docs, embedder, cache=cache, batch_size=size, progress=report)


def embedding_note(name: str | None, docs: Sequence[str]) -> str | None:
    """A line telling the user that a fast mode was chosen, and why (else ``None``)."""
    mode = fast_mode(name)
    if mode is None:
        return None
    taught = len(teacher_rows(sum(1 for doc in docs if doc.strip())))
    aligned = f" and aligned with {mode.teacher_name} on {taught:,} of your texts" if taught else ""
    if mode.topics_by == "char":
        what = (
            "the characters each text uses, joined with topics from your table's own "
            f"characters{aligned}. Many times faster than the multilingual model on a CPU; "
            "choose the text model multilingual under Settings (or --embed-mode accurate) "
            "for the accurate mode."
        )
    else:
        what = (
            "MiniLM distilled into a static model on this machine, joined with topics from "
            f"your table's own words{aligned}. About 30 times faster than MiniLM on a CPU, "
            "with about 90% of its segment quality; choose the text model minilm under "
            "Settings (or --embed-mode accurate) for the accurate mode."
        )
    return f"Fast embedding mode for {distinct_texts(docs):,} texts: {what}"


def fast_features(
    vectors: np.ndarray, topics: np.ndarray | None, alignment: Alignment | None = None
) -> np.ndarray:
    """The fast mode's features of some rows: static ``vectors`` joined with their table
    ``topics`` (each half at unit length, so both weigh the same), then, with an
    ``alignment``, joined with their MiniLM-aligned half."""
    features: np.ndarray = np.asarray(vectors, dtype=np.float32)
    if topics is not None and topics.shape[1]:
        features = np.hstack([features, topics]) / np.float32(np.sqrt(2.0))
    if alignment is not None:
        features = alignment.transform(features)
    return features.astype(np.float32, copy=False)


def teacher_alignment(
    features: np.ndarray,
    texts: Sequence[str],
    config: EmbedConfig,
    progress: Progress,
    mode: FastMode = FAST_MODES[FAST_EMBEDDER],
) -> Alignment:
    """The alignment of the fast ``features`` of the rows of ``teacher_rows`` with the
    teacher's vectors of their ``texts`` (``embedding/teacher.py``)."""
    step = f"Aligning the fast model with {mode.teacher_name} on {len(texts):,} sampled texts"
    progress(step, 0.0)

    def report(message: str, fraction: float) -> None:  # not the registry's internal name
        progress(f"{step}: {message.rsplit(': ', 1)[-1]}", fraction)

    teacher = embed_documents(texts, mode.teacher, config, report)
    assert teacher is not None  # the taught rows have text
    return fit_alignment(features, teacher.vectors)


@dataclass(frozen=True)
class FastTextModel:
    """What the fast mode learnt from a table: its topics and the alignment with MiniLM;
    ``features`` gives any other texts (with their static vectors) their fast features."""

    topics: LexicalModel | None
    alignment: Alignment | None

    def features(
        self, docs: Sequence[str], vectors: np.ndarray, has_text: np.ndarray
    ) -> np.ndarray:
        """The fast features of ``docs``, as ``text_features`` gave the fitted table's."""
        topics = self.topics.transform(docs, has_text) if self.topics is not None else None
        return fast_features(vectors, topics, self.alignment)


def text_features(
    docs: Sequence[str],
    embedding: EmbeddingResult,
    config: EmbedConfig | None = None,
    progress: Progress = no_progress,
) -> np.ndarray:
    """What the segmenter clusters on: the embedding; for the fast static model, joined with
    lexical topics and aligned with MiniLM on the texts of ``teacher_rows``."""
    return fit_text_features(docs, embedding, config, progress)[0]


def fit_text_features(
    docs: Sequence[str],
    embedding: EmbeddingResult,
    config: EmbedConfig | None = None,
    progress: Progress = no_progress,
) -> tuple[np.ndarray, FastTextModel | None]:
    """``text_features`` and, in the fast mode, the ``FastTextModel`` that gives new texts
    theirs (``None`` for the other models, whose vectors are the features)."""
    mode = next(
        (m for m in FAST_MODES.values() if get_embedder(m.embedder).model_id == embedding.model_id),
        None,
    )
    if mode is None:
        return embedding.vectors, None
    topics, lexical = fit_table_topics(docs, embedding.has_text, by=mode.topics_by)
    features = fast_features(embedding.vectors, topics)
    rows = np.flatnonzero(embedding.has_text)
    chosen = rows[teacher_rows(len(rows))]
    if not len(chosen):  # too few texts to learn the alignment from
        return features, FastTextModel(lexical, None)
    texts = [docs[int(i)] for i in chosen]
    alignment = teacher_alignment(features[chosen], texts, config or EmbedConfig(), progress, mode)
    return alignment.transform(features), FastTextModel(lexical, alignment)
