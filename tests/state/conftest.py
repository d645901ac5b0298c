"""A real redis-server per test module, and a fresh key prefix per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from evals.redis_server import RedisServer, start_redis_server
from service.state.connection import KeySpace
from service.state.health import StateHealth

_prefixes = itertools.count()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with start_redis_server() as server:
        yield server


@pytest.fixture
def keys() -> KeySpace:
    return KeySpace(f"test{next(_prefixes)}")


class HealthProbe:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def errors(self, feature: str) -> float:
        value = self.registry.get_sample_value("beacon_state_errors_total", {"feature": feature})
        return value or 0.0

    def up(self) -> float:
        return self.registry.get_sample_value("beacon_state_up") or 0.0


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def probe(registry: CollectorRegistry) -> HealthProbe:
    return HealthProbe(registry)


def make_health(registry: CollectorRegistry, *, cooldown_s: float = 1.0) -> StateHealth:
    return StateHealth(
        duration=Histogram("beacon_state_duration_seconds", "", ["feature"], registry=registry),
        errors=Counter("beacon_state_errors_total", "", ["feature"], registry=registry),
        up=Gauge("beacon_state_up", "", registry=registry),
        cooldown_s=cooldown_s,
    )
