"""Request bodies and a small SSE reader shared by the simulator tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from evals.upstream import SimulatorConfig

CHAT_PATH = "/v1/chat/completions"
# Fast pacing keeps the package quick; timing tests set their own pace per request.
TEST_CONFIG = SimulatorConfig(ttft_ms=50.0, tokens_per_second=200.0)


def chat_body(question: str, *, system: str = "You are Beacon.", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    return {"model": "beacon-easy", "messages": messages, **extra}


def stream_body(question: str, *, system: str = "You are Beacon.", **extra: Any) -> dict[str, Any]:
    return chat_body(
        question, system=system, stream=True, stream_options={"include_usage": True}, **extra
    )


@dataclass
class StreamResult:
    """Everything a client saw of one streamed response."""

    status: int
    headers: httpx.Headers
    payloads: list[str] = field(default_factory=list)
    first_content_s: float | None = None
    elapsed_s: float = 0.0

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [orjson.loads(payload) for payload in self.payloads if payload != "[DONE]"]

    @property
    def content_chunks(self) -> list[dict[str, Any]]:
        return [chunk for chunk in self.chunks if is_content(chunk)]

    @property
    def content(self) -> str:
        return "".join(chunk["choices"][0]["delta"]["content"] for chunk in self.content_chunks)


def is_content(chunk: dict[str, Any]) -> bool:
    choices = chunk["choices"]
    return bool(choices) and bool(choices[0]["delta"].get("content"))


def is_content_payload(payload: str) -> bool:
    """Cheap check that also tolerates the malformed_chunk fault's non-JSON line."""
    return '"content":"' in payload and '"content":""' not in payload


def stream_chat(
    client: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> StreamResult:
    """POST ``body`` and read the whole SSE stream, timing the first content chunk."""
    started = time.monotonic()
    with client.stream("POST", CHAT_PATH, json=body, headers=headers) as response:
        result = StreamResult(status=response.status_code, headers=response.headers)
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            payload = line.removeprefix("data: ")
            result.payloads.append(payload)
            if result.first_content_s is None and is_content_payload(payload):
                result.first_content_s = time.monotonic() - started
    result.elapsed_s = time.monotonic() - started
    return result
