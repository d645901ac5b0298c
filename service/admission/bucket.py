"""A token bucket per caller: ``rate_per_s`` sustained, ``burst`` at once."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def try_take(self) -> float | None:
        """Take one token; return None on success, else the seconds until one is available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return (1 - self._tokens) / self.rate_per_s


class RateLimiter:
    """One bucket per caller identity (key digests come from settings, so the set is bounded)."""

    def __init__(
        self,
        *,
        rate_per_s: float | None,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    async def try_take(self, caller: str) -> float | None:
        """None when ``caller`` may proceed, else the ``Retry-After`` in seconds (awaitable, like
        the shared limiter in ``service/state/rate_limit.py``)."""
        if self.rate_per_s is None:
            return None
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = TokenBucket(rate_per_s=self.rate_per_s, burst=self.burst, clock=self._clock)
            self._buckets[caller] = bucket
        return bucket.try_take()
