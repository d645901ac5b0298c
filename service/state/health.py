"""How Redis is doing, from the calls the backends make: timings, errors, and a short cooldown.

Each backend wraps its Redis call in ``health.call(feature)``. A failed or timed-out call marks
Redis unavailable for ``cooldown_s``: during that time calls fail at once with
``StateUnavailable`` and each feature takes its documented fallback (cache: miss; rate limit:
local; conversations: stateless), so a dead Redis costs requests nothing instead of a timeout
each. After the cooldown the next call is a probe: success brings every feature back.

A real failure (not a call failed at once during the cooldown) logs ``state_call_failed`` with
the feature and the error's type. Metrics: ``beacon_state_duration_seconds{feature}``,
``beacon_state_errors_total{feature}``, ``beacon_state_up`` (0 while unavailable). ``feature`` is
a closed set (``service.observability.metrics.STATE_FEATURES``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from prometheus_client import Counter, Gauge, Histogram
from redis.exceptions import RedisError

log = structlog.get_logger("beacon.state")


class StateUnavailable(RedisError):
    """Redis failed recently; the feature falls back without waiting for another timeout."""


# What a backend catches around a Redis call: its own errors, socket errors and time-outs.
STATE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class StateHealth:
    def __init__(
        self,
        *,
        duration: Histogram,
        errors: Counter,
        up: Gauge,
        cooldown_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._duration = duration
        self._errors = errors
        self._up = up
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._down_until = 0.0
        self.last_error: str | None = None
        self.ever_up = False  # reached Redis at least once since start
        up.set(1)

    @property
    def available(self) -> bool:
        return self._clock() >= self._down_until

    @asynccontextmanager
    async def call(self, feature: str) -> AsyncIterator[None]:
        if not self.available:
            self._errors.labels(feature).inc()
            raise StateUnavailable("redis unavailable (cooling down after a failure)")
        started = time.perf_counter()
        try:
            yield
        except STATE_ERRORS as error:
            self._errors.labels(feature).inc()
            # One line per real failure: the cooldown after it fails the next calls unlogged.
            log.warning("state_call_failed", feature=feature, error=type(error).__name__)
            self.mark_down(type(error).__name__)
            raise
        finally:
            self._duration.labels(feature).observe(time.perf_counter() - started)
        self.mark_up()

    def mark_down(self, reason: str) -> None:
        self._down_until = self._clock() + self.cooldown_s
        self.last_error = reason
        self._up.set(0)

    def mark_up(self) -> None:
        self.ever_up = True
        if self.last_error is not None:
            self.last_error = None
            self._up.set(1)
