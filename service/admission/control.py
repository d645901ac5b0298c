"""Admission control at the door of ``/ask``: who may ask, how often, and how many at once.

``authenticate`` runs first, before the body is even parsed (401); ``enter`` runs in the plan's
admission step (429 with ``Retry-After`` past the caller's rate or a full queue). Both happen
before the response starts, so every refusal is a plain HTTP error; each is counted in
``beacon_shed_total{reason}``. An admitted request holds a ``Ticket`` (maybe a queued one) that
the request's accounting releases when it ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

from service.admission.bucket import RateLimiter
from service.admission.caller import Caller
from service.admission.gate import ConcurrencyGate
from service.admission.keys import ApiKeys
from service.errors import Overloaded, RateLimited, Unauthorized
from service.observability.metrics import Metrics
from service.settings import AdmissionSettings


class Limiter(Protocol):
    async def try_take(self, caller: str) -> float | None: ...


class Slot(Protocol):
    def wait(self) -> AsyncIterator[int]: ...

    def release(self) -> bool: ...


class Gate(Protocol):
    def enter(self) -> Slot: ...


class Admission:
    """In-process limits by default; ``limiter`` and ``gate`` are the seams for shared ones
    (Redis, ``service/state``), so that limits hold across replicas."""

    def __init__(
        self,
        settings: AdmissionSettings,
        metrics: Metrics,
        *,
        limiter: Limiter | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.metrics = metrics
        self.keys = ApiKeys.from_settings(settings)
        self.limiter = limiter or RateLimiter(rate_per_s=settings.rate_per_s, burst=settings.burst)
        self.gate = gate or local_gate(settings, metrics)

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller the headers prove (its key, and the customer it acts for), or raise
        ``Unauthorized`` / ``InvalidCustomerToken``."""
        try:
            return self.keys.identify(headers)
        except Unauthorized:
            self._shed("unauthorized")
            raise

    async def enter(self, caller: Caller) -> Slot:
        """A slot or a queue place for this request, or raise the refusal to send instead."""
        retry_after_s = await self.limiter.try_take(caller.identity)
        if retry_after_s is not None:
            self._shed("rate_limited")
            raise RateLimited(retry_after_s=retry_after_s)
        try:
            return self.gate.enter()
        except Overloaded:
            self._shed("queue_full")
            raise

    async def admit(self, headers: Mapping[str, str]) -> Slot:
        """``authenticate`` then ``enter``, for callers that hold nothing but headers."""
        return await self.enter(self.authenticate(headers))

    def _shed(self, reason: str) -> None:
        self.metrics.shed.labels(reason).inc()


def local_gate(settings: AdmissionSettings, metrics: Metrics, *, share: float = 1.0) -> Gate:
    """This process's concurrency limit and queue (``share`` of the configured ones)."""
    return ConcurrencyGate(
        limit=max(1, int(settings.max_in_flight * share)),
        max_queue=int(settings.max_queue * share),
        max_wait_s=settings.max_wait_s,
        queued_every_s=settings.queued_every_s,
        retry_after_s=settings.retry_after_s,
        metrics=metrics,
    )
