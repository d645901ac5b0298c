"""Deadlines on a model stream: time to first token, gap between chunks, and total.

One ``DeadlineTimer`` per stream, not one ``asyncio.timeout`` per chunk: each chunk only moves
a float (``wait``), and the single loop timer, when it fires early, re-arms itself at the
current deadline. It counts only time spent waiting on the upstream: when it fires while the
consumer holds a chunk it does nothing, and the next wait starts a fresh gap. On expiry it
cancels the waiting task, so the provider's generator unwinds (its ``finally`` closes the
upstream response) and the waiter turns the cancellation into ``ProviderTimeout``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from service.errors import ProviderTimeout


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_token_s: float
    chunk_s: float
    total_s: float


class DeadlineTimer:
    """The deadlines of one stream, read by whoever waits on it (``wait`` ... ``received``)."""

    __slots__ = (
        "_handle",
        "_loop",
        "_task",
        "_total_at",
        "deadlines",
        "expired",
        "waiting",
        "waiting_until",
    )

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None, "a deadline needs a task to cancel"
        self._task = task
        self._total_at = self._loop.time() + deadlines.total_s
        self._handle: asyncio.TimerHandle | None = None
        self.waiting_until = 0.0
        self.waiting = False
        self.expired = False

    def wait(self, gap_s: float) -> None:
        """The caller is about to await the upstream for at most ``gap_s`` seconds."""
        until = self._loop.time() + gap_s
        if until > self._total_at:
            until = self._total_at
        self.waiting_until = until
        self.waiting = True
        handle = self._handle
        if handle is None or handle.when() > until:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(until, self._fire)

    def received(self) -> None:
        self.waiting = False

    def timed_out(self) -> bool:
        """After a ``CancelledError``: was it this timer's? If so the task is un-cancelled."""
        if not self.expired:
            return False
        self.expired = False
        self._task.uncancel()
        return True

    def cancel(self) -> None:
        self.waiting = False
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        if not self.waiting:
            return  # the consumer has the chunk: the next wait arms a fresh gap
        if self._loop.time() < self.waiting_until:
            self._handle = self._loop.call_at(self.waiting_until, self._fire)
            return
        self.expired = True
        self._task.cancel()


async def stream_within(source: AsyncIterator[str], deadlines: Deadlines) -> AsyncIterator[str]:
    """Relay ``source`` under ``deadlines``; raise ``ProviderTimeout`` when one passes.

    The resilience chain inlines this loop (one generator layer fewer per token); this form
    serves callers that wrap a single stream."""
    timer = DeadlineTimer(deadlines)
    gap_s = deadlines.first_token_s
    try:
        while True:
            timer.wait(gap_s)
            try:
                chunk = await anext(source)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if timer.timed_out():
                    raise ProviderTimeout() from None
                raise
            timer.received()
            gap_s = deadlines.chunk_s
            yield chunk
    finally:
        timer.cancel()
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()
