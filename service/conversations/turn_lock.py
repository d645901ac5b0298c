"""One turn of a conversation at a time: a second turn waits for the first (bounded), then 409.

In-process locks serialise turns on one replica; replicas sharing a Redis store need a lock
there too (a later issue).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.errors import ConversationBusy


class TurnLocks:
    def __init__(self, *, wait_s: float = 10.0) -> None:
        self.wait_s = wait_s
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str | None) -> AsyncIterator[None]:
        """Hold the conversation's turn; raise ConversationBusy after waiting ``wait_s``."""
        if conversation_id is None:
            yield
            return
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            try:
                await asyncio.wait_for(lock.acquire(), self.wait_s)
            except TimeoutError:
                raise ConversationBusy() from None
            try:
                yield
            finally:
                lock.release()
        finally:
            self._users[conversation_id] -= 1
            if not self._users[conversation_id]:  # nobody holds or waits: forget the lock
                del self._users[conversation_id], self._locks[conversation_id]

    def __len__(self) -> int:
        return len(self._locks)
