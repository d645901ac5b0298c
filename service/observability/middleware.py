"""Pure-ASGI middleware that gives every HTTP request its trace context.

It runs inside the OpenTelemetry server span (when instrumentation is on) and reuses its ids;
otherwise it continues an incoming W3C ``traceparent`` or starts a new trace. The ids are bound
into structlog's contextvars and returned to the client as ``x-trace-id``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import structlog
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "beacon.trace"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str


def trace_context_for(scope: Scope) -> TraceContext:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return TraceContext(
            trace_id=format(span_context.trace_id, "032x"),
            span_id=format(span_context.span_id, "016x"),
        )
    for name, value in scope.get("headers", ()):
        if name == b"traceparent":
            match = _TRACEPARENT.match(value.decode("latin-1").strip())
            if match and match[1] != "0" * 32:
                return TraceContext(trace_id=match[1], span_id=secrets.token_hex(8))
    return TraceContext(trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8))


class TraceContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = trace_context_for(scope)
        scope[SCOPE_KEY] = context
        header = (b"x-trace-id", context.trace_id.encode())

        async def send_with_trace_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if all(name != b"x-trace-id" for name, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(
            trace_id=context.trace_id, span_id=context.span_id
        ):
            await self.app(scope, receive, send_with_trace_id)
