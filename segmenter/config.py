"""Settings for each stage as frozen dataclasses, with ``from_env()`` for deployment overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from segmenter.errors import SegmenterError

MAX_UPLOAD_MB = 200
"""Largest file we read; matches ``server.maxUploadSize`` in ``.streamlit/config.toml``."""

MIN_ROWS = 10
"""Fewer rows than this cannot form more than one meaningful segment."""

SegmentBy = Literal["both", "text", "columns"]
"""What segments are built from: text and columns (the default), text only, columns only."""
SEGMENT_BY_CHOICES: tuple[SegmentBy, ...] = ("both", "text", "columns")
SEGMENT_BY_LABELS: dict[SegmentBy, str] = {
    "both": "Text and columns",
    "text": "Text only",
    "columns": "Columns only",
}
"""How the Settings form names each choice."""


def default_cache_dir() -> Path:
    """Where embeddings and other per-user caches live (``SEGMENTER_CACHE_DIR`` overrides)."""
    env = os.environ.get("SEGMENTER_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "segmenter"


def _embed_mode(value: str) -> Literal["auto", "accurate", "fast"]:
    if value not in ("auto", "accurate", "fast"):
        raise SegmenterError(
            f"SEGMENTER_EMBED_MODE={value!r} is not a mode: use auto, accurate or fast."
        )
    return value  # type: ignore[return-value]


def _batch_size(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SegmenterError(
            f"SEGMENTER_BATCH_SIZE={value!r} is not a batch size: use a whole number from 1, "
            "or leave it unset for the automatic choice."
        )
    return int(value)


@dataclass(frozen=True)
class EmbedConfig:
    """Which embedding model to use and how.

    ``model`` is a registry name (see ``segmenter.embedding.available_embedders``)
    or ``"auto"``, which picks the multilingual model when much of the text is
    in a non-Latin script.
    """

    model: str = "auto"
    batch_size: int | None = None
    """Texts per forward pass; ``None`` picks 64 on a CPU and 512 on a CUDA device."""
    cache_dir: Path = field(default_factory=default_cache_dir)
    use_cache: bool = True
    sentiment_model: str = "multilingual"
    """Embedder for feedback sentiment (it must read Chinese too); ``"none"`` skips it."""
    mode: Literal["auto", "accurate", "fast"] = "auto"
    """``"auto"`` switches an automatically chosen MiniLM to the fast static model when
    there is no GPU and at least ``fast_min_texts`` distinct texts; the other two force it."""
    fast_min_texts: int = 20_000

    @classmethod
    def from_env(cls) -> EmbedConfig:
        """Build from ``SEGMENTER_EMBEDDER``, ``SEGMENTER_BATCH_SIZE``, ``SEGMENTER_CACHE_DIR``,
        ``SEGMENTER_SENTIMENT_MODEL`` and ``SEGMENTER_EMBED_MODE``."""
        return cls(
            model=os.environ.get("SEGMENTER_EMBEDDER", "auto"),
            batch_size=_batch_size(os.environ.get("SEGMENTER_BATCH_SIZE")),
            cache_dir=default_cache_dir(),
            sentiment_model=os.environ.get("SEGMENTER_SENTIMENT_MODEL", "multilingual"),
            mode=_embed_mode(os.environ.get("SEGMENTER_EMBED_MODE", "auto")),
        )


@dataclass(frozen=True)
class ClusterConfig:
    """How features are fused, reduced and clustered.

    ``text_weight`` is the share of the fused feature space given to the text
    embedding (the rest goes to structured columns); ``n_segments`` is a count or
    ``"auto"`` (best silhouette within ``k_min..k_max``). ``segment_by`` chooses the inputs
    (text and columns, text only, columns only) and ``exclude_columns`` names numeric, date
    or categorical columns left out of the segmentation (they are still profiled);
    ``segment_dates`` adds date columns to it.
    """

    n_segments: int | Literal["auto"] = "auto"
    # Two segments are rarely actionable for a campaign, and silhouette on a UMAP
    # projection favours k=2 (it merges well-separated themes); start the search at 3.
    k_min: int = 3
    k_max: int = 10
    text_weight: float = 0.6
    cluster_dims: int = 5
    map_dims: Literal[2, 3] = 2
    min_segment_size: int = 10
    random_state: int = 0
    silhouette_sample: int = 5000
    n_neighbors: int | Literal["auto"] = "auto"
    segment_by: SegmentBy = "both"
    exclude_columns: tuple[str, ...] = ()
    segment_dates: bool = False
    """Date columns join the segmentation only when asked (``fusion.InputSelection.dates``);
    they are profiled either way."""

    @classmethod
    def from_env(cls) -> ClusterConfig:
        """Build from ``SEGMENTER_SEED`` (other settings come from the UI or CLI)."""
        return cls(random_state=int(os.environ.get("SEGMENTER_SEED", "0")))


@dataclass(frozen=True)
class LMConfig:
    """Which language model drafts copy, and how to reach it.

    ``model`` is a registry name (see ``segmenter.lm.available_generators``),
    ``"gguf"`` for the file at ``gguf_path``, ``"openai"`` for the OpenAI-compatible
    server at ``base_url`` (Ollama, vLLM, LM Studio, llama-server), or ``"auto"``:
    the server when ``base_url`` is set, else the bundled default model.
    The API key is sent to ``base_url`` and nowhere else.
    """

    model: str = "auto"
    gguf_path: Path | None = None
    base_url: str | None = None
    api_model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    context_tokens: int = 8192
    gpu_layers: int | Literal["auto"] = "auto"

    @classmethod
    def from_env(cls) -> LMConfig:
        """Build from ``SEGMENTER_LM`` (a model name), ``SEGMENTER_LM_GGUF`` (a file),
        ``SEGMENTER_LM_BASE_URL``, ``SEGMENTER_LM_API_MODEL`` and ``SEGMENTER_LM_API_KEY``.
        """
        gguf = os.environ.get("SEGMENTER_LM_GGUF")
        return cls(
            model=os.environ.get("SEGMENTER_LM", "auto"),
            gguf_path=Path(gguf) if gguf else None,
            base_url=os.environ.get("SEGMENTER_LM_BASE_URL") or None,
            api_model=os.environ.get("SEGMENTER_LM_API_MODEL") or None,
            api_key=os.environ.get("SEGMENTER_LM_API_KEY") or None,
        )
