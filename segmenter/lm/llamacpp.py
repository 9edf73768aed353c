"""In-process llama.cpp backend through ``xllamacpp``: any GGUF file, CPU or CUDA."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from segmenter.errors import MissingDependencyError, ModelError
from segmenter.lm.base import Message
from segmenter.lm.bundled import available_memory_bytes

PARALLEL_REQUESTS = 2
"""Two users can draft at once; each gets half of the context window."""

REPEAT_PENALTY = 1.1
"""Small models loop ("I'm here to help again. I'm here to help again."); this curbs it."""

_DONE = object()


def _gpu_present(xllamacpp: Any) -> bool:
    try:
        devices = xllamacpp.get_device_info()
    except Exception:  # an old or CPU-only build: no device query means no GPU
        return False
    return any("CPU" not in str(device.get("type", "CPU")) for device in devices)


class LlamaCppGenerator:
    """A GGUF model run in this process by llama.cpp (``xllamacpp``).

    Args:
        model_path: the GGUF file, or a function that returns it (called on first
            use, so assembling the default model waits until someone drafts).
        model_id: the name recorded with every draft.
        min_memory_bytes: refuse to load when less memory than this is free,
            with ``low_memory_hint`` as the way out.
        context_tokens: the whole context window, shared by parallel requests.
        gpu_layers: layers to offload to a GPU; ``"auto"`` offloads all when the
            runtime sees a GPU, none otherwise.
        seed: a fixed sampling seed for repeatable output (tests, benchmarks); ``None``
            samples afresh each time, so "Regenerate" gives new copy.
    """

    is_local = True

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        model_id: str,
        *,
        min_memory_bytes: int = 0,
        low_memory_hint: str = "",
        context_tokens: int = 8192,
        gpu_layers: int | str = "auto",
        seed: int | None = None,
    ) -> None:
        self.model_id = model_id
        self._model_path = model_path
        self._min_memory_bytes = min_memory_bytes
        self._low_memory_hint = low_memory_hint
        self._context_tokens = context_tokens
        self._gpu_layers = gpu_layers
        self.seed = seed
        self._server: Any = None
        self._lock = threading.Lock()
        self.on_gpu = False
        self.last_timings: dict[str, float] = {}
        """llama.cpp's figures for the latest request: prompt and generation tokens and ms."""

    @property
    def is_loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._server is not None

    def load(self) -> None:
        """Load the weights now (idempotent, thread-safe); ``stream`` does this on first use."""
        with self._lock:
            if self._server is None:
                self._server = self._start_server()

    def _resolve_path(self) -> Path:
        path = self._model_path() if callable(self._model_path) else Path(self._model_path)
        if not path.is_file():
            raise ModelError(f"No GGUF model file at {path}: check the path.")
        return path

    def _start_server(self) -> Any:
        try:
            import xllamacpp  # noqa: PLC0415 - native library; loaded only when someone drafts
        except ImportError as error:
            raise MissingDependencyError("xllamacpp", "Drafting with a local model") from error
        path = self._resolve_path()
        free = available_memory_bytes()
        if free is not None and free < self._min_memory_bytes:
            raise ModelError(
                f"{self.model_id} needs about {self._min_memory_bytes / 2**30:.1f} GB of free "
                f"memory and only {free / 2**30:.1f} GB is free: {self._low_memory_hint}"
            )
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self._context_tokens
        params.n_parallel = PARALLEL_REQUESTS
        threads = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        params.warmup = False
        gpu = _gpu_present(xllamacpp)
        layers = (999 if gpu else 0) if self._gpu_layers == "auto" else int(self._gpu_layers)
        params.n_gpu_layers = layers
        self.on_gpu = gpu and layers > 0
        try:
            return xllamacpp.Server(params)
        except Exception as error:
            raise ModelError(
                f"Could not load {path.name} ({error}): is it a GGUF chat model "
                "that this llama.cpp build supports?"
            ) from error

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply as it is generated; closing the iterator stops generation."""
        self.load()
        request: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "repeat_penalty": REPEAT_PENALTY,
        }
        if self.seed is not None:
            request["seed"] = self.seed
        if json_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": dict(json_schema)},
            }
        pieces: queue.Queue[object] = queue.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            if isinstance(chunk, dict):
                if "error" in chunk:
                    pieces.put(ModelError(_error_message(chunk["error"])))
                    return True
                if "timings" in chunk:
                    self.last_timings = dict(chunk["timings"])
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        pieces.put(text)
            return cancelled.is_set()  # True tells llama.cpp to stop

        def work() -> None:
            try:
                self._server.handle_chat_completions(request, on_chunk)
            except Exception as error:  # surfaced to the consumer as a project error
                pieces.put(ModelError(f"{self.model_id} failed while drafting: {error}"))
            finally:
                pieces.put(_DONE)

        # llama.cpp releases the GIL, so other users' pages keep running while it works.
        threading.Thread(target=work, name=f"draft-{self.model_id}", daemon=True).start()
        try:
            while (item := pieces.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise item
                yield str(item)
        finally:
            cancelled.set()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r})"


def _error_message(error: Any) -> str:
    message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
    if "context size" in message:
        return f"The prompt is too long for the model ({message}); use fewer or shorter quotes."
    return f"The model refused the request: {message}"
