"""Asking a model for a JSON answer, checking it, and retrying once with the failures.

The answer is validated, retried once with the failures spelt out, and otherwise
returned raw with a note saying what failed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmenter.campaign.brief import FieldSpec
from segmenter.campaign.checks import (
    CUT_OFF,
    check_fields,
    fit_to_limits,
    grounding_problems,
    plain_text,
    sms_text,
)
from segmenter.campaign.prompts import RETRY_PROMPT, output_schema
from segmenter.campaign.safety import mask_messages
from segmenter.lm.base import Message, TextGenerator
from segmenter.privacy import mask_pii

TEMPERATURE = 0.5


RETRIES = 1


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


@dataclass(frozen=True)
class Generated:
    """One checked model answer: the parsed fields, or the raw text and what failed."""

    fields: Mapping[str, Any]
    raw_text: str
    problems: tuple[str, ...]
    model_id: str
    seconds: float
    attempts: int
    needs_human: tuple[str, ...] = ()
    """Why a person should handle this (a reply to a legal, fraud, identity-theft or
    safety complaint); empty when the draft can go as written."""

    @property
    def ok(self) -> bool:
        """True when the answer passed every check."""
        return not self.problems


def stream_reply(
    generator: TextGenerator,
    conversation: list[dict[str, str]],
    max_tokens: int,
    temperature: float,
    schema: Mapping[str, Any],
    on_text: Callable[[str], None] | None = None,
    avoid: Sequence[str] = (),
) -> str:
    """The model's whole reply to ``conversation``, constrained to ``schema``; ``on_text``
    sees the reply so far after each piece (to show it while it streams); ``avoid``: words
    the backend should make impossible (only passed when there are some, so generators
    written before it existed keep working)."""
    raw = ""
    options: dict[str, Any] = {"avoid": tuple(avoid)} if avoid else {}
    for piece in generator.stream(
        conversation, max_tokens=max_tokens, temperature=temperature, json_schema=schema, **options
    ):
        raw += piece
        if on_text is not None:
            on_text(raw)
    return raw


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (code fences and chatter around it ignored)."""
    text = _FENCE.sub("", text.strip())
    start = text.find("{")
    while start != -1:
        try:
            value, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        return value if isinstance(value, dict) else None
    return None


def _plain_text_values(value: Mapping[str, Any] | None, channel: str) -> dict[str, Any] | None:
    if not value:
        return None if value is None else {}
    clean = sms_text if channel == "sms" else str
    return {k: clean(plain_text(v)) if isinstance(v, str) else v for k, v in value.items()}


def partial_fields(text: str) -> dict[str, str]:
    """Best-effort fields from a JSON answer still being written, for live display."""
    fields = {}
    for match in re.finditer(r'"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)(")?', text):
        raw = match.group(2)
        try:
            fields[match.group(1)] = json.loads(f'"{raw}"')
        except json.JSONDecodeError:
            fields[match.group(1)] = raw.replace('\\"', '"').replace("\\n", "\n")
    return fields


def generate_checked(
    generator: TextGenerator,
    messages: Sequence[Message],
    fields: Sequence[FieldSpec],
    limits: Mapping[str, int | None],
    *,
    max_tokens: int,
    channel: str = "",
    offer: str = "",
    temperature: float = TEMPERATURE,
    on_text: Callable[[str], None] | None = None,
    schema: Mapping[str, Any] | None = None,
    prepare: Callable[[dict[str, str]], dict[str, str]] | None = None,
    extra_checks: Callable[[Mapping[str, str]], list[str]] | None = None,
    repair: Callable[[dict[str, str]], tuple[dict[str, str], list[str]]] | None = None,
    keep: str = "",
    avoid: Sequence[str] = (),
) -> Generated:
    """Ask ``generator``, check the answer, retry once with the failures, then give up.

    Personal data is masked here, whatever the caller built, so nothing unmasked
    reaches any model. ``on_text`` gets the answer so far after every piece.

    Args:
        schema: the output schema (default: ``output_schema(fields, limits)``).
        prepare: turns the model's fields into the copy (fills the offer slot) before
            any check.
        extra_checks: more checks on the prepared copy; their problems trigger the retry.
        repair: after the retry failed, fixes what it can and returns notes; the copy is
            then checked again.
        keep: text that cutting to fit must not remove (the offer).
        avoid: words the backend should make impossible to write (``rules.words_to_avoid``).
    """
    schema = schema if schema is not None else output_schema(fields, limits)
    conversation = mask_messages(messages)
    start = time.perf_counter()
    raw = ""
    problems: list[str] = []
    value: dict[str, Any] | None = None
    attempts = 0
    cut_off = False
    for attempt in range(RETRIES + 1):
        attempts = attempt + 1
        raw = stream_reply(
            generator, conversation, max_tokens, temperature, schema, on_text, avoid=avoid
        )
        value = _plain_text_values(parse_json_object(raw), channel)
        cut_off = False
        if value is None and (partial := _plain_text_values(partial_fields(raw), channel)):
            # Cut off at the token limit: keep what was written, and ask for shorter copy.
            value, cut_off = partial, True
        if value is not None and prepare is not None:
            value = {**value, **prepare({k: v for k, v in value.items() if isinstance(v, str)})}
        # Lengths are judged on the copy as it will be sent (the offer filled in): a push
        # whose slot became "15% off your next order" ran 9 characters over its limit.
        problems = [CUT_OFF] if cut_off else []
        problems += check_fields(value, fields, limits, channel=channel)
        if value is not None:
            strings = {k: v for k, v in value.items() if isinstance(v, str)}
            problems += grounding_problems(strings, offer)
            if extra_checks is not None:
                problems += extra_checks(strings)
        if not problems:
            break
        conversation = [
            *conversation,
            {"role": "assistant", "content": mask_pii(raw)},
            {"role": "user", "content": RETRY_PROMPT.format(problems="; ".join(problems))},
        ]
    fields_out: dict[str, str] = {}
    if value is not None:
        fields_out = {
            f.name: value[f.name].strip() for f in fields if isinstance(value.get(f.name), str)
        }
    if problems and fields_out:
        notes: list[str] = []
        if repair is not None:
            fields_out, notes = repair(fields_out)
        if check_fields(fields_out, fields, limits, channel=channel):
            # Lengths failed twice: enforce the limits, so copy never overflows its channel.
            fields_out, cut_notes = fit_to_limits(fields_out, limits, channel=channel, keep=keep)
            notes += cut_notes
        # Judge what is handed on, not what the model wrote: a cut may have removed a flaw.
        problems = [CUT_OFF] if cut_off else []  # the last answer's, known, not matched
        problems += check_fields(fields_out, fields, limits, channel=channel)
        problems += grounding_problems(fields_out, offer)
        problems += extra_checks(fields_out) if extra_checks is not None else []
        problems += notes
    return Generated(
        fields=fields_out,
        raw_text=raw,
        problems=tuple(problems),
        model_id=generator.model_id,
        seconds=time.perf_counter() - start,
        attempts=attempts,
    )
