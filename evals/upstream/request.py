"""Parse one chat-completions request: the OpenAI body plus the simulator's per-request controls.

Controls come from ``x-sim-*`` headers or from ``+name`` suffixes on the model name
(``beacon-hard+rate_limited+compliant``), because SDKs pass the model name through untouched
but do not always let a caller add headers. A header wins over a suffix of the same kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import orjson

from evals.upstream.config import SLOW_FIRST_TOKEN_FACTOR, Fault, Mode, SimulatorConfig

FAULT_HEADER = "x-sim-fault"
MODE_HEADER = "x-sim-mode"
TTFT_HEADER = "x-sim-ttft-ms"
TPS_HEADER = "x-sim-tps"
ANSWER_HEADER = "x-sim-answer"
UNFAITHFUL_RATE_HEADER = "x-sim-unfaithful-rate"

FAULT_NAMES = frozenset(fault.value for fault in Fault)
MODE_NAMES = frozenset(mode.value for mode in Mode)

ControlEnum = TypeVar("ControlEnum", Fault, Mode)


class InvalidRequest(Exception):
    """The request cannot be served; answered with ``status`` and an OpenAI-style error body."""

    def __init__(self, message: str, *, param: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status


class Message(NamedTuple):
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class RequestControls:
    """How the simulated model should behave for this one request."""

    fault: Fault | None
    mode: Mode
    ttft_s: float
    seconds_per_token: float
    answer: str | None
    """Answer text forced by the ``x-sim-answer`` header."""
    unfaithful_rate: float = 1.0
    """Share of answers corrupted in unfaithful mode."""


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    """The model name without control suffixes, echoed back as OpenAI echoes the model."""
    messages: list[Message]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    controls: RequestControls


def parse_chat_request(
    body: bytes, headers: Mapping[str, str], config: SimulatorConfig
) -> ChatRequest:
    """Validate ``body`` as a chat-completions request and resolve its controls."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    model = payload.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    base_model, *suffixes = model.split("+")
    stream_options = payload.get("stream_options") or {}
    return ChatRequest(
        model=base_model,
        messages=parse_messages(payload.get("messages")),
        stream=payload.get("stream") is True,
        include_usage=isinstance(stream_options, dict)
        and stream_options.get("include_usage") is True,
        max_tokens=parse_max_tokens(payload),
        controls=parse_controls(headers, suffixes, config),
    )


def parse_messages(raw: Any) -> list[Message]:
    """Flatten OpenAI messages (string or text-part content) into (role, text) pairs."""
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'messages' must be a non-empty array.", param="messages")
    messages = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise InvalidRequest("Each message must be an object with a 'role'.", param="messages")
        messages.append(Message(item["role"], content_text(item.get("content"))))
    return messages


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def parse_max_tokens(payload: dict[str, Any]) -> int | None:
    raw = payload.get("max_completion_tokens", payload.get("max_tokens"))
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise InvalidRequest("'max_tokens' must be a positive integer.", param="max_tokens")
    return raw


def parse_controls(
    headers: Mapping[str, str], suffixes: list[str], config: SimulatorConfig
) -> RequestControls:
    """Merge model-name suffixes and ``x-sim-*`` headers into the controls of one request."""
    fault: Fault | None = None
    mode = config.mode
    for name in suffixes:
        if name in FAULT_NAMES:
            fault = Fault(name)
        elif name in MODE_NAMES:
            mode = Mode(name)
        else:
            known = ", ".join(sorted(FAULT_NAMES | MODE_NAMES))
            raise InvalidRequest(f"Unknown model suffix '+{name}'; known: {known}.", param="model")
    if FAULT_HEADER in headers:
        fault = parse_enum(Fault, headers[FAULT_HEADER], FAULT_HEADER)
    if MODE_HEADER in headers:
        mode = parse_enum(Mode, headers[MODE_HEADER], MODE_HEADER)
    ttft_ms = parse_number(headers, TTFT_HEADER, allow_zero=True)
    if ttft_ms is None:
        factor = SLOW_FIRST_TOKEN_FACTOR if fault is Fault.SLOW_FIRST_TOKEN else 1.0
        ttft_ms = config.ttft_ms * factor
    tps = parse_number(headers, TPS_HEADER, allow_zero=False) or config.tokens_per_second
    rate = parse_number(headers, UNFAITHFUL_RATE_HEADER, allow_zero=True)
    if rate is None:
        rate = config.unfaithful_rate
    elif rate > 1:
        raise InvalidRequest(
            f"{UNFAITHFUL_RATE_HEADER} must be in [0, 1].", param=UNFAITHFUL_RATE_HEADER
        )
    return RequestControls(
        fault=fault,
        mode=mode,
        ttft_s=ttft_ms / 1000,
        seconds_per_token=1 / tps,
        answer=headers.get(ANSWER_HEADER),
        unfaithful_rate=rate,
    )


def parse_enum(enum: type[ControlEnum], value: str, header: str) -> ControlEnum:
    try:
        return enum(value.strip())
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise InvalidRequest(f"Unknown {header} '{value}'; known: {known}.", param=header) from None


def parse_number(headers: Mapping[str, str], name: str, *, allow_zero: bool) -> float | None:
    if name not in headers:
        return None
    try:
        value = float(headers[name])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidRequest(f"{name} must be a finite number {bound}.", param=name)
    return value
