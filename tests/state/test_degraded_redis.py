"""Through a loopback proxy: a slow, cut, then restored Redis, as replicas would meet it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from evals.drills.tcp_proxy import TcpProxy, run_tcp_proxy
from evals.redis_server import RedisServer
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.health import StateUnavailable
from service.state.rate_limit import SharedRateLimiter
from tests.state.conftest import HealthProbe, make_health


@pytest.fixture
def proxy(redis_server: RedisServer) -> Iterator[TcpProxy]:
    with run_tcp_proxy(redis_server.host, redis_server.port) as running:
        yield running


def test_slow_redis_times_out_fast_and_recovers(
    proxy: TcpProxy, keys: KeySpace, registry: CollectorRegistry, probe: HealthProbe
) -> None:
    """A Redis slower than the call timeout costs one bounded wait, then local limits serve at
    once during the cooldown; when Redis is fast again the shared bucket is used again."""

    async def main() -> tuple[list[float | None], float, float | None]:
        health = make_health(registry, cooldown_s=0.2)
        options = RedisOptions(proxy.url("redis"), timeout_s=0.1)
        limiter = SharedRateLimiter(
            connect(options), keys, health, rate_per_s=0.001, burst=4, local_share=0.5
        )
        assert await limiter.try_take("a") is None  # shared bucket: 3 left
        proxy.delay_s = 0.5
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow = [await limiter.try_take("a") for _ in range(3)]  # local share: burst 2
        elapsed = loop.time() - started
        proxy.delay_s = 0.0
        await asyncio.sleep(0.3)  # past the cooldown
        return slow, elapsed, await limiter.try_take("a")

    slow, elapsed, recovered = asyncio.run(main())
    assert slow[:2] == [None, None] and slow[2] is not None
    assert elapsed < 0.5  # one timed-out call (0.1 s), not three, and never the 0.5 s delay
    assert recovered is None and probe.up() == 1  # the shared bucket still had tokens


def test_cut_redis_degrades_then_recovers(
    proxy: TcpProxy, keys: KeySpace, registry: CollectorRegistry, probe: HealthProbe
) -> None:
    """Connections cut mid-traffic: calls fall back and count errors; restored, they recover."""

    async def main() -> tuple[float, float]:
        health = make_health(registry, cooldown_s=0.1)
        limiter = SharedRateLimiter(
            connect(RedisOptions(proxy.url("redis"), timeout_s=0.2)),
            keys,
            health,
            rate_per_s=100,
            burst=100,
            local_share=0.5,
        )
        await limiter.try_take("a")
        proxy.cut()
        await limiter.try_take("a")
        down = probe.up()
        proxy.restore()
        await asyncio.sleep(0.15)
        await limiter.try_take("a")
        return down, probe.up()

    down, up = asyncio.run(main())
    assert (down, up) == (0, 1)
    assert probe.errors("rate_limit") >= 1


def test_idle_connections_are_fresh_after_redis_returns(proxy: TcpProxy) -> None:
    """Connections that sat idle in the pool while Redis was away are reconnected before use:
    the first commands after Redis returns succeed, none fails on a closed socket."""

    async def main() -> list[object]:
        client = connect(RedisOptions(proxy.url("redis"), timeout_s=0.2))
        await asyncio.gather(*(client.ping() for _ in range(4)))  # four pooled connections
        proxy.cut()  # closes them; nothing uses them while Redis is away
        await asyncio.sleep(0.1)
        proxy.restore()
        replies = await asyncio.gather(*(client.ping() for _ in range(4)), return_exceptions=True)
        await client.aclose()
        return list(replies)

    assert asyncio.run(main()) == [True] * 4


def test_a_real_failure_is_logged_once_and_the_cooldown_is_quiet(
    registry: CollectorRegistry, probe: HealthProbe
) -> None:
    """The failed call logs its feature and error type; calls failed at once during the
    cooldown count as errors but add no line (an outage does not flood the log)."""
    health = make_health(registry, cooldown_s=60)

    async def fail_then_fast_fail() -> None:
        with pytest.raises(ConnectionError):
            async with health.call("cache"):
                raise ConnectionError("connection refused by 10.0.0.7:6379")
        for _ in range(3):
            with pytest.raises(StateUnavailable):
                async with health.call("cache"):
                    pass

    with capture_logs() as logs:
        asyncio.run(fail_then_fast_fail())
    failed = [line for line in logs if line["event"] == "state_call_failed"]
    assert failed == [
        {"event": "state_call_failed", "feature": "cache", "error": "ConnectionError",
         "log_level": "warning"}
    ]  # fmt: skip
    assert probe.errors("cache") == 4 and probe.up() == 0
