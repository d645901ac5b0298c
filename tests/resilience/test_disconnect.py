"""A client that leaves mid-answer closes the upstream call and is accounted with its usage."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import start_simulator
from tests.conftest import AppHandle
from tests.resilience.conftest import LogLines


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_disconnect_cancels_the_upstream_call_and_keeps_tokens_and_cost(
    resilient: Callable[..., AppHandle], log_lines: LogLines
) -> None:
    """The simulator sees the stream cancelled; the line has outcome, tokens and cost so far."""
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=10)) as slow:
        beacon = resilient(base_url=slow.openai_base_url)
        with (
            httpx.Client(base_url=beacon.url, timeout=10) as client,
            client.stream("POST", "/ask", json={"question": "How do I request a refund?"}) as r,
        ):
            for frame in r.iter_lines():
                if frame == "event: token":
                    break  # one token in, hang up
        wait_for(lambda: slow.stats()["streams_open"] == 0)
        stats = slow.stats()
        wait_for(lambda: bool(log_lines.events("ask_completed")))
    assert stats["streams_cancelled"] == 1 and stats["streams_completed"] == 0
    (line,) = log_lines.events("ask_completed")
    assert line["outcome"] == "client_disconnected"
    assert line["tokens_out"] > 0 and line["tokens_in"] > 0  # estimated: no usage was reported
    assert line["cost_usd"] > 0
    assert beacon.metric("beacon_requests_total", route="easy", outcome="client_disconnected") == 1
    assert beacon.metric("beacon_in_flight_requests") == 0
    assert beacon.metric("beacon_cost_usd_total", model="beacon-easy") == line["cost_usd"]
