"""Per-model circuit breakers: a cooldown after repeated failures, visible as a metric.

closed ──(``failure_threshold`` failures in a row)──▶ open ──(``cooldown_s``)──▶ half-open
half-open lets one trial call through: success closes the circuit, failure opens it again.
While open, requests skip the model at once and take the next step of the fallback chain, so a
dead model costs them nothing instead of a first-token timeout each.
``beacon_circuit_open{model}`` is 1 from the moment a circuit opens until a call succeeds again
(half-open included: the model is not known to be healthy yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from prometheus_client import Gauge


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    cooldown_s: float = 30.0


class CircuitBreaker:
    def __init__(
        self,
        policy: BreakerPolicy,
        *,
        on_change: Callable[[bool], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._on_change = on_change
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at < self.policy.cooldown_s:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def try_acquire(self) -> bool:
        """May a call go to the model now? In half-open, only one trial call at a time."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN or self._trial_running:
            return False
        self._trial_running = True
        return True

    def record_success(self) -> None:
        self._failures = 0
        self._trial_running = False
        if self._opened_at is not None:
            self._opened_at = None
            self._on_change(False)

    def record_failure(self) -> None:
        self._failures += 1
        was_trial, self._trial_running = self._trial_running, False
        if was_trial or self._failures >= self.policy.failure_threshold:
            if self._opened_at is None:
                self._on_change(True)
            self._opened_at = self._clock()

    def release(self) -> None:
        """The call ended without a verdict (the client left): let another trial through."""
        self._trial_running = False

    def open_for(self, seconds: float) -> None:
        """Adopt another replica's verdict: open now, half-open ``seconds`` from now."""
        if self._opened_at is None:
            self._on_change(True)
        self._opened_at = self._clock() - self.policy.cooldown_s + seconds


class CircuitBoard:
    """One breaker per model name, created on first use, reported in ``beacon_circuit_open``."""

    def __init__(
        self, policy: BreakerPolicy, gauge: Gauge, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy
        self.gauge = gauge
        self.clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}
        # Told (model, is_open) on every change: how replicas share verdicts (service/state).
        self.listeners: list[Callable[[str, bool], None]] = []

    def __getitem__(self, model: str) -> CircuitBreaker:
        breaker = self._breakers.get(model)
        if breaker is None:
            gauge = self.gauge.labels(model)

            def changed(is_open: bool) -> None:
                gauge.set(is_open)
                for listener in self.listeners:
                    listener(model, is_open)

            breaker = CircuitBreaker(self.policy, on_change=changed, clock=self.clock)
            self._breakers[model] = breaker
        return breaker
