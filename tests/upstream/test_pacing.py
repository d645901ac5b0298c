"""Chunks are paced like a model: a time to first token, then a token rate (lower bounds only)."""

from __future__ import annotations

import httpx
import pytest

from evals.upstream.config import SLOW_FIRST_TOKEN_FACTOR
from tests.upstream.chat import TEST_CONFIG, stream_body, stream_chat

pytestmark = pytest.mark.slow  # every test here talks to a real simulator process


def test_first_token_waits_for_requested_ttft(client: httpx.Client) -> None:
    """The first content chunk comes no sooner than x-sim-ttft-ms after the request."""
    result = stream_chat(client, stream_body("Hi"), {"x-sim-ttft-ms": "300"})
    assert result.first_content_s is not None
    assert result.first_content_s >= 0.3


def test_slow_first_token_triples_configured_ttft(client: httpx.Client) -> None:
    """slow_first_token waits at least three times the configured TTFT."""
    result = stream_chat(client, stream_body("Hi", model="beacon-easy+slow_first_token"))
    assert result.first_content_s is not None
    assert result.first_content_s >= SLOW_FIRST_TOKEN_FACTOR * TEST_CONFIG.ttft_ms / 1000


def test_tokens_follow_requested_rate(client: httpx.Client) -> None:
    """At x-sim-tps N the content chunks take at least (chunks - 1) / N seconds."""
    headers = {"x-sim-ttft-ms": "0", "x-sim-tps": "40"}
    result = stream_chat(client, stream_body("Hi"), headers)
    assert result.elapsed_s >= (len(result.content_chunks) - 1) / 40


def test_invalid_pacing_header_is_400(client: httpx.Client) -> None:
    """A non-numeric or non-positive x-sim-tps is refused with 400."""
    for value in ("fast", "0", "-1", "nan"):
        response = client.post(
            "/v1/chat/completions", json=stream_body("Hi"), headers={"x-sim-tps": value}
        )
        assert response.status_code == 400, value
