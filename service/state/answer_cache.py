"""The answer cache with its answers in Redis (searches stay in process: they are a pure
function of the question and the KB, cheap to recompute per replica)."""

from __future__ import annotations

import asyncio
import dataclasses

from service.observability.metrics import Metrics
from service.pipeline.cache import AnswerCache, CacheKey
from service.state.answers import SharedAnswerStore


class SharedAnswerCache(AnswerCache):
    def __init__(
        self, store: SharedAnswerStore, *, max_entries: int, ttl_s: float, metrics: Metrics
    ) -> None:
        super().__init__(max_entries=max_entries, ttl_s=ttl_s, metrics=metrics)
        self.store_backend = store
        self._writes: set[asyncio.Task[None]] = set()

    async def lookup(self, key: CacheKey) -> str | None:
        return await self.store_backend.get(_fields(key))

    def store(self, key: CacheKey, text: str) -> None:
        """Written by a task: the stream has ended, nobody should wait for Redis."""
        task = asyncio.get_running_loop().create_task(self.store_backend.put(_fields(key), text))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)


def _fields(key: CacheKey) -> tuple[str, ...]:
    return tuple(str(value) for value in dataclasses.astuple(key))
