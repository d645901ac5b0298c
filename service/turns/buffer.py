"""Per-turn event buffers: one generation per client turn id, replayable after a lost connection.

A resumable turn runs in its own task, detached from the HTTP response that started it: the
task encodes each event once into a frame (``TurnCodec``) and appends it to the turn's buffer,
and any number of readers (the first response, a reconnect with ``Last-Event-ID``) replay the frames
after the id they last saw, then follow live ones. A dropped socket ends a reader, never the
generation; only ``cancel`` stops it. Buffers are bounded in events and bytes (the oldest
frames are dropped first) and forgotten ``ttl_s`` after the turn ends.

``TurnBuffer`` is the interface; ``InProcessTurnBuffer`` the default backend (a Redis Streams
backend can implement the same four methods so that replicas share turns).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from service.errors import InputError

Frame = tuple[int, bytes]  # (event id, the encoded frame)
EventStream = AsyncIterator[Any]


class TurnCodec(Protocol):
    """How one turn's events become wire bytes (Beacon's SSE, or OpenAI chunks). Event ids are
    the buffer's: 1, 2, 3... in the order the answer produced them."""

    def frame(self, event: Any, event_id: int) -> bytes: ...

    def cancelled(self, event_id: int) -> bytes:
        """The terminal frame readers get after an explicit cancel."""
        ...

    def failed(self, event_id: int) -> bytes:
        """The terminal frame when the answer broke off without one of its own."""
        ...


class TurnNotFound(InputError):
    """No such turn for this caller (never started, expired, or someone else's)."""

    status = 404
    code = "turn_not_found"
    default_message = "There is no such turn (it may have expired); ask again."


class TurnConflict(InputError):
    """The turn id was already used for a different request."""

    status = 409
    code = "turn_conflict"
    default_message = "This turn id was already used for another question."


class TurnHistoryLost(InputError):
    """The frames after the given ``Last-Event-ID`` were dropped to keep the buffer bounded."""

    status = 410
    code = "turn_history_lost"
    default_message = "That part of the answer is no longer available; ask again."


@dataclass(frozen=True, slots=True)
class TurnLimits:
    max_events: int = 4096
    max_bytes: int = 1_048_576
    ttl_s: float = 300.0
    max_turns: int = 10_000


def fingerprint(*parts: str) -> str:
    """What a turn was asked (so a reused id with another question is refused, not replayed)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class Turn:
    """One turn's frames and the task that produces them."""

    def __init__(
        self, turn_id: str, *, owner: str, fingerprint: str, trace_id: str, limits: TurnLimits
    ) -> None:
        self.turn_id = turn_id
        self.trace_id = trace_id
        self.owner = owner
        self.fingerprint = fingerprint
        self.limits = limits
        self.frames: deque[Frame] = deque()
        self.bytes = 0
        self.dropped_through = 0  # every id <= this one was evicted
        self.finished_at: float | None = None
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def append(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.bytes += len(frame[1])
        while len(self.frames) > self.limits.max_events or (
            self.bytes > self.limits.max_bytes and len(self.frames) > 1
        ):
            old_id, old = self.frames.popleft()
            self.bytes -= len(old)
            self.dropped_through = old_id
        self._wake()

    def finish(self) -> None:
        self.finished_at = time.monotonic()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def after(self, last_id: int) -> list[bytes]:
        """The frames with an id greater than ``last_id``, oldest first."""
        if last_id < self.dropped_through:
            raise TurnHistoryLost()
        return [frame for event_id, frame in self.frames if event_id > last_id]

    async def follow(
        self, last_id: int, *, keepalive_s: float, keepalive: bytes
    ) -> AsyncIterator[bytes]:
        """Replay, then stream live frames until the turn ends; idle gaps get ``keepalive``."""
        while True:
            waiter = self._changed
            pending = self.after(last_id)
            if pending:
                last_id = max(last_id, self._last_id())
                yield b"".join(pending)  # one send for everything that is ready
            if self.finished:
                return
            if not pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), timeout=keepalive_s)
                    continue
                yield keepalive

    def _last_id(self) -> int:
        return self.frames[-1][0] if self.frames else self.dropped_through

    async def ensure_available(self, last_id: int) -> None:
        """Raise ``TurnHistoryLost`` (410) now, before any byte, if that part was dropped."""
        self.after(last_id)


class TurnReader(Protocol):
    """What a client reads a turn through: this replica's ``Turn``, or another replica's (read
    from shared state, ``service/state/turns.py``)."""

    turn_id: str
    trace_id: str
    fingerprint: str

    async def ensure_available(self, last_id: int) -> None: ...

    def follow(
        self, last_id: int, *, keepalive_s: float, keepalive: bytes
    ) -> AsyncIterator[bytes]: ...


class TurnBuffer(Protocol):
    """Start a turn once, read it from any event id, cancel it, and close the backend."""

    async def start(
        self,
        turn_id: str,
        *,
        owner: str,
        fingerprint: str,
        trace_id: str,
        events: Callable[[], EventStream],
        codec: TurnCodec,
    ) -> tuple[TurnReader, bool]: ...

    async def find(self, turn_id: str, *, owner: str) -> TurnReader | None: ...

    async def get(self, turn_id: str, *, owner: str) -> TurnReader: ...

    async def cancel(self, turn_id: str, *, owner: str) -> bool: ...

    async def aclose(self) -> None: ...
