"""The answer cache in Redis: one string per key, expiring with the cache's TTL.

Keys are the SHA-256 of the cache key's fields, so a long question never makes a long key and
the key says nothing about the question. An unavailable Redis is a miss that stores nothing.
Size is bounded by the TTL plus Redis's own ``maxmemory`` policy (``allkeys-lru`` advised in
deploy/), not by a count, since replicas cannot share an LRU order cheaply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redis.asyncio import Redis

from service.state.connection import KeySpace
from service.state.health import STATE_ERRORS, StateHealth

MAX_ANSWER_BYTES = 64 * 1024  # an answer larger than this is served, never stored


def digest(fields: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


class SharedAnswerStore:
    def __init__(self, redis: Redis, keys: KeySpace, health: StateHealth, *, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._redis = redis
        self._keys = keys
        self._health = health

    def _key(self, fields: Sequence[str]) -> str:
        name = digest(fields)
        return self._keys.key(f"answer:{name[:16]}", name[16:])

    async def get(self, fields: Sequence[str]) -> str | None:
        """The stored answer; None on a miss. Raises on a Redis failure (the caller counts an
        ``error``, which is served as a miss)."""
        async with self._health.call("cache"):
            value = await self._redis.get(self._key(fields))
        return (
            None if value is None else value.decode("utf-8") if isinstance(value, bytes) else value
        )

    async def put(self, fields: Sequence[str], text: str) -> None:
        data = text.encode("utf-8")
        if len(data) > MAX_ANSWER_BYTES:
            return
        try:
            async with self._health.call("cache"):
                await self._redis.set(self._key(fields), data, px=int(self.ttl_s * 1000))
        except STATE_ERRORS:
            return
