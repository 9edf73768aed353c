"""Language-model backends: registry, bundled files, llama.cpp with SmolLM2, a fake server."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from segmenter.campaign import CampaignBrief, draft_campaign
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
    assert draft.ok or draft.problems  # a small model may drift; then the draft says how
    assert len(streamed) > 5  # tokens arrived one by one
    assert draft.model_id == "SmolLM2-135M-Instruct-Q4_1" and draft.seconds > 0


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
