"""Conversations in Redis: a turn on replica A is history on replica B; one turn at a time."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from evals.redis_server import RedisServer
from service.conversations.store import ConversationStoreUnavailable
from service.conversations.turn import ConversationContext, Summary
from service.errors import ConversationBusy
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.conversations import RedisConversationStore, SharedTurnLocks
from tests.conversations.factories import turn
from tests.state.conftest import make_health


def store(
    url: str, keys: KeySpace, *, max_turns: int = 12, ttl_s: float = 60
) -> RedisConversationStore:
    return RedisConversationStore(
        connect(RedisOptions(url)), keys, make_health(CollectorRegistry()),
        max_turns=max_turns, ttl_s=ttl_s,
    )  # fmt: skip


def test_turn_written_on_one_replica_is_history_on_another(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """B loads what A appended: the last turns verbatim, the count of all, summary and owner
    (set once, by the first turn)."""

    async def main() -> ConversationContext | None:
        a, b = store(redis_server.url, keys, max_turns=3), store(redis_server.url, keys)
        summary = Summary(topics=("refund-request",), entities={"order_id": "BC-1"}, text="退款")
        for n in range(5):
            await a.append(
                "c-1", turn(f"q{n}"), summary=summary, owner="key-a" if n == 0 else "key-b"
            )
        return await b.load("c-1")

    loaded = asyncio.run(main())
    assert loaded is not None
    assert [t.question for t in loaded.turns] == ["q2", "q3", "q4"]
    assert loaded.turns[-1] == turn("q4")
    assert (loaded.turn_count, loaded.owner, loaded.summary.text) == (5, "key-a", "退款")


def test_delete_forgets_everything_and_a_summary_cannot_resurrect_it(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """After delete nothing of the conversation is left in Redis, even if a background summary
    refresh lands afterwards."""

    async def main() -> tuple[bool, bool, ConversationContext | None, list[bytes]]:
        a = store(redis_server.url, keys)
        await a.append("c-2", turn("my email is x@y.z"), summary=Summary(), owner=None)
        deleted = await a.delete("c-2")
        again = await a.delete("c-2")
        await a.set_summary("c-2", Summary(text="late refresh"))
        client = connect(RedisOptions(redis_server.url))
        left = [key async for key in client.scan_iter(match=f"{keys.prefix}:*")]
        return deleted, again, await a.load("c-2"), left

    deleted, again, loaded, left = asyncio.run(main())
    assert (deleted, again, loaded, left) == (True, False, None, [])


def test_idle_conversations_expire(redis_server: RedisServer, keys: KeySpace) -> None:
    """A conversation idle past the TTL reads as unknown."""

    async def main() -> ConversationContext | None:
        a = store(redis_server.url, keys, ttl_s=0.05)
        await a.append("c-3", turn(), summary=Summary(), owner=None)
        await asyncio.sleep(0.2)
        return await a.load("c-3")

    assert asyncio.run(main()) is None


def test_unreachable_redis_is_an_unavailable_store(keys: KeySpace) -> None:
    """A dead Redis surfaces as ConversationStoreUnavailable (the turn goes on statelessly)."""
    dead = store("redis://127.0.0.1:1/0", keys)
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(dead.load("c-4"))


def locks(url: str, keys: KeySpace, wait_s: float) -> SharedTurnLocks:
    return SharedTurnLocks(
        connect(RedisOptions(url)),
        keys,
        make_health(CollectorRegistry()),
        wait_s=wait_s,
        poll_s=0.01,
    )


def test_turns_of_one_conversation_are_serialised_across_replicas(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """A second replica's turn waits for the first to finish; one that waits too long is busy."""

    async def main() -> tuple[list[str], bool]:
        a, b = locks(redis_server.url, keys, 2.0), locks(redis_server.url, keys, 0.05)
        order: list[str] = []

        async def turn_on(replica: SharedTurnLocks, name: str, hold_s: float) -> None:
            async with replica.hold("c-5"):
                order.append(f"{name}+")
                await asyncio.sleep(hold_s)
                order.append(f"{name}-")

        first = asyncio.create_task(turn_on(a, "a1", 0.2))
        await asyncio.sleep(0.02)
        busy = False
        try:
            await turn_on(b, "b", 0)
        except ConversationBusy:
            busy = True
        await asyncio.gather(first, turn_on(locks(redis_server.url, keys, 2.0), "a2", 0))
        return order, busy

    order, busy = asyncio.run(main())
    assert busy
    assert order == ["a1+", "a1-", "a2+", "a2-"]
