"""Admission control: keys, per-key token buckets, the concurrency gate and its queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from service.admission import Admission, QueueTimeout, hash_api_key
from service.admission.bucket import TokenBucket
from service.admission.gate import TicketState
from service.errors import Overloaded, RateLimited, Unauthorized
from service.observability.metrics import Metrics
from service.settings import AdmissionSettings
from tests.conftest import AppHandle
from tests.sse_client import ask_sse

KEY = "test-key-not-a-secret"


def admission(registry: CollectorRegistry | None = None, **settings: Any) -> Admission:
    return Admission(AdmissionSettings(**settings), Metrics(registry or CollectorRegistry()))


def test_keys_are_off_by_default() -> None:
    """With no digests configured every caller is admitted, no header needed."""
    assert admission().admit({}).state is TicketState.ADMITTED


@pytest.mark.parametrize(
    ("headers", "admitted"),
    [
        ({"authorization": f"Bearer {KEY}"}, True),
        ({"x-api-key": KEY}, True),
        ({}, False),
        ({"authorization": "Bearer wrong"}, False),
        ({"authorization": f"Basic {KEY}"}, False),
    ],
)
def test_configured_keys_are_required(headers: dict[str, str], admitted: bool) -> None:
    """Only a key whose SHA-256 is configured gets in, by bearer token or x-api-key."""
    registry = CollectorRegistry()
    gate = admission(registry, api_key_sha256=(hash_api_key(KEY),))
    if admitted:
        gate.admit(headers)
    else:
        with pytest.raises(Unauthorized):
            gate.admit(headers)
        assert registry.get_sample_value("beacon_shed_total", {"reason": "unauthorized"}) == 1


def test_settings_refuse_a_raw_key() -> None:
    """Settings hold digests only: a key pasted in by mistake fails validation."""
    with pytest.raises(ValueError, match="digests"):
        AdmissionSettings(api_key_sha256=(KEY,))


def test_token_bucket_refills_at_its_rate() -> None:
    """A burst passes, the next call waits 1/rate, and time refills the bucket."""
    now = [0.0]
    bucket = TokenBucket(rate_per_s=2.0, burst=2, clock=lambda: now[0])
    assert bucket.try_take() is None and bucket.try_take() is None
    assert bucket.try_take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.try_take() is None


def test_rate_limits_are_per_key() -> None:
    """One key's exhausted bucket does not throttle another key."""
    other = "another-key"
    gate = admission(
        api_key_sha256=(hash_api_key(KEY), hash_api_key(other)), rate_per_s=0.001, burst=1
    )
    gate.admit({"x-api-key": KEY}).release()
    with pytest.raises(RateLimited) as refused:
        gate.admit({"x-api-key": KEY})
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 1
    gate.admit({"x-api-key": other}).release()


def test_the_queue_is_fifo_and_tells_positions() -> None:
    """Waiters get queued events with their place and are admitted in arrival order."""

    async def scenario() -> list[object]:
        gate = admission(max_in_flight=1, max_queue=2, queued_every_s=0.01)
        running = gate.admit({})
        first, second = gate.admit({}), gate.admit({})
        waits = [first.wait(), second.wait()]
        events: list[object] = [await anext(waits[0]), await anext(waits[1])]
        running.release()
        await asyncio.sleep(0.05)
        events.append(first.state)
        events.append(second.state)
        first.release()
        await asyncio.sleep(0.05)
        events.append(second.state)
        second.release()
        return events

    first_event, second_event, *states = asyncio.run(scenario())
    assert first_event == 1  # the queue position, reported while the ticket waits
    assert second_event == 2
    assert states == [TicketState.ADMITTED, TicketState.WAITING, TicketState.ADMITTED]


def test_a_full_queue_is_refused_before_any_byte() -> None:
    """Past the slots and the queue, admit raises Overloaded with a Retry-After."""
    registry = CollectorRegistry()
    gate = admission(registry, max_in_flight=1, max_queue=1, retry_after_s=2)
    gate.admit({})
    gate.admit({})
    with pytest.raises(Overloaded) as refused:
        gate.admit({})
    assert refused.value.status == 429 and refused.value.retry_after_s == 2
    assert registry.get_sample_value("beacon_shed_total", {"reason": "queue_full"}) == 1
    assert registry.get_sample_value("beacon_queue_depth") == 1


def test_a_waiter_past_the_max_wait_is_shed_and_leaves_the_queue() -> None:
    """The wait ends with QueueTimeout, counted as queue_timeout, and the queue empties."""
    registry = CollectorRegistry()

    async def scenario() -> None:
        gate = admission(registry, max_in_flight=1, max_wait_s=0.05, queued_every_s=0.01)
        gate.admit({})
        waiter = gate.admit({})
        with pytest.raises(QueueTimeout):
            async for _ in waiter.wait():
                pass
        waiter.release()

    asyncio.run(scenario())
    assert registry.get_sample_value("beacon_shed_total", {"reason": "queue_timeout"}) == 1
    assert registry.get_sample_value("beacon_queue_depth") == 0


def test_release_is_idempotent_and_frees_the_slot() -> None:
    """Releasing twice frees one slot only; the gate ends empty."""
    gate = admission(max_in_flight=1)
    ticket = gate.admit({})
    ticket.release()
    ticket.release()
    assert gate.gate.running == 0
    gate.admit({})
    assert gate.gate.running == 1


def test_http_refusals_carry_status_retry_after_and_no_stream(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """401 without a key and 429 past the bucket are plain JSON errors, counted as shed."""
    beacon = beacon_factory(
        admission=AdmissionSettings(api_key_sha256=(hash_api_key(KEY),), rate_per_s=0.01, burst=1)
    )
    with httpx.Client(base_url=beacon.url, timeout=10) as client:
        missing = client.post("/ask", json={"question": "How do I request a refund?"})
        headers = {"authorization": f"Bearer {KEY}"}
        ok = client.post("/ask", json={"question": "How do I request a refund?"}, headers=headers)
        limited = client.post("/ask", json={"question": "Hi"}, headers=headers)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert ok.status_code == 200 and "event: done" in ok.text
    assert limited.status_code == 429 and limited.headers["retry-after"].isdigit()
    assert limited.headers["content-type"] == "application/json"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert beacon.metric("beacon_shed_total", reason="rate_limited") == 1
    assert beacon.metric("beacon_shed_total", reason="unauthorized") == 1
    # Refusals before the stream are not requests_total increments: only the accepted one is.
    assert (
        beacon.registry.get_sample_value("beacon_requests_total", {"route": "faq", "outcome": "ok"})
        == 1
    )


def test_open_service_answers_without_a_key(beacon: AppHandle) -> None:
    """The embedded default needs no key and has no rate limit."""
    response, events = ask_sse(beacon.url, "How do I request a refund?")
    assert response.status_code == 200 and events[-1].event == "done"
