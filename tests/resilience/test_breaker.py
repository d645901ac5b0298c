"""The per-model circuit breaker and its beacon_circuit_open gauge."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from service.observability.metrics import Metrics
from service.resilience.breaker import BreakerPolicy, CircuitBoard, CircuitState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def board(clock: Clock, registry: CollectorRegistry) -> CircuitBoard:
    policy = BreakerPolicy(failure_threshold=3, cooldown_s=10)
    return CircuitBoard(policy, Metrics(registry).circuit_open, clock=clock)


def gauge(registry: CollectorRegistry, model: str) -> float | None:
    return registry.get_sample_value("beacon_circuit_open", {"model": model})


def test_repeated_failures_open_the_circuit_and_the_gauge() -> None:
    """After the threshold of failures in a row, calls are refused and the gauge reads 1."""
    registry, clock = CollectorRegistry(), Clock()
    breaker = board(clock, registry)["m"]
    for _ in range(2):
        assert breaker.try_acquire()
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED and gauge(registry, "m") == 0
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN and gauge(registry, "m") == 1
    assert not breaker.try_acquire()


def test_a_success_resets_the_failure_count() -> None:
    """Failures must come in a row: one success in between keeps the circuit closed."""
    breaker = board(Clock(), CollectorRegistry())["m"]
    for outcome in ("fail", "fail", "ok", "fail", "fail"):
        breaker.try_acquire()
        breaker.record_success() if outcome == "ok" else breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED


def test_after_the_cooldown_one_trial_call_decides() -> None:
    """Half-open lets a single call through; its success closes the circuit and the gauge."""
    registry, clock = CollectorRegistry(), Clock()
    breaker = board(clock, registry)["m"]
    for _ in range(3):
        breaker.record_failure()
    clock.now = 10.0
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.try_acquire()
    assert not breaker.try_acquire()  # one trial at a time
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and gauge(registry, "m") == 0


def test_a_failed_trial_reopens_for_another_cooldown() -> None:
    """The trial's failure opens the circuit again straight away."""
    clock = Clock()
    breaker = board(clock, CollectorRegistry())["m"]
    for _ in range(3):
        breaker.record_failure()
    clock.now = 10.0
    assert breaker.try_acquire()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.now = 19.0
    assert not breaker.try_acquire()


def test_an_abandoned_trial_lets_the_next_one_through() -> None:
    """A trial whose client left gives no verdict and does not block the circuit."""
    clock = Clock()
    breaker = board(clock, CollectorRegistry())["m"]
    for _ in range(3):
        breaker.record_failure()
    clock.now = 10.0
    assert breaker.try_acquire()
    breaker.release()
    assert breaker.try_acquire()


def test_each_model_has_its_own_circuit() -> None:
    """A dead strong model does not cool down the cheap one."""
    circuits = board(Clock(), CollectorRegistry())
    for _ in range(3):
        circuits["strong"].record_failure()
    assert circuits["strong"].state is CircuitState.OPEN
    assert circuits["cheap"].try_acquire()
