"""A dropped OpenAI-SDK stream, repeated with its Idempotency-Key, completes from Beacon's turn
buffer without a second upstream call (real processes: simulator, beacon serve, a TCP proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from tests.served import serve_beacon
from tests.web.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Forty distinct words and no digits: no checkable claim, so the grounding guard lets every
# word through as it arrives (numbers the evidence does not hold would be replaced).
ANSWER = " ".join(f"step{_LETTERS[i % 26]}{_LETTERS[i // 26]}" for i in range(40))  # ~2 s


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimulatorProcess]:
    config = SimulatorConfig(ttft_ms=50, tokens_per_second=20, answer=ANSWER)
    with start_simulator(config=config) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def proxied_beacon(
    upstream: SimulatorProcess, demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TcpProxy]:
    work = tmp_path_factory.mktemp("beacon-openai")
    settings = {"BEACON_PROVIDER": "openai", "BEACON_LLM__BASE_URL": upstream.openai_base_url}
    with serve_beacon(demo_index_dir, work, **settings) as beacon:
        proxy = TcpProxy(beacon.port)
        yield proxy
        proxy.close()


def test_dropped_sdk_stream_completes_without_a_second_upstream_call(
    upstream: SimulatorProcess, proxied_beacon: TcpProxy
) -> None:
    """Cut mid-answer, the same request with the same Idempotency-Key streams the whole answer
    again from the buffer, and the simulator saw exactly one chat completion."""
    upstream.reset_stats()
    client = openai.OpenAI(base_url=f"{proxied_beacon.url}/v1", api_key="unused", max_retries=0)
    request = {
        "model": "beacon",
        "messages": [{"role": "user", "content": "How do I request a refund?"}],
        "stream": True,
        "extra_headers": {"Idempotency-Key": "turn-sdk-resume-0001"},
    }
    received = []
    with pytest.raises(openai.APIConnectionError):  # the SDK sees the connection drop
        for chunk in client.chat.completions.create(**request):  # type: ignore[call-overload]
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
            if len(received) == 5:
                assert proxied_beacon.cut() >= 2
    chunks = list(client.chat.completions.create(**request))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == ANSWER
    assert "".join(received) == text[: len("".join(received))]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream.stats()["requests_total"]["none"] == 1
