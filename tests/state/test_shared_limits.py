"""Rate limits and concurrency slots hold across clients of one real Redis."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from evals.redis_server import RedisServer
from service.errors import Overloaded
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.rate_limit import SharedRateLimiter
from service.state.slots import SharedSlots
from tests.state.conftest import HealthProbe, make_health


def limiter(
    url: str, keys: KeySpace, registry: CollectorRegistry, **kw: float
) -> SharedRateLimiter:
    return SharedRateLimiter(
        connect(RedisOptions(url)),
        keys,
        make_health(registry),
        rate_per_s=kw.get("rate", 0.001),
        burst=int(kw.get("burst", 5)),
        local_share=kw.get("share", 0.5),
    )


def test_bucket_is_shared_by_every_client(redis_server: RedisServer, keys: KeySpace) -> None:
    """Three limiters on one Redis (three replicas) together allow one burst, not three."""

    async def main() -> list[float | None]:
        replicas = [limiter(redis_server.url, keys, CollectorRegistry()) for _ in range(3)]
        return [await replicas[i % 3].try_take("key-a") for i in range(9)]

    waits = asyncio.run(main())
    assert waits[:5] == [None] * 5
    assert all(wait is not None and wait > 0 for wait in waits[5:])


def test_buckets_are_per_caller(redis_server: RedisServer, keys: KeySpace) -> None:
    """One caller's spending leaves another caller's bucket full."""

    async def main() -> tuple[float | None, float | None]:
        shared = limiter(redis_server.url, keys, CollectorRegistry(), burst=1)
        await shared.try_take("a")
        return await shared.try_take("a"), await shared.try_take("b")

    assert asyncio.run(main()) == (pytest.approx(1000, rel=0.01), None)


def test_redis_down_falls_back_to_a_stricter_local_bucket(
    keys: KeySpace, registry: CollectorRegistry, probe: HealthProbe
) -> None:
    """With Redis unreachable a replica allows only its local share of the burst, and counts it."""
    dead = "redis://127.0.0.1:1/0"

    async def main() -> list[float | None]:
        local = limiter(dead, keys, registry, burst=6, share=0.5)
        return [await local.try_take("a") for _ in range(4)]

    waits = asyncio.run(main())
    assert waits[:3] == [None] * 3 and waits[3] is not None
    assert probe.errors("rate_limit") == 4  # one failed call, then three cooled-down refusals
    assert probe.up() == 0


def slots(url: str, keys: KeySpace, *, limit: int, max_queue: int) -> SharedSlots:
    return SharedSlots(
        connect(RedisOptions(url)),
        keys,
        make_health(CollectorRegistry()),
        limit=limit,
        max_queue=max_queue,
        max_wait_s=5,
        lease_s=60,
        retry_after_s=1,
    )


def test_slots_admit_up_to_the_limit_then_queue_in_order(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """Two replicas share two slots; later tickets queue first come, first served."""

    async def main() -> tuple[list[int], list[int], int]:
        a = slots(redis_server.url, keys, limit=2, max_queue=2)
        b = slots(redis_server.url, keys, limit=2, max_queue=2)
        entered = [
            await a.enter("t1"),
            await b.enter("t2"),
            await a.enter("t3"),
            await b.enter("t4"),
        ]
        await a.release("t1")
        after = [await b.enter("t4"), await a.enter("t3")]  # t4 may not overtake t3
        return entered, after, await b.in_use()

    entered, after, in_use = asyncio.run(main())
    assert entered == [0, 0, 1, 2]
    assert after == [2, 0]  # t4 still waits behind t3, which takes the freed slot
    assert in_use == 2


def test_full_shared_queue_is_overloaded(redis_server: RedisServer, keys: KeySpace) -> None:
    """A ticket beyond the limit and the queue gets ``Overloaded`` (429 with Retry-After)."""

    async def main() -> None:
        shared = slots(redis_server.url, keys, limit=1, max_queue=1)
        assert await shared.enter("t1") == 0
        assert await shared.enter("t2") == 1
        await shared.enter("t3")

    with pytest.raises(Overloaded):
        asyncio.run(main())
