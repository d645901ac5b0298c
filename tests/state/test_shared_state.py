"""``open_shared_state`` from Settings: readiness says why Redis is unreachable."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from evals.redis_server import RedisServer
from service.observability.metrics import Metrics
from service.settings import Settings, StateSettings
from service.state.shared import open_shared_state


def settings_for(url: str) -> Settings:
    return Settings(_env_file=None, state=StateSettings(backend="redis", url=SecretStr(url)))  # type: ignore[call-arg]


def test_ready_when_redis_answers(redis_server: RedisServer) -> None:
    """A reachable Redis makes the shared state ready."""

    async def main() -> str | None:
        shared = open_shared_state(settings_for(redis_server.url), Metrics(CollectorRegistry()))
        try:
            return await shared.ready()
        finally:
            await shared.aclose()

    assert asyncio.run(main()) is None


def test_not_ready_with_a_reason_when_redis_is_unreachable() -> None:
    """An unreachable Redis gives a reason naming the setting to check, and no password."""

    async def main() -> str | None:
        url = "redis://:hunter2secret@127.0.0.1:1/0"
        shared = open_shared_state(settings_for(url), Metrics(CollectorRegistry()))
        try:
            return await shared.ready()
        finally:
            await shared.aclose()

    reason = asyncio.run(main())
    assert reason is not None and "BEACON_STATE__URL" in reason
    assert "hunter2" not in reason
