"""In-process fault points for drills: off unless ``BEACON_FAULTS_ENABLED=true``.

A drill asks for faults per request with the ``x-beacon-fault`` header (comma-separated names,
e.g. ``x-beacon-fault: tool_timeout,slow_retrieval``). ``FaultInjectionMiddleware`` is mounted
only when the setting is on, so by default no header can switch anything on; it binds the
request's faults into a context variable, and each fault point asks ``fault_active(point)``.

``model:<simulator fault>`` (e.g. ``model:reset_mid_stream``) is passed to the first model
attempt as the upstream simulator's ``x-sim-fault`` header, so a mixed burst can break some
model calls and not others.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from starlette.types import ASGIApp, Receive, Scope, Send

FAULT_HEADER = b"x-beacon-fault"
MODEL_FAULT_PREFIX = "model:"


class FaultPoint(StrEnum):
    INDEX_UNAVAILABLE = "index_unavailable"
    """The vector store cannot be searched: retrieval raises ``IndexUnavailable``."""
    EMPTY_RETRIEVAL = "empty_retrieval"
    """The search returns no evidence at all."""
    SLOW_RETRIEVAL = "slow_retrieval"
    """The search takes longer than the retrieval deadline."""
    CACHE_UNAVAILABLE = "cache_unavailable"
    """The answer cache cannot be reached (the cache treats it as a miss)."""
    TOOL_ERROR = "tool_error"
    """Every tool call fails."""
    TOOL_TIMEOUT = "tool_timeout"
    """Every tool call hangs past the tool's timeout."""
    ROUTER_PARSE = "router_parse"
    """The routing decision (a router's structured output) cannot be parsed."""


@dataclass(frozen=True, slots=True)
class RequestFaults:
    points: frozenset[FaultPoint] = frozenset()
    model_fault: str | None = None
    """A simulator fault name for the first model attempt (``x-sim-fault``)."""


NO_FAULTS = RequestFaults()
_POINT_NAMES = frozenset(point.value for point in FaultPoint)
_current: ContextVar[RequestFaults] = ContextVar("beacon_faults", default=NO_FAULTS)


def current_faults() -> RequestFaults:
    return _current.get()


def fault_active(point: FaultPoint) -> bool:
    """True only inside a request that asked for ``point`` on a faults-enabled service."""
    return point in _current.get().points


def parse_fault_header(value: str) -> RequestFaults:
    """Parse ``x-beacon-fault``; unknown names are ignored (a drill typo must not crash)."""
    points: set[FaultPoint] = set()
    model_fault: str | None = None
    for raw in value.split(","):
        name = raw.strip()
        if name.startswith(MODEL_FAULT_PREFIX):
            model_fault = name.removeprefix(MODEL_FAULT_PREFIX) or None
        elif name in _POINT_NAMES:
            points.add(FaultPoint(name))
    return RequestFaults(points=frozenset(points), model_fault=model_fault)


class FaultInjectionMiddleware:
    """Pure ASGI: binds the request's ``x-beacon-fault`` for the whole request, stream included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = None
        if scope["type"] == "http":
            header = dict(scope.get("headers", ())).get(FAULT_HEADER)
        if header is None:
            await self.app(scope, receive, send)
            return
        token = _current.set(parse_fault_header(header.decode("latin-1")))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
