"""Retries before the first token: exponential backoff with full jitter, ``Retry-After`` honoured,
all of it inside one per-request budget (a count of retries and a total of time spent waiting).

A retry that would need to wait longer than the budget has left is not made: the fallback chain
moves on instead, which is faster for the customer than sleeping on a throttled model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from service.errors import ProviderError, ProviderRateLimited, ProviderTimeout


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts_per_model: int = 2
    """Calls of one model per request, the first included."""
    retries_per_request: int = 2
    """Retries across every model of one request."""
    max_wait_s: float = 2.0
    """Total backoff one request may spend sleeping."""
    base_delay_s: float = 0.1
    max_delay_s: float = 1.0


def backoff_delay(policy: RetryPolicy, retry: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max, base * 2**retry)] (retry counts from 0)."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * (2**retry))
    return rng.uniform(0, ceiling)


def is_retryable(error: ProviderError) -> bool:
    """A timeout before the first token is not retried: the same model is slow right now, and
    the next model in the chain answers sooner than a second wait would."""
    return error.retryable and not isinstance(error, ProviderTimeout)


class RetryBudget:
    """What one request may still spend on retries."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.retries = 0
        self.waited_s = 0.0

    def next_delay(self, error: ProviderError, *, attempt: int) -> float | None:
        """The wait before retrying after ``error`` on a model's ``attempt`` (1-based), or None
        when the request should stop retrying that model and fall back."""
        policy = self.policy
        if not is_retryable(error) or attempt >= policy.attempts_per_model:
            return None
        if self.retries >= policy.retries_per_request:
            return None
        delay = backoff_delay(policy, self.retries, self.rng)
        if error.retry_after_s is not None:
            delay = max(delay, error.retry_after_s)
        elif isinstance(error, ProviderRateLimited):
            delay = max(delay, policy.max_delay_s)
        if self.waited_s + delay > policy.max_wait_s:
            return None
        self.retries += 1
        self.waited_s += delay
        return delay
