"""The ``TextGenerator`` protocol that every language-model backend satisfies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Message = Mapping[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""


@runtime_checkable
class TextGenerator(Protocol):
    """Streams a chat completion as text pieces.

    ``model_id`` names the exact model (it is recorded with every draft).
    ``is_local`` says whether text stays on this machine. Construction is cheap;
    weights load on first use and are held for the life of the instance.
    Closing the returned iterator early (the user pressed Stop) stops generation.
    """

    model_id: str
    is_local: bool

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the reply piece by piece; with ``json_schema``, constrain it to that schema
        where the backend can (others get the schema in the prompt and are validated after).
        ``avoid`` lists words the reply should not hold: backends that can bias tokens make
        them impossible to write, others ignore it (the caller's checks still apply).
        """
        ...
