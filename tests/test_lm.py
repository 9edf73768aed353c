"""Language-model backends: registry, bundled files, llama.cpp with SmolLM2, a fake server."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from segmenter.campaign import CampaignBrief, draft_campaign
from segmenter.campaign.rules import forbidden_chars
from segmenter.config import LMConfig
from segmenter.errors import ModelError, UnknownModelError
from segmenter.lm import (
    SMALL_GENERATOR,
    available_generators,
    bundled,
    generator_from_config,
    get_generator,
    llamacpp,
)
from segmenter.lm.llamacpp import LlamaCppGenerator
from segmenter.lm.openai_compat import OpenAICompatibleGenerator
from segmenter.profile import SegmentProfile

SECRET_EMAIL = "vip.customer@example.com"


def profile_with_personal_data() -> SegmentProfile:
    return SegmentProfile(
        segment_id=3,
        name="Late parcels",
        size=120,
        share=0.3,
        numeric=(),
        categories=(),
        keywords=("late delivery", "parcel"),
        examples=(f"My parcel is late again, email me at {SECRET_EMAIL}",),
        language="en",
    )


# --- registry and configuration ----------------------------------------------------------


def test_unknown_model_lists_the_choices() -> None:
    with pytest.raises(UnknownModelError, match="qwen2.5-coder-1.5b, smollm2-135m"):
        get_generator("gpt-17")
    assert {"qwen2.5-coder-1.5b", "smollm2-135m"} <= set(available_generators())


def test_one_instance_per_name_and_no_weights_at_construction() -> None:
    small = get_generator(SMALL_GENERATOR)
    assert small is get_generator(SMALL_GENERATOR)
    assert isinstance(small, LlamaCppGenerator)


def test_config_routes_to_a_server_a_file_or_a_name(tmp_path: Path) -> None:
    server = generator_from_config(
        LMConfig(base_url="http://127.0.0.1:9/v1", api_model="qwen2.5", api_key="k")
    )
    assert isinstance(server, OpenAICompatibleGenerator)
    assert server.model_id == "qwen2.5 @ 127.0.0.1:9" and server.is_local
    model_file = tmp_path / "mine.gguf"
    model_file.write_bytes(b"GGUF")
    local = generator_from_config(LMConfig(model="gguf", gguf_path=model_file))
    assert local.model_id == "mine"
    assert local is generator_from_config(LMConfig(model="gguf", gguf_path=model_file))
    with pytest.raises(ModelError, match="base URL"):
        generator_from_config(LMConfig(model="openai"))
    with pytest.raises(ModelError, match=r"\.gguf file"):
        generator_from_config(LMConfig(model="gguf"))
    with pytest.raises(ModelError, match="not a server address"):
        OpenAICompatibleGenerator("localhost:11434", "m")


def test_the_api_key_never_shows_in_a_repr() -> None:
    config = LMConfig(base_url="https://llm.example.com/v1", api_key="sk-secret")
    assert "sk-secret" not in repr(config)
    assert "sk-secret" not in repr(generator_from_config(config))


def test_lm_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTER_LM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("SEGMENTER_LM_API_MODEL", "qwen2.5")
    config = LMConfig.from_env()
    assert config.model == "auto" and config.api_model == "qwen2.5"
    assert isinstance(generator_from_config(config), OpenAICompatibleGenerator)


# --- the bundled default model's chunks ------------------------------------------------------


def test_chunks_assemble_and_are_verified(tmp_path: Path) -> None:
    chunks = []
    for index, content in enumerate([b"first-", b"second-", b"third"]):
        chunk = tmp_path / f"part{index:02d}.bin"
        chunk.write_bytes(content)
        chunks.append(chunk)
    target = tmp_path / "models" / "model.gguf"
    digest = hashlib.sha256(b"first-second-third").hexdigest()
    assert bundled.assemble_chunks(chunks, target, digest).read_bytes() == b"first-second-third"
    assert bundled._verified(target)
    target.write_bytes(b"tampered")
    assert not bundled._verified(target)


def test_chunks_with_the_wrong_checksum_are_refused(tmp_path: Path) -> None:
    chunk = tmp_path / "part01.bin"
    chunk.write_bytes(b"not the model")
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelError, match="not the expected"):
        bundled.assemble_chunks([chunk], target, "0" * 64)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [chunk]  # no partial file left behind


def test_missing_default_model_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "qwen_chunk_paths", lambda: None)
    with pytest.raises(ModelError, match="make model"):
        bundled.qwen_path()


def test_too_little_memory_names_the_smaller_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_file = tmp_path / "big.gguf"
    model_file.write_bytes(b"GGUF")
    monkeypatch.setattr(llamacpp, "available_memory_bytes", lambda: 512 * 2**20)
    generator = LlamaCppGenerator(
        model_file,
        "big",
        min_memory_bytes=2 * 2**30,
        low_memory_hint="choose the smaller model 'smollm2-135m' instead.",
    )
    with pytest.raises(ModelError, match=r"2\.0 GB of free memory.*'smollm2-135m'"):
        generator.load()


def test_available_memory_is_read() -> None:
    free = bundled.available_memory_bytes()
    assert free is None or free > 0


# --- the real small model through llama.cpp --------------------------------------------------


@pytest.mark.model
def test_smollm2_drafts_an_email_in_the_requested_structure() -> None:
    generator = LlamaCppGenerator(bundled.smollm2_path, "SmolLM2-135M-Instruct-Q4_1", seed=7)
    streamed: list[str] = []
    [draft] = draft_campaign(
        profile_with_personal_data(),
        CampaignBrief(channel="email", goal="win_back", offer="free express delivery"),
        generator,
        on_text=lambda _variant, text: streamed.append(text),
    )
    assert set(draft.fields) == {"subject", "body", "call_to_action"}
    assert all(value.strip() for value in draft.fields.values())
    assert len(draft.fields["subject"]) <= 70 and len(draft.fields["call_to_action"]) <= 30
    # The grammar, not the checks, keeps brackets, digits of any script and money out.
    assert not any(forbidden_chars(value, "email") for value in draft.fields.values())
    assert len(streamed) > 5  # tokens arrived one by one
    assert draft.model_id == "SmolLM2-135M-Instruct-Q4_1"


@pytest.mark.model
def test_closing_the_stream_stops_the_model() -> None:
    generator = get_generator(SMALL_GENERATOR)
    messages = [{"role": "user", "content": "Write a very long story about a lighthouse."}]
    stream = generator.stream(messages, max_tokens=2000, temperature=0.7)
    start = time.perf_counter()
    pieces = [next(stream) for _ in range(3)]
    stream.close()
    # A second request is served at once: the first one is no longer generating.
    again = "".join(generator.stream(messages, max_tokens=5, temperature=0.0))
    assert all(pieces) and again
    assert time.perf_counter() - start < 20


@pytest.mark.model
def test_words_to_avoid_cannot_be_written() -> None:
    generator = get_generator(SMALL_GENERATOR)
    assert isinstance(generator, LlamaCppGenerator)
    # Each spelling that is one token is banned: " the", "The", "the", " The".
    assert len(generator.token_ids(["the"])) >= 2
    messages = [{"role": "user", "content": "Describe the sea and the sky in two sentences."}]
    free = "".join(generator.stream(messages, max_tokens=40, temperature=0.0))
    kept = "".join(generator.stream(messages, max_tokens=40, temperature=0.0, avoid=["the"]))
    assert re.search(r"\bthe\b", free, re.IGNORECASE)  # unbiased, the model writes it
    assert not re.search(r"\bthe\b", kept, re.IGNORECASE), kept


@pytest.mark.model
def test_a_page_can_load_the_model_while_the_brief_is_written() -> None:
    generator = LlamaCppGenerator(bundled.smollm2_path, "smollm2-background", threads=1)
    assert not generator.is_loaded
    generator.load_in_background()
    deadline = time.perf_counter() + 60
    while not generator.is_loaded and time.perf_counter() < deadline:
        time.sleep(0.2)
    assert generator.is_loaded
    generator.load_in_background()  # loaded: nothing more happens
    reply = "".join(
        generator.stream([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    )
    assert reply


# --- an OpenAI-compatible server on 127.0.0.1 ------------------------------------------------


class FakeChatServer(ThreadingHTTPServer):
    """Answers /v1/chat/completions with a streamed reply; records what it was sent."""

    def __init__(self, reply: str, reject_response_format: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.reply = reply
        self.reject_response_format = reject_response_format
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _ChatHandler(BaseHTTPRequestHandler):
    server: FakeChatServer

    def log_message(self, *_args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        self.server.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found"}})
            return
        if self.server.reject_response_format and "response_format" in body:
            self._send_json(400, {"error": {"message": "response_format is not supported"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        reply = self.server.reply
        for start in range(0, len(reply), 5):
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "delta": {"content": reply[start : start + 5]},
                        "finish_reason": None,
                    }
                ],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def chat_server(request: pytest.FixtureRequest) -> Iterator[FakeChatServer]:
    options = getattr(request, "param", {})
    reply = json.dumps({"text": "Your parcel is on its way: track it in the app."})
    server = FakeChatServer(reply, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_server_backend_streams_a_checked_draft_with_masked_text(
    chat_server: FakeChatServer,
) -> None:
    generator = OpenAICompatibleGenerator(chat_server.base_url, "qwen2.5", api_key="sk-test")
    [draft] = draft_campaign(profile_with_personal_data(), CampaignBrief(channel="sms"), generator)
    assert draft.ok and draft.fields["text"].startswith("Your parcel")
    [request] = chat_server.requests
    assert request["model"] == "qwen2.5" and request["stream"] is True
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["text"]
    assert SECRET_EMAIL not in json.dumps(request) and "[email]" in json.dumps(request)
    assert chat_server.headers_seen[0]["authorization"] == "Bearer sk-test"


def test_the_users_environment_key_is_not_sent(
    chat_server: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")
    generator = OpenAICompatibleGenerator(chat_server.base_url, "llama3")
    "".join(generator.stream([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0))
    assert "sk-from-environment" not in json.dumps(chat_server.headers_seen)


@pytest.mark.parametrize("chat_server", [{"reject_response_format": True}], indirect=True)
def test_a_server_without_json_schema_support_is_asked_again_without_it(
    chat_server: FakeChatServer,
) -> None:
    generator = OpenAICompatibleGenerator(chat_server.base_url, "old-model")
    [draft] = draft_campaign(profile_with_personal_data(), CampaignBrief(channel="sms"), generator)
    assert draft.ok
    assert ["response_format" in r for r in chat_server.requests] == [True, False]
    assert generator.supports_json_schema is False


def test_an_unreachable_server_is_one_clear_message() -> None:
    generator = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "qwen2.5")
    with pytest.raises(ModelError, match=r"Could not reach .*127\.0\.0\.1:9"):
        list(generator.stream([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0))


def test_a_wrong_model_name_is_one_clear_message(chat_server: FakeChatServer) -> None:
    generator = OpenAICompatibleGenerator(chat_server.base_url.removesuffix("/v1"), "qwen2.5")
    with pytest.raises(ModelError, match="has no model 'qwen2.5'"):
        list(generator.stream([{"role": "user", "content": "hi"}], max_tokens=5, temperature=0))


@pytest.mark.model
def test_drafting_leaves_other_users_running() -> None:
    """llama.cpp releases the GIL, and two requests are served side by side."""
    generator = get_generator(SMALL_GENERATOR)
    messages = [{"role": "user", "content": "Write a short poem about the sea."}]
    outputs: list[str] = []

    def draft() -> None:
        outputs.append("".join(generator.stream(messages, max_tokens=120, temperature=0.7)))

    workers = [threading.Thread(target=draft) for _ in range(2)]
    for worker in workers:
        worker.start()
    ticks = 0
    start = time.perf_counter()
    while any(w.is_alive() for w in workers) and time.perf_counter() - start < 1.0:
        ticks += 1
        time.sleep(0.001)
    for worker in workers:
        worker.join(timeout=60)
    assert len(outputs) == 2 and all(outputs)
    assert ticks > 100  # a page's script thread kept running while the model worked


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """A real OpenAI-compatible server: llama.cpp's own, serving SmolLM2 on 127.0.0.1."""
    import xllamacpp  # noqa: PLC0415 - only the model tests need the native library

    params = xllamacpp.CommonParams()
    params.model.path = str(bundled.smollm2_path())
    params.model_alias = "smollm2"
    params.n_ctx = 4096
    params.verbosity = -1
    params.warmup = False
    server = xllamacpp.Server(params)
    yield server.listening_address.rstrip("/") + "/v1"
    del server


