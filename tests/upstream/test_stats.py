"""GET /stats tells drills what happened to each stream, cancellations included."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from evals.upstream import SimulatorProcess
from tests.upstream.chat import CHAT_PATH, chat_body, is_content_payload, stream_body, stream_chat

pytestmark = pytest.mark.slow  # every test here talks to a real simulator process


def wait_for_stats(
    simulator: SimulatorProcess, field: str, minimum: int, timeout_s: float = 5.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        stats = simulator.stats()
        if stats[field] >= minimum or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)


def test_disconnect_is_noticed_before_next_chunk(
    simulator: SimulatorProcess, client: httpx.Client
) -> None:
    """Closing a slow stream mid-way counts as cancelled within a second, not at the next chunk."""
    before = simulator.stats()["streams_cancelled"]
    headers = {"x-sim-ttft-ms": "0", "x-sim-tps": "0.5"}  # next chunk due 2 s later
    with client.stream("POST", CHAT_PATH, json=stream_body("Hi"), headers=headers) as response:
        for line in response.iter_lines():
            if is_content_payload(line):
                break
    stats = wait_for_stats(simulator, "streams_cancelled", before + 1)
    assert stats["streams_cancelled"] == before + 1
    assert stats["last_disconnect_ms"] < 1000


def test_client_timeout_on_no_first_token_counts_as_cancelled(
    simulator: SimulatorProcess, client: httpx.Client
) -> None:
    """A client giving up on no_first_token is a cancelled stream, idle since the headers."""
    before = simulator.stats()["streams_cancelled"]
    body = stream_body("Hi", model="beacon-easy+no_first_token")
    timeout = httpx.Timeout(10.0, read=0.4)
    try:
        with client.stream("POST", CHAT_PATH, json=body, timeout=timeout) as response:
            response.read()
    except httpx.ReadTimeout:
        pass
    stats = wait_for_stats(simulator, "streams_cancelled", before + 1)
    assert stats["streams_cancelled"] == before + 1
    assert stats["last_disconnect_ms"] >= 400


def test_counters_track_requests_and_outcomes(
    simulator: SimulatorProcess, client: httpx.Client
) -> None:
    """requests_total counts by fault; completed and faulted streams are told apart."""
    simulator.reset_stats()
    stream_chat(client, stream_body("Hi"))
    client.post(CHAT_PATH, json=chat_body("Hi"))
    stream_chat(client, stream_body("Hi"), {"x-sim-fault": "no_done"})
    client.post(CHAT_PATH, json=chat_body("Hi"), headers={"x-sim-fault": "rate_limited"})
    client.post(CHAT_PATH, json=chat_body("Hi"), headers={"x-sim-fault": "nonsense"})
    stats = simulator.stats()
    assert stats["requests_total"]["none"] == 2
    assert stats["requests_total"]["no_done"] == 1
    assert stats["requests_total"]["rate_limited"] == 1
    assert stats["requests_rejected"] == 1
    assert (stats["streams_completed"], stats["streams_faulted"]) == (2, 1)
    assert stats["completion_tokens_total"] > 0


def test_reset_zeroes_counters(simulator: SimulatorProcess, client: httpx.Client) -> None:
    """POST /stats/reset zeroes every counter and forgets the last disconnect."""
    stream_chat(client, stream_body("Hi"))
    simulator.reset_stats()
    stats = simulator.stats()
    assert set(stats["requests_total"].values()) == {0}
    assert stats["streams_completed"] == stats["streams_cancelled"] == 0
    assert stats["last_disconnect_ms"] is None
