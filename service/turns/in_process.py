"""The default ``TurnBuffer``: turns live in this process, expire by TTL, capped in number."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable

import structlog

from service.turns.buffer import (
    EventStream,
    Turn,
    TurnCodec,
    TurnConflict,
    TurnLimits,
    TurnNotFound,
)

log = structlog.get_logger("beacon.turns")


class InProcessTurnBuffer:
    def __init__(self, limits: TurnLimits | None = None) -> None:
        self.limits = limits or TurnLimits()
        self._turns: OrderedDict[str, Turn] = OrderedDict()

    def __len__(self) -> int:
        return len(self._turns)

    async def start(
        self,
        turn_id: str,
        *,
        owner: str,
        fingerprint: str,
        trace_id: str,
        events: Callable[[], EventStream],
        codec: TurnCodec,
    ) -> tuple[Turn, bool]:
        """The turn with this id, started now if new: ``(turn, started)``. ``events`` is called
        only for a new turn, so a repeated id never opens a second generation."""
        self._expire()
        existing = self._turns.get(turn_id)
        if existing is not None and existing.owner == owner:
            if existing.fingerprint != fingerprint:
                raise TurnConflict()
            return existing, False
        if existing is not None:  # another caller's id: refuse without revealing it exists
            raise TurnConflict()
        stream = events()  # may refuse (admission): then no turn is registered
        turn = Turn(
            turn_id, owner=owner, fingerprint=fingerprint, trace_id=trace_id, limits=self.limits
        )
        self._turns[turn_id] = turn
        turn.task = asyncio.create_task(_pump(turn, stream, codec), name=f"turn-{turn_id}")
        return turn, True

    async def find(self, turn_id: str, *, owner: str) -> Turn | None:
        return self.find_local(turn_id, owner=owner)

    def find_local(self, turn_id: str, *, owner: str) -> Turn | None:
        """The caller's live turn with this id, if any (expired turns count as none)."""
        turn = self._turns.get(turn_id)
        if turn is None or turn.owner != owner or self._expired(turn, time.monotonic()):
            return None
        return turn

    async def get(self, turn_id: str, *, owner: str) -> Turn:
        turn = self.find_local(turn_id, owner=owner)
        if turn is None:
            raise TurnNotFound()
        return turn

    async def cancel(self, turn_id: str, *, owner: str) -> bool:
        """Stop a running turn; ``False`` when it had already ended."""
        turn = await self.get(turn_id, owner=owner)
        if turn.finished or turn.task is None:
            return False
        turn.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn.task
        return True

    async def aclose(self) -> None:
        tasks = [turn.task for turn in self._turns.values() if turn.task and not turn.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._turns.clear()

    def _expired(self, turn: Turn, now: float) -> bool:
        return turn.finished_at is not None and now - turn.finished_at > self.limits.ttl_s

    def _expire(self) -> None:
        now = time.monotonic()
        for turn_id in [tid for tid, turn in self._turns.items() if self._expired(turn, now)]:
            del self._turns[turn_id]
        # Over the cap: forget the oldest finished turns (running ones are never dropped).
        excess = len(self._turns) - self.limits.max_turns + 1
        for turn_id in [tid for tid, turn in self._turns.items() if turn.finished][:excess]:
            del self._turns[turn_id]


async def _pump(turn: Turn, events: EventStream, codec: TurnCodec) -> None:
    """Run the generation to its end, whoever is listening; encode each event exactly once."""
    event_id = 0
    try:
        async for event in events:
            event_id += 1
            turn.append((event_id, codec.frame(event, event_id)))
    except asyncio.CancelledError:
        turn.append((event_id + 1, codec.cancelled(event_id + 1)))  # one terminal event
        raise
    except Exception:  # the pipeline yields its own error event; this is a last resort
        log.exception("turn_failed", turn_id=turn.turn_id)
        turn.append((event_id + 1, codec.failed(event_id + 1)))
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        turn.finish()
