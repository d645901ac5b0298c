"""The SSE event protocol: names, the one encoder, and the JSON-mode collector.

The per-token path is kept lean on purpose: a token is a ``(name, text)`` tuple, encoded
straight to bytes with orjson. JSON escaping of ``data`` is what makes a token containing
``\\n\\nevent: done`` harmless: newlines never reach the wire unescaped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from enum import StrEnum
from typing import Any, TypeAlias

import orjson


class EventName(StrEnum):
    META = "meta"
    EVIDENCE = "evidence"
    TOKEN = "token"
    REDACTION = "redaction"
    HANDOFF = "handoff"
    QUEUED = "queued"
    CLARIFY = "clarify"
    DONE = "done"
    ERROR = "error"


TERMINAL_EVENTS = frozenset({EventName.DONE, EventName.ERROR})

# A pipeline event: (name, payload). Token payloads are plain str for speed; the rest are dicts.
Event: TypeAlias = tuple[str, Any]

KEEPALIVE_FRAME = b": keep-alive\n\n"


class SSEEncoder:
    """Numbers events and encodes them as ``text/event-stream`` frames carrying the trace_id."""

    __slots__ = ("_seq", "_token_prefix", "_trace_suffix", "trace_id")

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self._seq = 0
        self._token_prefix = b'\nevent: token\ndata: {"text":'
        self._trace_suffix = b',"trace_id":"' + trace_id.encode() + b'"}\n\n'

    def encode(self, name: str, payload: Any) -> bytes:
        self._seq += 1
        if name == EventName.TOKEN:
            return (
                b"id: %d" % self._seq
                + self._token_prefix
                + orjson.dumps(payload)
                + self._trace_suffix
            )
        data = dict(payload)
        data["trace_id"] = self.trace_id
        return b"id: %d\nevent: %s\ndata: %s\n\n" % (
            self._seq,
            name.encode(),
            orjson.dumps(data),
        )


async def collect_answer(events: AsyncIterator[Event], trace_id: str) -> dict[str, Any]:
    """Drain a pipeline stream into the single JSON body served for ``Accept: application/json``."""
    body: dict[str, Any] = {"trace_id": trace_id, "answer": "", "citations": []}
    parts: list[str] = []
    async for name, payload in events:
        if name == EventName.TOKEN:
            parts.append(payload)
        elif name == EventName.META:
            body.update(_without_trace(payload))
        elif name == EventName.EVIDENCE:
            body["citations"] = payload["citations"]
            body["retrieved"] = payload.get("retrieved", [])
        elif name in (EventName.HANDOFF, EventName.REDACTION, EventName.CLARIFY):
            body[name] = _without_trace(payload)
        elif name == EventName.DONE:
            body.update(_without_trace(payload))
        elif name == EventName.ERROR:
            body["error"] = _without_trace(payload)
    body["answer"] = "".join(parts)
    return body


def _without_trace(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "trace_id"}
