"""One turn of a conversation at a time: a second turn waits for the first (bounded), then 409.

In-process locks serialise turns on one replica; replicas sharing a Redis store also take a
lock there (``service.state.conversations.SharedTurnLocks``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from service.errors import ConversationBusy


class TurnLocks:
    def __init__(self, *, wait_s: float = 10.0) -> None:
        self.wait_s = wait_s
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    async def acquire(self, conversation_id: str | None) -> Callable[[], None]:
        """Hold the conversation's turn until the returned release is called (idempotent);
        raise ConversationBusy after waiting ``wait_s``. For a turn that outlives the handler
        that started it (a stream)."""
        if conversation_id is None:
            return _nothing
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            await asyncio.wait_for(lock.acquire(), self.wait_s)
        except TimeoutError:
            self._leave(conversation_id)
            raise ConversationBusy() from None
        except BaseException:
            self._leave(conversation_id)
            raise

        def release() -> None:
            lock.release()
            self._leave(conversation_id)

        return once(release)

    @asynccontextmanager
    async def hold(self, conversation_id: str | None) -> AsyncIterator[None]:
        """Hold the conversation's turn for the block."""
        release = await self.acquire(conversation_id)
        try:
            yield
        finally:
            release()

    def _leave(self, conversation_id: str) -> None:
        self._users[conversation_id] -= 1
        if not self._users[conversation_id]:  # nobody holds or waits: forget the lock
            del self._users[conversation_id], self._locks[conversation_id]

    def __len__(self) -> int:
        return len(self._locks)


def _nothing() -> None:
    return None


def once(action: Callable[[], None]) -> Callable[[], None]:
    """``action`` on the first call only: a turn's release is reached from several paths (the
    stream's end, a cancel, the handler's exit)."""
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run
