"""A per-key token bucket shared by every replica, with a stricter local fallback.

The bucket lives in one Redis hash and is taken by one Lua script, so two replicas can never
both spend the last token. The script reads Redis's own clock (``TIME``): replicas with skewed
clocks still refill the bucket at one rate.

When Redis is down or slow, a replica cannot see what the others spent. It then limits locally
to ``local_share`` of the rate and burst (with three replicas, 1/3 keeps the sum at the limit),
and counts the fallback in ``beacon_state_errors_total{feature="rate_limit"}``.
"""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from service.admission.bucket import RateLimiter
from service.state.connection import KeySpace
from service.state.health import StateHealth

# KEYS[1]: the bucket; ARGV: rate per second, burst. Returns the wait in seconds ("0": taken).
TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class SharedRateLimiter:
    """``await try_take(caller)``: None when the caller may proceed, else ``Retry-After``."""

    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        rate_per_s: float | None,
        burst: int,
        local_share: float,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._keys = keys
        self._health = health
        self._script = redis.register_script(TAKE_TOKEN)
        local_rate = rate_per_s * local_share if rate_per_s is not None else None
        self._local = RateLimiter(rate_per_s=local_rate, burst=max(1, int(burst * local_share)))

    async def try_take(self, caller: str) -> float | None:
        if self.rate_per_s is None:
            return None
        try:
            async with self._health.call("rate_limit"):
                reply = await self._script(
                    keys=[self._keys.key(f"rate:{caller}")], args=[self.rate_per_s, self.burst]
                )
        except (RedisError, OSError, TimeoutError):
            return await self._local.try_take(caller)
        wait = float(reply)
        return None if wait <= 0 else math.ceil(wait * 1000) / 1000
