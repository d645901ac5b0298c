"""The ``/ask`` event protocol as OpenAPI: one schema per SSE event, with examples.

The models here document the wire; the stream itself is encoded elsewhere without them (no
Pydantic on the per-token path). ``tests/web/test_protocol.py`` validates real streams against
these schemas, so the document cannot drift from what Beacon sends. ``document_events`` adds
them to the OpenAPI document as an OpenAPI 3.2 ``itemSchema`` (one ``oneOf`` branch per event
name), which ``/docs`` shows under the ``text/event-stream`` response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from service.schemas import Citation, RetrievedEntry, UnsupportedClaim

# Streams of events: the answer itself and a resumed turn.
SSE_OPERATIONS = (("/ask", "post"), ("/ask/turns/{turn_id}/stream", "get"))
TRACE_EXAMPLE = "4bf92f3577b34da6a3ce929d0e0e4736"


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_id: str = Field(description="The request's W3C trace id (32 hex digits).")


class MetaEvent(_Event):
    """First event: how the question will be answered."""

    route: str = Field(description="faq | easy | hard | risky | tool | clarify | out_of_scope")
    reason: str
    tier: str
    model: str
    prompt_version: str
    kb_version: str
    conversation_id: str | None
    lang: Literal["en", "zh"]
    turn: int = Field(default=1, description="This question's place in its conversation.")


class EvidenceEvent(_Event):
    """The entries the answer cites, and the ranked candidates behind it."""

    citations: list[Citation]
    retrieved: list[RetrievedEntry] = []


class TokenEvent(_Event):
    """A piece of the answer, already redacted; concatenate ``text`` in order."""

    text: str


class RedactionEvent(_Event):
    """How many spans of one kind were redacted from the answer."""

    kind: str
    count: int


class HandoffEvent(_Event):
    """A person takes over; show the ticket id to the customer."""

    reason: str
    ticket_id: str


class QueuedEvent(_Event):
    """The service is busy; the request waits at this position."""

    position: int


class ClarifySuggestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str


class ClarifyEvent(_Event):
    """Unsure which question is meant: ask, offering up to three candidates."""

    question: str
    suggestions: list[ClarifySuggestion] = Field(max_length=3)


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int
    output_tokens: int


class Degraded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None
    layer: str | None


class DoneEvent(_Event):
    """The one terminal event of a completed answer."""

    finish_reason: str = Field(description="stop | length | handoff | content_filter | cancelled")
    usage: Usage | None = None
    cost_usd: float | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    cache_hit: bool | None = None
    fallbacks: list[str] = []
    degraded: Degraded | None = None
    answered_by: str | None = None
    grounded: Literal["verbatim", "supported", "unsupported"] | None = Field(
        default=None,
        description="verbatim: FAQ text, not checked; supported: every claim is in the cited "
        "evidence; unsupported: some claim was not (its sentence was replaced).",
    )
    unsupported_claims: list[UnsupportedClaim] = []


class ErrorEvent(_Event):
    """The one terminal event of a failed answer; ``message`` is safe to show."""

    code: str
    layer: Literal["input", "model", "tool", "data", "internal"]
    retryable: bool
    message: str


EVENTS: dict[str, type[_Event]] = {
    "meta": MetaEvent,
    "evidence": EvidenceEvent,
    "token": TokenEvent,
    "redaction": RedactionEvent,
    "handoff": HandoffEvent,
    "queued": QueuedEvent,
    "clarify": ClarifyEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "meta": {
        "route": "faq",
        "reason": "confident_match",
        "tier": "faq",
        "model": "faq",
        "prompt_version": "p-f12ecd25798e",
        "kb_version": "kb-f7548bade362",
        "conversation_id": "c-42",
        "lang": "en",
        "turn": 1,
    },
    "evidence": {
        "citations": [
            {
                "id": "refund-request",
                "title": "How do I request a refund?",
                "score": 0.91,
                "source": "help-center/refunds/request",
                "version": 3,
            }
        ],
        "retrieved": [{"id": "refund-request", "score": 0.91}],
    },
    "token": {"text": "Open Orders, "},
    "redaction": {"kind": "email", "count": 1},
    "handoff": {"reason": "risk_terms", "ticket_id": "HO-4bf92f3577b3"},
    "queued": {"position": 3},
    "clarify": {
        "question": "Which of these do you mean?",
        "suggestions": [
            {"id": "refund-request", "title": "How do I request a refund?"},
            {"id": "refund-track", "title": "Where is my refund?"},
        ],
    },
    "done": {
        "finish_reason": "stop",
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "cost_usd": 0.0,
        "ttft_ms": 3.1,
        "latency_ms": 9.8,
        "cache_hit": False,
        "fallbacks": [],
    },
    "error": {
        "code": "model_timeout",
        "layer": "model",
        "retryable": True,
        "message": "The answer took too long. Please try again.",
    },
}


def sse_item_schema() -> dict[str, Any]:
    """OpenAPI 3.2 ``itemSchema`` of an event stream: one branch per event name."""
    branches = [
        {
            "type": "object",
            "title": f"{name} event",
            "required": ["event", "id", "data"],
            "properties": {
                "event": {"const": name},
                "id": {"type": "string", "description": "Sequence number, for Last-Event-ID."},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": f"#/components/schemas/{model.__name__}"},
                },
            },
        }
        for name, model in EVENTS.items()
    ]
    return {"oneOf": branches}


def stream_example() -> str:
    """A short event stream as it appears on the wire."""
    names = ["meta", "evidence", "token", "token", "done"]
    frames = []
    for seq, name in enumerate(names, start=1):
        data = dict(EXAMPLES[name], trace_id=TRACE_EXAMPLE)
        if name == "token" and seq == 4:
            data["text"] = "choose the item and submit."
        frames.append(f"id: {seq}\nevent: {name}\ndata: {_json(data)}\n\n")
    return "".join(frames)


def document_events(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """An ``app.openapi`` that adds the event schemas and examples to the stream responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in EVENTS.items():
            event_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for def_name, definition in event_schema.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            event_schema["examples"] = [dict(EXAMPLES[name], trace_id=TRACE_EXAMPLE)]
            components[model.__name__] = event_schema
        for path, method in SSE_OPERATIONS:
            operation = schema.get("paths", {}).get(path, {}).get(method)
            if operation is None:
                continue
            content = operation["responses"]["200"].setdefault("content", {})
            content["text/event-stream"] = {
                "itemSchema": sse_item_schema(),
                "example": stream_example(),
            }
        app.openapi_schema = schema
        return schema

    return openapi


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
