"""Admission control at the door of ``/ask``: who may ask, how often, and how many at once.

``authenticate`` runs first, before the body is even parsed (401); ``enter`` runs in the plan's
admission step (429 with ``Retry-After`` past the caller's rate or a full queue). Both happen
before the response starts, so every refusal is a plain HTTP error; each is counted in
``beacon_shed_total{reason}``. An admitted request holds a ``Ticket`` (maybe a queued one) that
the request's accounting releases when it ends.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.admission.bucket import RateLimiter
from service.admission.caller import Caller
from service.admission.gate import ConcurrencyGate, Ticket
from service.admission.keys import ApiKeys
from service.errors import Overloaded, RateLimited, Unauthorized
from service.observability.metrics import Metrics
from service.settings import AdmissionSettings


class Admission:
    def __init__(self, settings: AdmissionSettings, metrics: Metrics) -> None:
        self.metrics = metrics
        self.keys = ApiKeys(settings.api_key_sha256)
        self.limiter = RateLimiter(rate_per_s=settings.rate_per_s, burst=settings.burst)
        self.gate = ConcurrencyGate(
            limit=settings.max_in_flight,
            max_queue=settings.max_queue,
            max_wait_s=settings.max_wait_s,
            queued_every_s=settings.queued_every_s,
            retry_after_s=settings.retry_after_s,
            metrics=metrics,
        )

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller the headers prove, or raise ``Unauthorized``."""
        identity = self.keys.identify(headers)
        if identity is None:
            self._shed("unauthorized")
            raise Unauthorized()
        return Caller(identity)

    def enter(self, caller: Caller) -> Ticket:
        """A slot or a queue place for this request, or raise the refusal to send instead."""
        retry_after_s = self.limiter.try_take(caller.identity)
        if retry_after_s is not None:
            self._shed("rate_limited")
            raise RateLimited(retry_after_s=retry_after_s)
        try:
            return self.gate.enter()
        except Overloaded:
            self._shed("queue_full")
            raise

    def admit(self, headers: Mapping[str, str]) -> Ticket:
        """``authenticate`` then ``enter``, for callers that hold nothing but headers."""
        return self.enter(self.authenticate(headers))

    def _shed(self, reason: str) -> None:
        self.metrics.shed.labels(reason).inc()
