"""A dropped OpenAI-SDK stream, repeated with its Idempotency-Key, completes from Beacon's turn
buffer without a second upstream call (real processes: simulator, beacon serve, a TCP proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from evals.drills.tcp_proxy import TcpProxy
from evals.upstream.process import SimulatorProcess
from tests.served import SLOW_ANSWER, model_beacon_behind_proxy, slow_model

pytestmark = pytest.mark.slow

ANSWER = SLOW_ANSWER


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimulatorProcess]:
    with slow_model() as simulator:
        yield simulator


@pytest.fixture(scope="module")
def proxied_beacon(
    upstream: SimulatorProcess, demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TcpProxy]:
    work = tmp_path_factory.mktemp("beacon-openai")
    with model_beacon_behind_proxy(upstream, demo_index_dir, work) as proxy:
        yield proxy


def test_dropped_sdk_stream_completes_without_a_second_upstream_call(
    upstream: SimulatorProcess, proxied_beacon: TcpProxy
) -> None:
    """Cut mid-answer, the same request with the same Idempotency-Key streams the whole answer
    again from the buffer, and the simulator saw exactly one chat completion."""
    upstream.reset_stats()
    client = openai.OpenAI(
        base_url=proxied_beacon.url("http") + "/v1", api_key="unused", max_retries=0
    )
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
                assert proxied_beacon.drop() >= 1
    chunks = list(client.chat.completions.create(**request))  # type: ignore[call-overload]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == ANSWER
    assert "".join(received) == text[: len("".join(received))]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream.stats()["requests_total"]["none"] == 1
