"""Circuit-breaker state shared by every replica: a model tripped on one is open on all.

Each replica still counts its own failures (``service/resilience/breaker.py``); what is shared
is the verdict. A replica whose breaker opens publishes it as a key that expires with the
cooldown, and every replica asks for that key before it calls the model, so one replica's
evidence that a model is down spares the others their first-token timeouts. A success closes
the circuit for all. Redis unavailable: each replica keeps its local breakers, as before.
"""

from __future__ import annotations

from redis.asyncio import Redis

from service.state.connection import KeySpace
from service.state.health import STATE_ERRORS, StateHealth


class SharedBreakers:
    def __init__(self, redis: Redis, keys: KeySpace, health: StateHealth) -> None:
        self._redis = redis
        self._keys = keys
        self._health = health

    def _key(self, model: str) -> str:
        return self._keys.key(f"breaker:{model}", "open")

    async def open_for(self, model: str) -> float:
        """Seconds the shared circuit of ``model`` stays open; 0 when closed or unknown."""
        try:
            async with self._health.call("breaker"):
                remaining_ms = int(await self._redis.pttl(self._key(model)))
        except STATE_ERRORS:
            return 0.0
        return remaining_ms / 1000 if remaining_ms > 0 else 0.0

    async def publish_open(self, model: str, cooldown_s: float) -> None:
        try:
            async with self._health.call("breaker"):
                await self._redis.set(self._key(model), "1", px=max(1, int(cooldown_s * 1000)))
        except STATE_ERRORS:
            return

    async def publish_closed(self, model: str) -> None:
        try:
            async with self._health.call("breaker"):
                await self._redis.delete(self._key(model))
        except STATE_ERRORS:
            return
