"""Beacon's answer events in OpenAI's chat-completions shapes: stream chunks and one body.

The stream follows the chunk format exactly: a first chunk whose delta carries the role, content
deltas, a chunk with ``finish_reason`` and an empty delta, a usage chunk (``choices: []``) when
the client asked with ``stream_options.include_usage``, then ``data: [DONE]``. Beacon's own
information (trace id, route, citations, handoff) rides in an extension field, ``beacon``, on
the first and the last chunk and on the non-streaming body; OpenAI clients ignore it (the SDK's
models keep it as an extra attribute). Token chunks are spliced from prebuilt bytes around one
JSON dump of the text: no dict is built per token.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from service.pipeline.encoder import dump_json
from service.pipeline.events import Event, TokenEvent
from service.schemas import AskResponse

DONE_FRAME = b"data: [DONE]\n\n"
# Beacon's finish reasons that OpenAI has no word for end as a plain "stop".
FINISH_REASONS = {"stop": "stop", "length": "length", "content_filter": "content_filter"}


class ChunkEncoder:
    """Turns one answer's events into ``chat.completion.chunk`` frames (bytes)."""

    def __init__(self, *, trace_id: str, model: str, include_usage: bool) -> None:
        self.trace_id = trace_id
        self.include_usage = include_usage
        self.extension: dict[str, Any] = {"trace_id": trace_id}
        self._head = {
            "id": f"chatcmpl-{trace_id}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
        }
        usage_tail = b',"usage":null' if include_usage else b""
        head = orjson.dumps(self._head)[:-1]  # without the closing brace
        self._token_prefix = head + b',"choices":[{"index":0,"delta":{"content":'
        self._token_suffix = b'},"logprobs":null,"finish_reason":null}]' + usage_tail + b"}\n\n"
        self._started = False

    def encode(self, event: Event) -> bytes:
        """The frames for one Beacon event (often none: meta and evidence wait for the start)."""
        if type(event) is TokenEvent:
            start = b"" if self._started else self._start()
            text = dump_json(event.text)
            return start + b"data: " + self._token_prefix + text + self._token_suffix
        name, payload = event.name, event.payload()
        if name == "meta":
            self.extension["route"] = payload.get("route")
            self.extension["conversation_id"] = payload.get("conversation_id")
        elif name == "evidence":
            self.extension["citations"] = payload.get("citations", [])
        elif name in ("handoff", "clarify"):
            self.extension[name] = _without_trace(payload)
        elif name == "done":
            return self._finish(payload)
        elif name == "error":
            return self._error(payload)
        return b""

    # The ``TurnCodec`` face, for a resumable turn (the buffer numbers events, chunks have no id).

    def frame(self, event: Event, event_id: int) -> bytes:  # noqa: ARG002
        return self.encode(event)

    def cancelled(self, event_id: int) -> bytes:  # noqa: ARG002
        return self._finish({"finish_reason": "cancelled"})

    def failed(self, event_id: int) -> bytes:  # noqa: ARG002
        message = "Something went wrong on our side. Please try again."
        return self._error({"message": message, "layer": "internal", "code": "internal_error"})

    def _start(self) -> bytes:
        """The role chunk, carrying what Beacon knows before the first token."""
        self._started = True
        delta = {"role": "assistant", "content": ""}
        return self._frame([_choice(delta, None)], beacon=dict(self.extension))

    def _finish(self, done: dict[str, Any]) -> bytes:
        start = b"" if self._started else self._start()
        reason = FINISH_REASONS.get(str(done.get("finish_reason")), "stop")
        extension = {k: v for k, v in self.extension.items() if k in ("handoff", "clarify")}
        extension["trace_id"] = self.trace_id
        last = self._frame([_choice({}, reason)], beacon=extension)
        if self.include_usage:
            last += self._frame([], usage=openai_usage(done.get("usage")))
        return start + last + DONE_FRAME

    def _error(self, error: dict[str, Any]) -> bytes:
        """OpenAI's in-stream error shape; the SDK raises ``APIError`` with this message."""
        body = {
            "error": {
                "message": error.get("message"),
                "type": error.get("layer"),
                "code": error.get("code"),
                "param": None,
            },
            "beacon": {"trace_id": self.trace_id, "retryable": error.get("retryable")},
        }
        return b"data: " + dump_json(body) + b"\n\n" + DONE_FRAME

    def _frame(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk = {**self._head, "choices": choices}
        if self.include_usage:
            chunk["usage"] = None
        chunk.update(extra)
        return b"data: " + dump_json(chunk) + b"\n\n"


def completion_body(answer: AskResponse, *, model: str) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` for a collected answer."""
    extension: dict[str, Any] = {
        "trace_id": answer.trace_id,
        "route": answer.route,
        "conversation_id": answer.conversation_id,
        "citations": [citation.model_dump() for citation in answer.citations],
    }
    for key in ("handoff", "clarify"):
        value = getattr(answer, key, None)
        if value is not None:
            extension[key] = value.model_dump()
    return {
        "id": f"chatcmpl-{answer.trace_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer, "refusal": None},
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(answer.finish_reason, "stop"),
            }
        ],
        "usage": openai_usage(answer.usage.model_dump()),
        "beacon": extension,
    }


def openai_usage(usage: dict[str, int] | None) -> dict[str, int]:
    prompt = (usage or {}).get("input_tokens", 0)
    completion = (usage or {}).get("output_tokens", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _choice(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _without_trace(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "trace_id"}
