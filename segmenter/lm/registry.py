"""Language-model backends by plain string name; one instance per name per process."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from segmenter.config import LMConfig
from segmenter.errors import ModelError, UnknownModelError
from segmenter.lm.base import TextGenerator
from segmenter.lm.bundled import qwen_installed, qwen_path, smollm2_path
from segmenter.lm.llamacpp import LlamaCppGenerator
from segmenter.lm.openai_compat import OpenAICompatibleGenerator
from segmenter.lm.prefix import campaign_prefix

DEFAULT_GENERATOR = "qwen2.5-coder-1.5b"
SMALL_GENERATOR = "smollm2-135m"
GGUF_FILE = "gguf"
OPENAI_SERVER = "openai"

QWEN_MIN_MEMORY = int(2.0 * 2**30)
"""Measured 1.8 GB resident while drafting, plus headroom."""
SMOLLM2_MIN_MEMORY = int(0.3 * 2**30)


@dataclass(frozen=True)
class _Entry:
    factory: Callable[[], TextGenerator]
    description: str


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}
_instances: dict[str, TextGenerator] = {}


def register_generator(
    name: str, factory: Callable[[], TextGenerator], *, description: str
) -> None:
    """Make a generator available under ``name``; registering a name again replaces it.

    ``factory`` must be cheap (no weights loaded): it runs on the first
    ``get_generator(name)``.
    """
    if not name or not name.strip():
        raise ValueError("name must be a non-empty string")
    with _lock:
        _entries[name] = _Entry(factory, description)
        _instances.pop(name, None)


def unregister_generator(name: str) -> None:
    """Remove ``name`` and forget its instance.

    Raises:
        UnknownModelError: ``name`` is not registered.
    """
    with _lock:
        if name not in _entries:
            raise UnknownModelError(name, _entries)
        del _entries[name]
        _instances.pop(name, None)


def available_generators() -> dict[str, str]:
    """Registered names mapped to their descriptions, in registration order."""
    with _lock:
        return {name: entry.description for name, entry in _entries.items()}


def default_generator_name() -> str:
    """The bundled default model when its packages are installed, else the small one."""
    return DEFAULT_GENERATOR if qwen_installed() else SMALL_GENERATOR


def get_generator(name: str) -> TextGenerator:
    """The process-wide generator registered under ``name``, created on first request.

    Raises:
        UnknownModelError: ``name`` is not registered; the message lists valid names.
    """
    with _lock:
        generator = _instances.get(name)
        if generator is None:
            entry = _entries.get(name)
            if entry is None:
                raise UnknownModelError(name, [*_entries, GGUF_FILE, OPENAI_SERVER])
            generator = entry.factory()
            _instances[name] = generator
        return generator


def generator_from_config(config: LMConfig) -> TextGenerator:
    """The generator ``config`` describes: a registry name, a GGUF file or a server.

    GGUF models are held once per process per file, like registered ones.

    Raises:
        ModelError: a GGUF or server choice without its file or address.
        UnknownModelError: any other unregistered name.
    """
    name = config.model
    if name == "auto":
        name = OPENAI_SERVER if config.base_url else default_generator_name()
    if name == OPENAI_SERVER:
        if not config.base_url:
            raise ModelError("Set the server's base URL (SEGMENTER_LM_BASE_URL) to use a server.")
        return OpenAICompatibleGenerator(
            config.base_url, config.api_model or "default", config.api_key
        )
    if name == GGUF_FILE:
        if config.gguf_path is None:
            raise ModelError("Give the path of a .gguf file (SEGMENTER_LM_GGUF) to use one.")
        path = config.gguf_path.expanduser().resolve()
        key = f"{GGUF_FILE}:{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
        with _lock:
            if key not in _instances:
                _instances[key] = LlamaCppGenerator(
                    path,
                    path.stem,
                    context_tokens=config.context_tokens,
                    gpu_layers=config.gpu_layers,
                )
            return _instances[key]
    return get_generator(name)


register_generator(
    DEFAULT_GENERATOR,
    lambda: LlamaCppGenerator(
        qwen_path,
        "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M",
        min_memory_bytes=QWEN_MIN_MEMORY,
        low_memory_hint=f"choose the smaller model '{SMALL_GENERATOR}' instead.",
        warm=campaign_prefix,
    ),
    description="Default: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (1.1 GB, bundled, ~15 tokens/s "
    "on 2 cores)",
)
register_generator(
    SMALL_GENERATOR,
    lambda: LlamaCppGenerator(
        smollm2_path,
        "SmolLM2-135M-Instruct-Q4_1",
        min_memory_bytes=SMOLLM2_MIN_MEMORY,
        low_memory_hint="close other programs and try again.",
    ),
    description="Small: SmolLM2-135M-Instruct (98 MB, bundled, fast; copy often drifts off the "
    "brief)",
)
