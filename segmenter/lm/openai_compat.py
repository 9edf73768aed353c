"""Any OpenAI-compatible chat server (Ollama, vLLM, LM Studio, llama-server) by base URL."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from segmenter.errors import MissingDependencyError, ModelError
from segmenter.lm.base import Message

NO_KEY = "no-key"
"""Local servers ignore the key, but the client requires one; never the user's environment's."""
TIMEOUT_SECONDS = 120.0


def _is_loopback(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAICompatibleGenerator:
    """Chat completions from a server at ``base_url``, through the ``openai`` client.

    The API key goes into this client only, so it is sent to ``base_url`` and to no
    other host. When the server rejects ``response_format`` (older servers do), the
    request is repeated without it and the schema is enforced by validation alone.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None) -> None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ModelError(
                f"{base_url!r} is not a server address: give one like http://localhost:11434/v1."
            )
        if not model.strip():
            raise ModelError("Name the model to use on the server (for Ollama, e.g. 'qwen2.5').")
        self.base_url = base_url.rstrip("/")
        self.model = model.strip()
        self.model_id = f"{self.model} @ {parsed.netloc}"
        self.is_local = _is_loopback(base_url)
        self._api_key = api_key or NO_KEY
        self._client: Any = None
        self.supports_json_schema = True

    def _get_client(self) -> Any:
        if self._client is None:
            try:
                import openai  # noqa: PLC0415 - only needed when a server is configured
            except ImportError as error:
                raise MissingDependencyError("openai", "Drafting through a server") from error
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=TIMEOUT_SECONDS,
                max_retries=1,
            )
        return self._client

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the reply as the server streams it; closing the iterator closes the request.

        ``avoid`` is not sent: a server's token ids are its own, so the caller's checks
        alone keep those words out."""
        import openai  # noqa: PLC0415 - see _get_client

        client = self._get_client()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if json_schema is not None and self.supports_json_schema:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": dict(json_schema)},
            }
        try:
            try:
                response = client.chat.completions.create(**request)
            except openai.BadRequestError:
                if "response_format" not in request:
                    raise
                self.supports_json_schema = False
                del request["response_format"]
                response = client.chat.completions.create(**request)
            with response:
                for chunk in response:
                    for choice in chunk.choices or ():
                        text = getattr(choice.delta, "content", None)
                        if text:
                            yield text
        except openai.AuthenticationError as error:
            raise ModelError(
                f"The server at {self.base_url} refused the API key: check the key."
            ) from error
        except openai.NotFoundError as error:
            raise ModelError(
                f"The server at {self.base_url} has no model {self.model!r} "
                "(or the base URL lacks /v1): check both."
            ) from error
        except openai.APIConnectionError as error:
            raise ModelError(
                f"Could not reach a language model server at {self.base_url}: "
                "check the address and that the server is running."
            ) from error
        except openai.APIStatusError as error:
            raise ModelError(
                f"The server at {self.base_url} answered {error.status_code}: {error.message}"
            ) from error

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"
