"""Bytes on the wire, shaped as OpenAI's chat-completions API sends them.

Per streamed token the only work is one ``orjson.dumps`` of the piece between a prefix and a
suffix encoded once per stream, so hundreds of streams fit on one core.
"""

from __future__ import annotations

from typing import Any

import orjson

SYSTEM_FINGERPRINT = "fp_beacon_sim"
DONE_FRAME = b"data: [DONE]\n\n"
MALFORMED_FRAME = b"data: {not json\n\n"
_PLACEHOLDER = "\x00piece\x00"


def encode_frame(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def usage_payload(*, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class ChunkFrames:
    """Encodes the ``chat.completion.chunk`` frames of one streamed completion."""

    __slots__ = ("_content_prefix", "_content_suffix", "_envelope", "_include_usage")

    def __init__(
        self, *, completion_id: str, created: int, model: str, include_usage: bool
    ) -> None:
        self._envelope: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        self._include_usage = include_usage
        template = self.choice_frame({"content": _PLACEHOLDER}, finish_reason=None)
        self._content_prefix, self._content_suffix = template.split(orjson.dumps(_PLACEHOLDER))

    def choice_frame(self, delta: dict[str, Any], *, finish_reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        payload = {**self._envelope, "choices": [choice]}
        if self._include_usage:
            # With include_usage OpenAI sends "usage": null on every chunk but the last.
            payload["usage"] = None
        return encode_frame(payload)

    def role(self) -> bytes:
        return self.choice_frame(
            {"role": "assistant", "content": "", "refusal": None}, finish_reason=None
        )

    def content(self, piece: str) -> bytes:
        return self._content_prefix + orjson.dumps(piece) + self._content_suffix

    def finish(self, reason: str) -> bytes:
        return self.choice_frame({}, finish_reason=reason)

    def usage(self, *, prompt_tokens: int, completion_tokens: int) -> bytes:
        usage = usage_payload(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        return encode_frame({**self._envelope, "choices": [], "usage": usage})


def completion_body(
    *,
    completion_id: str,
    created: int,
    model: str,
    text: str,
    finish_reason: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> bytes:
    """Encode a non-streaming ``chat.completion`` response body."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text,
        "refusal": None,
        "annotations": [],
    }
    return orjson.dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": usage_payload(
                prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            ),
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "service_tier": "default",
        }
    )


def error_body(message: str, *, kind: str, param: str | None = None, code: str | None) -> bytes:
    """Encode an OpenAI-style error body (``kind`` is OpenAI's ``error.type``)."""
    return orjson.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}})
