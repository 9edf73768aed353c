"""In-process llama.cpp backend through ``xllamacpp``: any GGUF file, CPU or CUDA."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2

from segmenter.errors import MissingDependencyError, ModelError
from segmenter.lm.base import Message
from segmenter.lm.bundled import available_memory_bytes

PARALLEL_REQUESTS = 2
"""Two users can draft at once; each gets half of the context window."""

REPEAT_PENALTY = 1.1
"""Small models loop ("I'm here to help again. I'm here to help again."); this curbs it."""

DRAFT_MAX_TOKENS = 8
"""Tokens the draft model proposes per step in speculative decoding; the main model checks
them all in one pass, so accepted runs of tokens cost about one step."""
DRAFT_MIN_P = 0.75
"""The draft model stops proposing when it is less sure than this (llama-server's default)."""

_DONE = object()
log = logging.getLogger(__name__)


def physical_cores(sysfs: Path = Path("/sys/devices/system/cpu")) -> int:
    """Physical cores this process may run on (hyper-threads counted once).

    llama.cpp is limited by memory bandwidth and the vector units of each core: a second
    thread on the same core mostly waits, so one thread per physical core is fastest.
    """
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cores: set[tuple[str, str]] = set()
    try:
        for cpu in allowed:
            topology = sysfs / f"cpu{cpu}" / "topology"
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
            cores.add((package, core))
    except OSError:
        cores = set()
    return max(1, len(cores) or len(allowed) or (os.cpu_count() or 1))


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
        threads: CPU threads; ``None`` uses one per physical core (``physical_cores``).
        draft_model: a small GGUF model with the same vocabulary (or a function returning
            it, or ``None`` when it is not installed) for speculative decoding: it proposes
            a few tokens that the main model checks in one pass.
        warm: a function returning the messages whose prompt is the same for every draft
            (rules, brief); after loading, they are read once in the background so that
            llama.cpp's prompt cache holds them before the first draft arrives.
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
        threads: int | None = None,
        draft_model: Path | Callable[[], Path | None] | None = None,
        draft_tokens: int = DRAFT_MAX_TOKENS,
        warm: Callable[[], Sequence[Message]] | None = None,
    ) -> None:
        self.model_id = model_id
        self._model_path = model_path
        self._min_memory_bytes = min_memory_bytes
        self._low_memory_hint = low_memory_hint
        self._context_tokens = context_tokens
        self._gpu_layers = gpu_layers
        self.seed = seed
        self.threads = threads
        self._draft_model = draft_model
        self.draft_tokens = draft_tokens
        self._warm = warm
        self._warming: threading.Thread | None = None
        self._server: Any = None
        self._lock = threading.Lock()
        self.on_gpu = False
        self.draft_model_path: Path | None = None
        """The draft model in use for speculative decoding, once loaded (``None``: none)."""
        self._token_cache: dict[str, int | None] = {}
        self.last_timings: dict[str, float] = {}
        """llama.cpp's figures for the latest request: prompt and generation tokens and ms."""

    @property
    def is_loaded(self) -> bool:
        """Whether the weights are in memory."""
        return self._server is not None

    def load_in_background(self) -> None:
        """Start loading the weights (and warming the prompt cache) on a thread of its own,
        so that a page can get the model ready while the marketer writes the brief; the
        first draft then waits only for what is left. Does nothing once loaded."""
        if self._server is None and not self._lock.locked():
            threading.Thread(
                target=self._load_quietly, name=f"load-{self.model_id}", daemon=True
            ).start()

    def _load_quietly(self) -> None:
        try:
            self.load()
        except Exception:  # the first draft loads again and shows the error to the user
            log.warning("could not load %s in the background", self.model_id, exc_info=True)

    def load(self) -> None:
        """Load the weights now (idempotent, thread-safe); ``stream`` does this on first use."""
        with self._lock:
            if self._server is None:
                self._server = self._start_server()
                if self._warm is not None:
                    self._warming = threading.Thread(
                        target=self._warm_quietly, name=f"warm-{self.model_id}", daemon=True
                    )
                    self._warming.start()

    def _warm_quietly(self) -> None:
        if self._warm is None:
            return
        try:
            self.warm_prefix(self._warm())
        except Exception:  # warming is an optimisation: a failure only costs speed
            log.warning("could not warm the prompt cache of %s", self.model_id, exc_info=True)

    def warm_prefix(self, messages: Sequence[Message]) -> float:
        """Read ``messages`` into llama.cpp's prompt cache (one token generated, discarded),
        so that later prompts that start the same way skip that part. Returns seconds taken.
        """
        self.load()
        request = {
            "messages": [dict(m) for m in messages],
            "max_tokens": 1,
            "temperature": 0.0,
            "cache_prompt": True,
        }
        start = time.perf_counter()
        self._server.handle_chat_completions(request)
        return time.perf_counter() - start

    def token_ids(self, words: Sequence[str]) -> list[int]:
        """The single tokens that spell ``words`` (" free", "Free", "免费" …), for banning.

        A spelling that takes several tokens is left out: banning its pieces would ban
        other words too ("ship" + "ping"). Looked up once per word on the server's own
        tokenizer (its ``/tokenize`` route on the loopback address it listens on).
        """
        variants = {
            variant
            for word in words
            if word.strip()
            for spelled in {word.strip(), word.strip().capitalize()}
            for variant in (spelled, f" {spelled}")
        }
        missing = sorted(v for v in variants if v not in self._token_cache)
        if missing:
            self.load()
            address = self._server.listening_address
            for variant in missing:
                try:
                    answer = httpx2.post(
                        f"{address}/tokenize", json={"content": variant}, timeout=10
                    )
                    tokens = [int(t) for t in answer.json()["tokens"]]
                except Exception:  # banning is a first line; the checks are the second
                    log.warning("could not tokenize %r on %s", variant, self.model_id)
                    tokens = []
                self._token_cache[variant] = tokens[0] if len(tokens) == 1 else None
        return sorted({t for v in variants if (t := self._token_cache.get(v)) is not None})

    def _wait_for_warming(self) -> None:
        # A draft sent while the prefix is being read would land on the other, cold slot
        # and share the cores with it: waiting is never slower than that.
        warming = self._warming
        if warming is not None and warming is not threading.current_thread():
            warming.join()
            self._warming = None

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
        threads = self.threads or physical_cores()
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.verbosity = -1
        params.warmup = False
        gpu = _gpu_present(xllamacpp)
        layers = (999 if gpu else 0) if self._gpu_layers == "auto" else int(self._gpu_layers)
        params.n_gpu_layers = layers
        self.on_gpu = gpu and layers > 0
        draft = self._draft_model() if callable(self._draft_model) else self._draft_model
        if draft is not None:
            self._use_draft_model(xllamacpp, params, Path(draft), threads, layers)
        try:
            return xllamacpp.Server(params)
        except Exception as error:
            raise ModelError(
                f"Could not load {path.name} ({error}): is it a GGUF chat model "
                "that this llama.cpp build supports?"
            ) from error

    def _use_draft_model(
        self, xllamacpp: Any, params: Any, path: Path, threads: int, layers: int
    ) -> None:
        if not path.is_file():
            raise ModelError(f"No GGUF draft model file at {path}: check the path.")
        spec = params.speculative
        spec.types = [xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
        spec.draft.mparams.path = str(path)
        spec.draft.n_max = self.draft_tokens
        spec.draft.p_min = DRAFT_MIN_P
        spec.draft.n_gpu_layers = layers
        spec.draft.cpuparams.n_threads = threads
        spec.draft.cpuparams_batch.n_threads = threads
        self.draft_model_path = path

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: Mapping[str, Any] | None = None,
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the reply as it is generated; closing the iterator stops generation.

        Each word of ``avoid`` is made impossible in its common spellings (with and without
        a leading space, lower case and capitalised) wherever that spelling is one token.
        """
        self.load()
        self._wait_for_warming()
        request: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "repeat_penalty": REPEAT_PENALTY,
        }
        if self.seed is not None:
            request["seed"] = self.seed
        banned = self.token_ids(avoid)
        if banned:
            request["logit_bias"] = [[token, False] for token in banned]
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
