"""Circuit-breaker state shared by every replica: a model tripped on one is open on all.

Each replica still counts its own failures (``service/resilience/breaker.py``); what is shared
is the verdict. A replica whose breaker opens publishes it as a key that expires with the
cooldown, and every replica asks for that key before it calls the model, so one replica's
evidence that a model is down spares the others their first-token timeouts. A success closes
the circuit for all. Redis unavailable: each replica keeps its local breakers, as before.
"""

from __future__ import annotations

import asyncio
import contextlib

from redis.asyncio import Redis

from service.resilience.breaker import CircuitBoard
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
        """Open for everyone; NX: adopting a verdict never extends another replica's cooldown."""
        try:
            async with self._health.call("breaker"):
                px = max(1, int(cooldown_s * 1000))
                await self._redis.set(self._key(model), "1", px=px, nx=True)
        except STATE_ERRORS:
            return

    async def publish_closed(self, model: str) -> None:
        try:
            async with self._health.call("breaker"):
                await self._redis.delete(self._key(model))
        except STATE_ERRORS:
            return


class BreakerSync:
    """Keeps a replica's breakers and the shared verdicts in step.

    A local change is published at once (a task per change); other replicas' verdicts are read
    every ``every_s`` for the models in play and adopted (``CircuitBreaker.open_for``), so no
    request pays a Redis round trip for its breaker."""

    def __init__(
        self, shared: SharedBreakers, board: CircuitBoard, models: tuple[str, ...], *,
        every_s: float = 0.25,
    ) -> None:  # fmt: skip
        self.shared = shared
        self.board = board
        self.models = models
        self.every_s = every_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        board.listeners.append(self._changed)

    def start(self) -> None:
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _changed(self, model: str, is_open: bool) -> None:
        cooldown = self.board.policy.cooldown_s
        publish = self.shared.publish_open(model, cooldown) if is_open else (
            self.shared.publish_closed(model)
        )  # fmt: skip
        task = asyncio.get_running_loop().create_task(publish)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self) -> None:
        while True:
            for model in self.models:
                remaining = await self.shared.open_for(model)
                breaker = self.board[model]
                if remaining > 0 and breaker.state.value == "closed":
                    breaker.open_for(remaining)
            await asyncio.sleep(self.every_s)
