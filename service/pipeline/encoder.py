"""The one place events become bytes: SSE frames, or the single JSON body of JSON mode.

JSON escaping of ``data`` is what makes a token holding ``\\n\\nevent: done`` harmless. orjson
leaves U+2028, U+2029 and U+0085 raw (valid JSON), but a client that splits lines the way
Python's ``str.splitlines`` or a JavaScript source parser does would see a line break inside
``data:``, so they are escaped too. A token frame is built from precomputed prefix and suffix
bytes around one ``orjson.dumps`` of its text: no dict, no model, per token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from service.errors import ServiceError
from service.pipeline.events import (
    ClarifyEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    EvidenceEvent,
    HandoffEvent,
    MetaEvent,
    RedactionEvent,
    TokenEvent,
)
from service.schemas import AskResponse

KEEPALIVE_FRAME = b": keep-alive\n\n"
_LINE_BREAKS = (
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
    (b"\xc2\x85", b"\\u0085"),
)


def dump_json(value: Any) -> bytes:
    """orjson, with the line separators a line-splitting client would break on escaped."""
    data = orjson.dumps(value)
    if b"\xe2\x80" in data or b"\xc2\x85" in data:
        for raw, escaped in _LINE_BREAKS:
            data = data.replace(raw, escaped)
    return data


class SSEEncoder:
    """Numbers events (``id:``) and encodes them as ``text/event-stream`` frames with trace_id.

    ``frame(event, event_id)`` is stateless, for a buffer that replays a turn's events under
    their original ids; ``encode(event)`` numbers them 1, 2, 3, ... as they come.
    """

    __slots__ = ("_token_prefix", "_trace_suffix", "last_id", "trace_id")

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.last_id = 0
        self._token_prefix = b'\nevent: token\ndata: {"text":'
        self._trace_suffix = b',"trace_id":"' + trace_id.encode() + b'"}\n\n'

    def encode(self, event: Event) -> bytes:
        self.last_id += 1
        return self.frame(event, self.last_id)

    def frame(self, event: Event, event_id: int) -> bytes:
        if type(event) is TokenEvent:
            return b"id: %d%s%s%s" % (
                event_id,
                self._token_prefix,
                dump_json(event.text),
                self._trace_suffix,
            )
        data = event.payload()
        data["trace_id"] = self.trace_id
        return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, event.name.encode(), dump_json(data))


async def collect_response(
    events: AsyncIterator[Event], trace_id: str
) -> AskResponse | ServiceError:
    """Drain a stream into the JSON-mode body, or the typed error it ended with."""
    parts: list[str] = []
    fields: dict[str, Any] = {"trace_id": trace_id, "citations": [], "retrieved": []}
    redactions: list[dict[str, Any]] = []
    async for event in events:
        if type(event) is TokenEvent:
            parts.append(event.text)
        elif isinstance(event, ErrorEvent):
            return event.error
        elif isinstance(event, MetaEvent | DoneEvent | EvidenceEvent):
            fields.update(event.payload())
        elif isinstance(event, RedactionEvent):
            redactions.append(event.payload())
        elif isinstance(event, HandoffEvent | ClarifyEvent):
            fields[event.name] = event.payload()
    return AskResponse(answer="".join(parts), redactions=redactions, **fields)
