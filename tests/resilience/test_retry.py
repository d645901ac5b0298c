"""The retry budget: what is retried, how long it waits, and when it stops."""

from __future__ import annotations

import random

import pytest

from service.errors import (
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from service.resilience.retry import RetryBudget, RetryPolicy, backoff_delay

POLICY = RetryPolicy(
    attempts_per_model=2, retries_per_request=2, max_wait_s=2.0, base_delay_s=0.1, max_delay_s=1.0
)


def budget(policy: RetryPolicy = POLICY) -> RetryBudget:
    return RetryBudget(policy, random.Random(0))


def test_backoff_is_jittered_below_an_exponential_ceiling() -> None:
    """Delays are drawn in [0, min(max, base * 2**n)], so retries spread out."""
    rng = random.Random(1)
    for retry, ceiling in enumerate((0.1, 0.2, 0.4, 0.8, 1.0, 1.0)):
        delays = [backoff_delay(POLICY, retry, rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2


def test_retry_after_is_honoured() -> None:
    """A 429's Retry-After is the least the retry waits."""
    delay = budget().next_delay(ProviderRateLimited(retry_after_s=1.5), attempt=1)
    assert delay is not None and delay >= 1.5


@pytest.mark.parametrize(
    "error",
    [ProviderUnavailable(), ProviderBadResponse(), ProviderRateLimited(retry_after_s=0.2)],
    ids=["unavailable", "bad_response", "rate_limited"],
)
def test_transient_errors_are_retried_once_per_model(error: ProviderError) -> None:
    """A failed first attempt is retried; the second failure moves on down the chain."""
    spend = budget()
    assert spend.next_delay(error, attempt=1) is not None
    assert spend.next_delay(error, attempt=2) is None


def test_a_first_token_timeout_is_not_retried() -> None:
    """A slow model is not waited for twice: the next model answers sooner."""
    assert budget().next_delay(ProviderTimeout(), attempt=1) is None


def test_the_request_budget_caps_retries_across_models() -> None:
    """Two retries per request in all, whichever models they were for."""
    spend = budget()
    assert spend.next_delay(ProviderUnavailable(), attempt=1) is not None
    assert spend.next_delay(ProviderUnavailable(), attempt=1) is not None
    assert spend.next_delay(ProviderUnavailable(), attempt=1) is None
    assert spend.retries == 2


def test_a_retry_after_longer_than_the_budget_falls_back_at_once() -> None:
    """Waiting longer than the request may spend is not worth it: no retry."""
    assert budget().next_delay(ProviderRateLimited(retry_after_s=30), attempt=1) is None
