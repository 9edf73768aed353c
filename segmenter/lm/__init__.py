"""Language-model backends: a ``TextGenerator`` protocol, a registry, llama.cpp and servers.

>>> from segmenter.lm import get_generator
>>> "".join(get_generator("smollm2-135m").stream(messages, max_tokens=64, temperature=0.7))
"""

from segmenter.lm.base import Message, TextGenerator
from segmenter.lm.registry import (
    DEFAULT_GENERATOR,
    GGUF_FILE,
    OPENAI_SERVER,
    SMALL_GENERATOR,
    available_generators,
    default_generator_name,
    generator_from_config,
    get_generator,
    register_generator,
    unregister_generator,
)

__all__ = [
    "DEFAULT_GENERATOR",
    "GGUF_FILE",
    "OPENAI_SERVER",
    "SMALL_GENERATOR",
    "Message",
    "TextGenerator",
    "available_generators",
    "default_generator_name",
    "generator_from_config",
    "get_generator",
    "register_generator",
    "unregister_generator",
]
