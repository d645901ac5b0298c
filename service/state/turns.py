"""Resumable turns shared by replicas: the frames of each turn mirrored into a Redis Stream.

The replica that starts a turn runs it exactly as the in-process buffer does (a local ``Turn``
fed by its own task, read directly by local clients) and mirrors every frame into the stream
``{turn:<id>}:frames`` with the event id as the stream id (``<id>-0``), so ``Last-Event-ID``
maps straight onto ``XRANGE``. A client that reconnects to another replica reads the stream.
``{turn:<id>}:meta`` holds the owner, the request fingerprint, the trace id, the state and a
cancel flag; one Lua script claims a turn id, so the same id never starts two generations, on
any replica. Cancelling on another replica sets the flag; the generating replica's mirror sees
it within ``poll_s`` and stops the generation.

Redis unavailable when a turn starts: the turn is local only (it resumes on this replica), and
``beacon_state_errors_total{feature="turns"}`` counts it. Remote readers poll the stream every
``poll_s`` rather than blocking, so no read outlives the pool's call timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from redis.asyncio import Redis

from service.state.connection import KeySpace
from service.state.health import STATE_ERRORS, StateHealth
from service.turns.buffer import (
    EventStream,
    Turn,
    TurnCodec,
    TurnConflict,
    TurnHistoryLost,
    TurnLimits,
    TurnNotFound,
    TurnReader,
)
from service.turns.in_process import InProcessTurnBuffer

# KEYS: meta. ARGV: owner, fingerprint, trace_id, ttl_ms.
# Returns {} when the id was free (now claimed), else {owner, fingerprint, trace_id}.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HMGET', KEYS[1], 'owner', 'fingerprint', 'trace_id')
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'fingerprint', ARGV[2], 'trace_id', ARGV[3],
           'state', 'running', 'cancel', '0', 'dropped', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {}
"""


class RemoteTurn:
    """A turn another replica is generating (or generated), read from its Redis Stream."""

    def __init__(
        self, buffer: RedisTurnBuffer, turn_id: str, trace_id: str, fingerprint: str
    ) -> None:
        self.buffer = buffer
        self.turn_id = turn_id
        self.trace_id = trace_id
        self.fingerprint = fingerprint

    async def ensure_available(self, last_id: int) -> None:
        """Raise ``TurnHistoryLost`` (410) now if frames after ``last_id`` were trimmed."""
        if last_id < await self.buffer.dropped_through(self.turn_id):
            raise TurnHistoryLost()

    async def follow(
        self, last_id: int, *, keepalive_s: float, keepalive: bytes
    ) -> AsyncIterator[bytes]:
        buffer = self.buffer
        idle = 0.0
        while True:
            frames, finished = await buffer.read_after(self.turn_id, last_id)
            if frames:
                idle = 0.0
                last_id = frames[-1][0]
                yield b"".join(frame for _, frame in frames)
                continue
            if finished:
                return
            await asyncio.sleep(buffer.poll_s)
            idle += buffer.poll_s
            if idle >= keepalive_s:
                idle = 0.0
                yield keepalive