@pytest.mark.model
def test_a_real_server_drafts_by_configuration_alone(
    llama_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from segmenter.cli import main  # noqa: PLC0415

    (tmp_path / "profiles.json").write_text(json.dumps([profile_with_personal_data().to_dict()]))
    monkeypatch.setenv("SEGMENTER_LM_BASE_URL", llama_server)
    monkeypatch.setenv("SEGMENTER_LM_API_MODEL", "smollm2")
    assert main(["draft", str(tmp_path), "--segment", "3", "--channel", "sms"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["model"].startswith("smollm2 @ 127.0.0.1:")
    assert set(record["fields"]) == {"text"} and 0 < len(record["fields"]["text"]) <= 160


# --- speed levers: threads, prefix warming, speculative decoding ------------------------------


def test_threads_default_to_physical_cores_counting_hyperthreads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cpu, core in enumerate([0, 0, 1, 1]):  # two cores, two hyper-threads each
        topology = tmp_path / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text("0\n")
        (topology / "core_id").write_text(f"{core}\n")
    monkeypatch.setattr(llamacpp.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    assert llamacpp.physical_cores(tmp_path) == 2
    assert llamacpp.physical_cores(tmp_path / "missing") == 4  # no topology: every CPU


def test_campaign_prefix_is_the_start_of_every_segment_prompt() -> None:
    from segmenter.campaign import build_messages
    from segmenter.lm.prefix import campaign_prefix

    prefix = campaign_prefix()
    assert prefix and prefix[0]["role"] == "system" and len(prefix[0]["content"]) > 200
    other = SegmentProfile(
        segment_id=9, name="Wine lovers", size=40, share=0.05, numeric=(), categories=(),
        keywords=("wine", "cellar"), examples=("Loved the red wine selection",), language="en",
    )  # fmt: skip
    for profile in (profile_with_personal_data(), other):
        messages = build_messages(profile, CampaignBrief())
        for fixed, real in zip(prefix, messages, strict=False):
            assert fixed["role"] == real["role"]
            assert real["content"].startswith(fixed["content"])


def test_common_prefix_cuts_the_first_differing_message_at_a_shared_line() -> None:
    from segmenter.lm.prefix import common_prefix

    a = [{"role": "system", "content": "rules"}, {"role": "user", "content": "brief\nseg A"}]
    b = [{"role": "system", "content": "rules"}, {"role": "user", "content": "brief\nseg B"}]
    assert common_prefix(a, b) == [*a[:1], {"role": "user", "content": "brief\n"}]
    assert common_prefix(a, [{"role": "system", "content": "other"}]) == []


class RecordingServer:
    """Stands in for ``xllamacpp.Server``: records requests, answers one JSON piece."""

    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.delay = delay

    def handle_chat_completions(self, request: dict[str, Any], callback: Any = None) -> Any:
        time.sleep(self.delay)
        self.requests.append(request)
        if callback is None:
            return {"choices": [{"message": {"content": "x"}}]}
        callback({"choices": [{"delta": {"content": '{"text": "hi"}'}}]})
        return None


def test_warming_reads_the_fixed_prefix_before_the_first_draft(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RecordingServer(delay=0.2)
    prefix = [{"role": "system", "content": "fixed rules"}]
    generator = LlamaCppGenerator(Path("unused.gguf"), "fake", warm=lambda: prefix)
    monkeypatch.setattr(generator, "_start_server", lambda: server)
    generator.load()
    reply = "".join(generator.stream([*prefix, {"role": "user", "content": "seg"}],
                                     max_tokens=20, temperature=0.0))  # fmt: skip
    assert reply == '{"text": "hi"}'
    warm, draft = server.requests  # the draft waited for the warming to finish
    assert warm["messages"] == prefix and warm["max_tokens"] == 1 and warm["cache_prompt"]
    assert draft["messages"][0] == prefix[0]


def test_a_failed_warm_up_costs_nothing_but_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    server = RecordingServer()

    def broken() -> list[dict[str, str]]:
        raise RuntimeError("prompts not importable")

    generator = LlamaCppGenerator(Path("unused.gguf"), "fake", warm=broken)
    monkeypatch.setattr(generator, "_start_server", lambda: server)
    assert "".join(generator.stream([{"role": "user", "content": "hi"}], max_tokens=5,
                                    temperature=0.0))  # fmt: skip
    assert len(server.requests) == 1


def test_a_draft_model_turns_on_speculative_decoding(tmp_path: Path) -> None:
    from types import SimpleNamespace

    draft = tmp_path / "draft.gguf"
    draft.write_bytes(b"GGUF")
    cpu = SimpleNamespace(n_threads=-1)
    params = SimpleNamespace(
        speculative=SimpleNamespace(
            types=[],
            draft=SimpleNamespace(
                mparams=SimpleNamespace(path=""), n_max=3, p_min=0.0, n_gpu_layers=-1,
                cpuparams=cpu, cpuparams_batch=SimpleNamespace(n_threads=-1),
            ),
        )
    )  # fmt: skip
    kinds = SimpleNamespace(COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE="draft-simple")
    fake = SimpleNamespace(common_speculative_type=kinds)
    generator = LlamaCppGenerator(Path("unused.gguf"), "fake", draft_model=lambda: draft)
    generator._use_draft_model(fake, params, draft, threads=2, layers=0)
    spec = params.speculative
    assert spec.types == ["draft-simple"] and spec.draft.mparams.path == str(draft)
    assert spec.draft.n_max == llamacpp.DRAFT_MAX_TOKENS and cpu.n_threads == 2
    assert generator.draft_model_path == draft
    with pytest.raises(ModelError, match="No GGUF draft model"):
        generator._use_draft_model(fake, params, tmp_path / "missing.gguf", threads=2, layers=0)


def test_draft_model_is_optional_and_checked_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundled, "models_dir", lambda: tmp_path / "models")
    monkeypatch.setattr(bundled, "_chunk_paths", lambda *_args: None)
    assert bundled.draft_model_path() is None  # not installed: drafting runs without it
    chunks = []
    for n, data in enumerate([b"GGUF-draft-", b"model"]):
        chunk = tmp_path / f"part{n}.bin"
        chunk.write_bytes(data)
        chunks.append(chunk)
    monkeypatch.setattr(bundled, "_chunk_paths", lambda *_args: chunks)
    monkeypatch.setattr(bundled, "DRAFT_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="requirements-model-draft.txt"):
        bundled.draft_model_path()
    good = hashlib.sha256(b"GGUF-draft-model").hexdigest()
    monkeypatch.setattr(bundled, "DRAFT_SHA256", good)
    path = bundled.draft_model_path()
    assert path is not None and path.read_bytes() == b"GGUF-draft-model"
