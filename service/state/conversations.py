"""Conversations in Redis, so the next turn finds its history on whichever replica it lands.

Per conversation, under one hash tag: ``meta`` (owner, turn count, summary) and ``turns`` (the
most recent ``max_turns`` turns, JSON, oldest first). Every append renews both keys' TTL, so an
idle conversation expires by itself (``prune`` has nothing left to do). A turn lock
(``SharedTurnLocks``) serialises the turns of one conversation across replicas, as the
in-process ``TurnLocks`` does on one.

Any Redis failure raises ``ConversationStoreUnavailable``: the turn is then answered
statelessly (``degraded: true``), never failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from service.conversations.store import ConversationStoreUnavailable
from service.conversations.turn import ConversationContext, Summary, Turn
from service.conversations.turn_lock import TurnLocks, once
from service.errors import ConversationBusy
from service.state.connection import KeySpace
from service.state.health import STATE_ERRORS, StateHealth

# KEYS: meta. ARGV: summary json. Only an existing conversation gets a refreshed summary.
SET_SUMMARY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'summary', ARGV[1])
return 1
"""
# KEYS: lock. ARGV: token. Release only a lock this holder still owns.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisConversationStore:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        max_turns: int,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_turns = max_turns
        self.ttl_s = ttl_s
        self._redis = redis
        self._keys = keys
        self._health = health
        self._clock = clock
        self._set_summary = redis.register_script(SET_SUMMARY)

    def _meta(self, conversation_id: str) -> str:
        return self._keys.key(f"conv:{conversation_id}", "meta")

    def _turns(self, conversation_id: str) -> str:
        return self._keys.key(f"conv:{conversation_id}", "turns")

    @asynccontextmanager
    async def _call(self) -> AsyncIterator[None]:
        try:
            async with self._health.call("conversations"):
                yield
        except STATE_ERRORS as error:
            raise ConversationStoreUnavailable(type(error).__name__) from error

    async def load(self, conversation_id: str) -> ConversationContext | None:
        async with self._call(), self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._meta(conversation_id))
            pipe.lrange(self._turns(conversation_id), 0, -1)
            meta, bodies = await pipe.execute()
        if not meta:
            return None
        fields = {_text(key): _text(value) for key, value in meta.items()}
        return ConversationContext(
            conversation_id=conversation_id,
            turns=tuple(Turn.from_json(json.loads(_text(body))) for body in bodies),
            summary=Summary.from_json(json.loads(fields.get("summary", "{}"))),
            turn_count=int(fields.get("turn_count", "0")),
            owner=fields.get("owner") or None,
        )

    async def append(
        self, conversation_id: str, turn: Turn, *, summary: Summary, owner: str | None
    ) -> None:
        meta, turns = self._meta(conversation_id), self._turns(conversation_id)
        ttl_ms = int(self.ttl_s * 1000)
        body = json.dumps({**turn.to_json(), "entities": dict(turn.entities)}, ensure_ascii=False)
        async with self._call(), self._redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(meta, "owner", owner or "")
            pipe.hincrby(meta, "turn_count", 1)
            pipe.hset(
                meta,
                mapping={
                    "summary": json.dumps(summary.to_json(), ensure_ascii=False),
                    "updated_at": str(self._clock()),
                },
            )
            pipe.rpush(turns, body)
            pipe.ltrim(turns, -self.max_turns, -1)
            pipe.pexpire(meta, ttl_ms)
            pipe.pexpire(turns, ttl_ms)
            await pipe.execute()

    async def set_summary(self, conversation_id: str, summary: Summary) -> None:
        data = json.dumps(summary.to_json(), ensure_ascii=False)
        async with self._call():
            await self._set_summary(keys=[self._meta(conversation_id)], args=[data])

    async def delete(self, conversation_id: str) -> bool:
        async with self._call():
            removed = await self._redis.delete(
                self._meta(conversation_id), self._turns(conversation_id)
            )
        return int(removed) > 0

    async def prune(self) -> int:
        return 0  # every key carries the idle TTL: Redis expires conversations itself

    async def aclose(self) -> None:
        return None  # the shared client is closed with ``SharedState``


class SharedTurnLocks(TurnLocks):
    """One turn of a conversation at a time across replicas: a Redis lock with a lease, taken
    after this replica's own lock (``TurnLocks``), so same-replica turns queue locally first.

    A turn waits up to ``wait_s`` for the lock (then 409 ``conversation_busy``), polling every
    ``poll_s``. The lease outlives any turn; a crashed holder's lock frees itself when it ends.
    Redis unavailable: the in-process locks alone serialise turns on this replica (degraded)."""

    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        wait_s: float = 10.0,
        lease_s: float = 300.0,
        poll_s: float = 0.05,
    ) -> None:
        super().__init__(wait_s=wait_s)
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._redis = redis
        self._keys = keys
        self._health = health
        self._release = redis.register_script(RELEASE)
        self._releases: set[asyncio.Task[None]] = set()

    async def acquire(self, conversation_id: str | None) -> Callable[[], None]:
        release_local = await super().acquire(conversation_id)
        if conversation_id is None:
            return release_local
        key = self._keys.key(f"conv:{conversation_id}", "lock")
        token = secrets.token_hex(8)
        try:
            held = await self._acquire(key, token)
        except BaseException:
            release_local()
            raise

        def release() -> None:
            release_local()
            if held:
                task = asyncio.get_running_loop().create_task(self._give_back(key, token))
                self._releases.add(task)
                task.add_done_callback(self._releases.discard)

        return once(release)

    async def _give_back(self, key: str, token: str) -> None:
        with contextlib.suppress(*STATE_ERRORS):
            async with self._health.call("conversations"):
                await self._release(keys=[key], args=[token])

    async def _acquire(self, key: str, token: str) -> bool:
        """True when held in Redis; False when Redis is unavailable (local lock only)."""
        deadline = asyncio.get_running_loop().time() + self.wait_s
        lease_ms = int(self.lease_s * 1000)
        while True:
            try:
                async with self._health.call("conversations"):
                    if await self._redis.set(key, token, nx=True, px=lease_ms):
                        return True
            except STATE_ERRORS:
                return False
            if asyncio.get_running_loop().time() >= deadline:
                raise ConversationBusy()
            await asyncio.sleep(self.poll_s)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
