"""Answers and breaker verdicts written by one replica are seen by another."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from evals.redis_server import RedisServer
from service.state.answers import SharedAnswerStore
from service.state.breakers import SharedBreakers
from service.state.connection import KeySpace, RedisOptions, connect
from tests.state.conftest import make_health

FIELDS = ("how do i get a refund", "kb-1", "prompts-1", "faq", "en")


def answers(url: str, keys: KeySpace, ttl_s: float = 60) -> SharedAnswerStore:
    return SharedAnswerStore(
        connect(RedisOptions(url)), keys, make_health(CollectorRegistry()), ttl_s=ttl_s
    )


def test_answer_written_by_one_replica_is_a_hit_on_another(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """A ``put`` through one client is a ``get`` hit through a second client; other keys miss."""

    async def main() -> tuple[str | None, str | None]:
        await answers(redis_server.url, keys).put(FIELDS, "Refunds take 5–10 天.")
        other = answers(redis_server.url, keys)
        return await other.get(FIELDS), await other.get((*FIELDS[:-1], "zh"))

    assert asyncio.run(main()) == ("Refunds take 5–10 天.", None)


def test_answers_expire_with_the_ttl(redis_server: RedisServer, keys: KeySpace) -> None:
    """An answer is gone after the cache's TTL."""

    async def main() -> str | None:
        store = answers(redis_server.url, keys, ttl_s=0.05)
        await store.put(FIELDS, "soon gone")
        await asyncio.sleep(0.2)
        return await store.get(FIELDS)

    assert asyncio.run(main()) is None


def test_keys_never_contain_the_question(redis_server: RedisServer, keys: KeySpace) -> None:
    """Stored keys are digests: the customer's words are not readable in Redis's key space."""

    async def main() -> list[bytes]:
        await answers(redis_server.url, keys).put(FIELDS, "x")
        client = connect(RedisOptions(redis_server.url))
        return [key async for key in client.scan_iter(match=f"{keys.prefix}:*")]

    stored = asyncio.run(main())
    assert len(stored) == 1 and b"refund" not in stored[0]


def test_unavailable_cache_raises_for_get_and_ignores_put(keys: KeySpace) -> None:
    """A dead Redis makes ``get`` raise (counted as a cache error, served as a miss) and
    ``put`` a no-op."""

    async def main() -> None:
        store = answers("redis://127.0.0.1:1/0", keys)
        await store.put(FIELDS, "x")
        await store.get(FIELDS)

    with pytest.raises((RedisError, OSError)):
        asyncio.run(main())


def test_breaker_opened_on_one_replica_is_open_on_another(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """A published open circuit is seen by another client until it closes or cools down."""

    async def main() -> tuple[float, float, float]:
        a = SharedBreakers(
            connect(RedisOptions(redis_server.url)), keys, make_health(CollectorRegistry())
        )
        b = SharedBreakers(
            connect(RedisOptions(redis_server.url)), keys, make_health(CollectorRegistry())
        )
        before = await b.open_for("beacon-hard")
        await a.publish_open("beacon-hard", 30)
        during = await b.open_for("beacon-hard")
        await b.publish_closed("beacon-hard")
        return before, during, await a.open_for("beacon-hard")

    before, during, after = asyncio.run(main())
    assert before == 0 and 29 < during <= 30 and after == 0


def test_breaker_reads_closed_when_redis_is_down(keys: KeySpace) -> None:
    """Without Redis the shared verdict is unknown, so replicas rely on their own breakers."""
    breakers = SharedBreakers(
        connect(RedisOptions("redis://127.0.0.1:1/0")), keys, make_health(CollectorRegistry())
    )
    assert asyncio.run(breakers.open_for("beacon-hard")) == 0
