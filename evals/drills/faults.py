"""Fault injection for drills, installed around a Beacon from outside (``drill_harness``).

A drill asks for faults per request with the ``x-beacon-fault`` header (comma-separated names,
e.g. ``x-beacon-fault: tool_timeout,slow_retrieval``). Only a server started through
``evals.harness.serve --faults`` has the middleware that reads it and the wrappers that act on
it: the retriever, the order tool, the router, the answer cache and the model provider are
each wrapped, the way an httpx test wraps a transport. ``beacon serve`` has none of this.

``model:<simulator fault>`` (e.g. ``model:reset_mid_stream``) is passed to the first model
attempt as the upstream simulator's ``x-sim-fault`` header, so a mixed burst can break some
model calls and not others.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.retriever import Evidence
from service.app import Harness
from service.errors import IndexUnavailable, ProviderBadResponse, ToolFailed
from service.pipeline.cache import AnswerCache, CacheKey
from service.pipeline.plan import AnswerPlan
from service.pipeline.route import RouteDecision, RouteFeatures, RouteThresholds
from service.pipeline.services import Router, Services
from service.providers.base import ChatProvider, GenerationRequest, Usage
from service.resilience.retrieval import GuardedRetriever, Searcher
from service.tools.order_status import OrderStatusTool
from service.tools.orders_db import OrderRow

FAULT_HEADER = b"x-beacon-fault"
MODEL_FAULT_PREFIX = "model:"
SIM_FAULT_HEADER = "x-sim-fault"
_HANG_S = 3600.0  # cut short by the deadline under test


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

    @property
    def any(self) -> bool:
        return bool(self.points) or self.model_fault is not None


@dataclass(slots=True)
class _Active:
    faults: RequestFaults
    model_fault_pending: bool = True


NO_FAULTS = RequestFaults()
_POINT_NAMES = frozenset(point.value for point in FaultPoint)
_current: ContextVar[_Active | None] = ContextVar("beacon_drill_faults", default=None)


def current_faults() -> RequestFaults:
    active = _current.get()
    return active.faults if active is not None else NO_FAULTS


def fault_active(point: FaultPoint) -> bool:
    return point in current_faults().points


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
        token = _current.set(_Active(parse_fault_header(header.decode("latin-1"))))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


class FaultySearcher:
    """The index, failing as the request's faults say."""

    def __init__(self, inner: Searcher) -> None:
        self.inner = inner

    @property
    def kb_version(self) -> str:
        return self.inner.kb_version

    async def search(self, question: str, *, k: int) -> list[Evidence]:
        if fault_active(FaultPoint.INDEX_UNAVAILABLE):
            raise IndexUnavailable()
        if fault_active(FaultPoint.EMPTY_RETRIEVAL):
            return []
        if fault_active(FaultPoint.SLOW_RETRIEVAL):
            await asyncio.sleep(_HANG_S)
        found = self.inner.search(question, k=k)
        return await found if not isinstance(found, list) else found


class FaultyOrderStatusTool(OrderStatusTool):
    """The order database, hanging or failing as the request's faults say (inside the tool's
    own timeout and retry, which are what the drill exercises)."""

    async def _lookup(self, order_id: str) -> OrderRow | None:
        if fault_active(FaultPoint.TOOL_TIMEOUT):
            await asyncio.sleep(_HANG_S)
        if fault_active(FaultPoint.TOOL_ERROR):
            raise ToolFailed()
        return await super()._lookup(order_id)


def faulty_router(inner: Router) -> Router:
    def route(features: RouteFeatures, thresholds: RouteThresholds) -> RouteDecision:
        if fault_active(FaultPoint.ROUTER_PARSE):
            raise ProviderBadResponse("The routing decision could not be parsed.")
        return inner(features, thresholds)

    return route


class FaultyAnswerCache(AnswerCache):
    """The service's answer cache (in process or in Redis), unreachable on demand, and out of
    the way of every other fault: a drill's faults must reach the pipeline, not a stored answer
    or search. Stores and lookups go to the wrapped cache, so a drill on Redis drills Redis."""

    def __init__(self, inner: AnswerCache) -> None:
        answers = inner.answers
        super().__init__(
            max_entries=answers.max_entries, ttl_s=answers.ttl_s, metrics=inner.metrics
        )
        self.inner = inner

    def search(self, normalized: str, kb_version: str) -> list[Evidence] | None:
        return None if current_faults().any else self.inner.search(normalized, kb_version)

    def remember_search(self, normalized: str, kb_version: str, evidence: list[Evidence]) -> None:
        if not current_faults().any:
            self.inner.remember_search(normalized, kb_version, evidence)

    async def serve(self, plan: AnswerPlan, key: CacheKey | None) -> AnswerPlan:
        faults = current_faults()
        if faults.points - {FaultPoint.CACHE_UNAVAILABLE} or faults.model_fault:
            return plan
        return await super().serve(plan, key)

    async def lookup(self, key: CacheKey) -> str | None:
        if fault_active(FaultPoint.CACHE_UNAVAILABLE):
            raise ConnectionError("answer cache unavailable (injected fault)")
        return await self.inner.lookup(key)

    def store(self, key: CacheKey, text: str) -> None:
        self.inner.store(key, text)


class SimulatorFaultProvider:
    """Sends the request's ``model:<fault>`` to the simulator on its first model call."""

    def __init__(self, inner: ChatProvider) -> None:
        self.inner = inner
        self.name = inner.name

    def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        active = _current.get()
        if active is not None and active.model_fault_pending and active.faults.model_fault:
            active.model_fault_pending = False
            headers = {**request.headers, SIM_FAULT_HEADER: active.faults.model_fault}
            request = dataclasses.replace(request, headers=headers)
        return self.inner.stream(request, usage)

    async def aclose(self) -> None:
        await self.inner.aclose()


def install_faults(services: Services) -> Services:
    """``services`` with every fault point wrapped around its collaborator."""
    retriever = services.retriever
    searcher = GuardedRetriever(FaultySearcher(retriever.retriever), timeout_s=retriever.timeout_s)
    orders = services.orders
    if isinstance(orders, OrderStatusTool):
        orders = FaultyOrderStatusTool(
            orders.db_path,
            timeout_s=orders.timeout_s,
            attempts=orders.attempts,
            metrics=orders.metrics,
        )
    cache = services.cache
    if cache is not None:
        cache = FaultyAnswerCache(cache)
    services.generator.provider = SimulatorFaultProvider(services.generator.provider)
    return dataclasses.replace(
        services,
        retriever=searcher,
        orders=orders,
        router=faulty_router(services.router),
        cache=cache,
    )


def drill_harness() -> Harness:
    """The drill scaffolding: the fault header's middleware and the fault wrappers."""
    return Harness(wrap_services=install_faults, middleware=(Middleware(FaultInjectionMiddleware),))
