"""Resumable turns across replicas: started on A, resumed and cancelled through C."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from evals.redis_server import RedisServer
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.turns import RedisTurnBuffer, RemoteTurn
from service.turns.buffer import TurnConflict, TurnLimits, TurnNotFound
from tests.state.conftest import make_health


def replica(url: str, keys: KeySpace, **limits: Any) -> RedisTurnBuffer:
    return RedisTurnBuffer(
        connect(RedisOptions(url)),
        keys,
        make_health(CollectorRegistry()),
        limits=TurnLimits(**limits),
        poll_s=0.02,
    )


class Codec:
    """SSE frames of ``(name, payload)`` events, numbered by the buffer."""

    def frame(self, event: tuple[str, Any], event_id: int) -> bytes:
        name, payload = event
        return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(payload)}\n\n".encode()

    def cancelled(self, event_id: int) -> bytes:
        return self.frame(("done", {"finish_reason": "cancelled"}), event_id)

    def failed(self, event_id: int) -> bytes:
        return self.frame(("error", {"code": "internal_error"}), event_id)


class Generation:
    """A fake answer stream that counts how often it was started."""

    def __init__(self, tokens: int, pause_s: float = 0.01) -> None:
        self.tokens = tokens
        self.pause_s = pause_s
        self.started = 0

    def __call__(self) -> AsyncIterator[tuple[str, Any]]:
        self.started += 1
        return self._events()

    async def _events(self) -> AsyncIterator[tuple[str, Any]]:
        yield "meta", {"route": "faq"}
        for n in range(self.tokens):
            await asyncio.sleep(self.pause_s)
            yield "token", {"text": f"t{n} "}
        yield "done", {"finish_reason": "stop"}


async def drain(turn: Any, after: int) -> str:
    parts = [chunk async for chunk in turn.follow(after, keepalive_s=5, keepalive=b": ka\n\n")]
    return b"".join(parts).decode()


def test_turn_started_on_one_replica_resumes_on_another(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """C replays A's turn after Last-Event-ID 3 and follows it live to its one ``done``; the
    same id on C never starts a second generation."""

    async def main() -> tuple[str, bool, int]:
        a, c = replica(redis_server.url, keys), replica(redis_server.url, keys)
        generation = Generation(tokens=20)
        args = {"owner": "k1", "fingerprint": "f", "trace_id": "tr1", "codec": Codec()}
        await a.start("turn-0001", events=generation, **args)
        await asyncio.sleep(0.05)
        again, started = await c.start("turn-0001", events=generation, **args)
        resumed = await drain(await c.get("turn-0001", owner="k1"), after=3)
        await a.aclose()
        return resumed, isinstance(again, RemoteTurn) and not started, generation.started

    resumed, replayed_not_restarted, generations = asyncio.run(main())
    ids = [int(line[4:]) for line in resumed.splitlines() if line.startswith("id: ")]
    assert ids == list(range(4, 23))  # events 4..22: tokens t2..t19 and done
    assert resumed.count("event: done") == 1 and "t2 " in resumed and "t1 " not in resumed
    assert replayed_not_restarted and generations == 1


def test_other_callers_cannot_read_or_reuse_a_turn(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """Another caller's get is 404 and its start with the same id is a conflict, as is the same
    caller reusing the id for a different question."""

    async def main() -> None:
        a, c = replica(redis_server.url, keys), replica(redis_server.url, keys)
        common = {"trace_id": "tr", "codec": Codec(), "events": Generation(3)}
        await a.start("turn-0002", owner="k1", fingerprint="f", **common)
        with pytest.raises(TurnNotFound):
            await c.get("turn-0002", owner="k2")
        with pytest.raises(TurnConflict):
            await c.start("turn-0002", owner="k2", fingerprint="f", **common)
        with pytest.raises(TurnConflict):
            await c.start("turn-0002", owner="k1", fingerprint="other", **common)
        await a.aclose()

    asyncio.run(main())


def test_cancel_on_another_replica_stops_the_generation(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """Cancel through C stops A's generation; readers end with one ``cancelled`` done."""

    async def main() -> tuple[bool, str]:
        a, c = replica(redis_server.url, keys), replica(redis_server.url, keys)
        generation = Generation(tokens=10_000, pause_s=0.005)
        await a.start(
            "turn-0003", owner="k1", fingerprint="f", trace_id="tr",
            events=generation, codec=Codec(),
        )  # fmt: skip
        await asyncio.sleep(0.05)
        cancelled = await c.cancel("turn-0003", owner="k1")
        text = await asyncio.wait_for(drain(await c.get("turn-0003", owner="k1"), 0), 5)
        await a.aclose()
        return cancelled, text

    cancelled, text = asyncio.run(main())
    assert cancelled
    assert text.count("event: done") == 1 and '"cancelled"' in text
    assert "t9999" not in text