class RedisTurnBuffer:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        limits: TurnLimits,
        poll_s: float = 0.1,
        running_ttl_s: float = 3600.0,
    ) -> None:
        self.limits = limits
        self.poll_s = poll_s
        self.running_ttl_s = running_ttl_s
        self._redis = redis
        self._keys = keys
        self._health = health
        self._local = InProcessTurnBuffer(limits)
        self._claim = redis.register_script(CLAIM)
        self._mirrors: set[asyncio.Task[None]] = set()

    def _meta(self, turn_id: str) -> str:
        return self._keys.key(f"turn:{turn_id}", "meta")

    def _frames(self, turn_id: str) -> str:
        return self._keys.key(f"turn:{turn_id}", "frames")

    async def start(
        self,
        turn_id: str,
        *,
        owner: str,
        fingerprint: str,
        trace_id: str,
        events: Callable[[], EventStream],
        codec: TurnCodec,
    ) -> tuple[TurnReader, bool]:
        local = self._local.find_local(turn_id, owner=owner)
        if local is not None:
            return await self._local.start(
                turn_id,
                owner=owner,
                fingerprint=fingerprint,
                trace_id=trace_id,
                events=events,
                codec=codec,
            )
        try:
            async with self._health.call("turns"):
                args: list[str | int] = [
                    owner,
                    fingerprint,
                    trace_id,
                    int(self.running_ttl_s * 1000),
                ]
                claimed = await self._claim(keys=[self._meta(turn_id)], args=args)
        except STATE_ERRORS:
            claimed = []  # Redis down: a local-only turn, resumable on this replica
        if claimed:
            found_owner, found_fingerprint, found_trace = (_text(item) for item in claimed)
            if found_owner != owner or found_fingerprint != fingerprint:
                raise TurnConflict()
            return RemoteTurn(self, turn_id, found_trace, found_fingerprint), False
        turn, started = await self._local.start(
            turn_id,
            owner=owner,
            fingerprint=fingerprint,
            trace_id=trace_id,
            events=events,
            codec=codec,
        )
        mirror = asyncio.create_task(self._mirror(turn), name=f"turn-mirror-{turn_id}")
        self._mirrors.add(mirror)
        mirror.add_done_callback(self._mirrors.discard)
        return turn, started

    async def find(self, turn_id: str, *, owner: str) -> TurnReader | None:
        local = self._local.find_local(turn_id, owner=owner)
        if local is not None:
            return local
        try:
            async with self._health.call("turns"):
                fields = ["owner", "trace_id", "fingerprint"]
                found = await self._redis.hmget(self._meta(turn_id), fields)
        except STATE_ERRORS:
            return None
        if found[0] is None or _text(found[0]) != owner:
            return None  # never started, expired, or someone else's: all look alike
        return RemoteTurn(self, turn_id, _text(found[1] or b""), _text(found[2] or b""))

    async def get(self, turn_id: str, *, owner: str) -> TurnReader:
        turn = await self.find(turn_id, owner=owner)
        if turn is None:
            raise TurnNotFound()
        return turn

    async def cancel(self, turn_id: str, *, owner: str) -> bool:
        if self._local.find_local(turn_id, owner=owner) is not None:
            return await self._local.cancel(turn_id, owner=owner)
        turn = await self.get(turn_id, owner=owner)  # 404 unless it is this caller's
        async with self._health.call("turns"):
            state = await self._redis.hget(self._meta(turn.turn_id), "state")
            if state is None or _text(state) != "running":
                return False
            await self._redis.hset(self._meta(turn_id), "cancel", "1")
        return True

    async def aclose(self) -> None:
        await self._local.aclose()
        for mirror in list(self._mirrors):
            with contextlib.suppress(asyncio.CancelledError):
                await mirror

    async def read_after(self, turn_id: str, last_id: int) -> tuple[list[tuple[int, bytes]], bool]:
        """Frames after ``last_id`` in order, and whether the turn has finished."""
        meta, stream = self._meta(turn_id), self._frames(turn_id)
        async with self._health.call("turns"), self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(meta, "state")
            pipe.xrange(stream, min=f"({last_id}-0", max="+", count=256)
            state, entries = await pipe.execute()
        frames = [
            (int(_text(entry_id).split("-")[0]), bytes(data[b"f"])) for entry_id, data in entries
        ]
        return frames, state is None or _text(state) == "finished"

    async def dropped_through(self, turn_id: str) -> int:
        async with self._health.call("turns"):
            dropped = await self._redis.hget(self._meta(turn_id), "dropped")
        return int(_text(dropped)) if dropped is not None else 0

    async def _mirror(self, turn: Turn) -> None:
        """Copy the local turn's frames into its stream until it finishes; obey remote cancels."""
        mirrored = 0
        with contextlib.suppress(TurnHistoryLost, *STATE_ERRORS):
            async for _ in turn.follow(0, keepalive_s=self.poll_s, keepalive=b""):
                mirrored = await self._flush(turn, mirrored)
            await self._flush(turn, mirrored, finished=True)

    async def _flush(self, turn: Turn, mirrored: int, *, finished: bool = False) -> int:
        frames = [(event_id, frame) for event_id, frame in list(turn.frames) if event_id > mirrored]
        meta, stream = self._meta(turn.turn_id), self._frames(turn.turn_id)
        async with self._health.call("turns"), self._redis.pipeline(transaction=True) as pipe:
            for event_id, frame in frames:
                pipe.xadd(stream, {"f": frame}, id=f"{event_id}-0")
            if frames:
                pipe.xtrim(stream, maxlen=self.limits.max_events, approximate=False)
                pipe.hset(meta, "dropped", str(turn.dropped_through))
            if finished:
                ttl_ms = int(self.limits.ttl_s * 1000)
                pipe.hset(meta, "state", "finished")
                pipe.pexpire(meta, ttl_ms)
                pipe.pexpire(stream, ttl_ms)
            pipe.hget(meta, "cancel")
            *_, cancel = await pipe.execute()
        if cancel is not None and _text(cancel) == "1" and turn.task and not turn.finished:
            turn.task.cancel()
        return frames[-1][0] if frames else mirrored


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
