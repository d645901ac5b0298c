"""The provider contract: both OpenAI clients, against the real simulator process, behave alike.

Every test runs once with the direct client and once with langchain-openai (``client_kind``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import pytest

from evals.upstream import SimulatorProcess
from service.errors import (
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)
from service.providers.base import ChatMessage, ChatProvider, GenerationRequest, Usage

ProviderFactory = Callable[..., ChatProvider]
ANSWER = "Refunds reach your card within 5 business days."


def request(
    headers: Mapping[str, str] | None = None, *, max_tokens: int = 512
) -> GenerationRequest:
    messages = (ChatMessage("system", "You are Beacon."), ChatMessage("user", "Refund?"))
    return GenerationRequest(
        model="beacon-easy",
        messages=messages,
        lang="en",
        evidence=(),
        max_tokens=max_tokens,
        headers=dict(headers or {}),
    )


async def collect(provider: ChatProvider, req: GenerationRequest, usage: Usage) -> list[str]:
    try:
        return [text async for text in provider.stream(req, usage)]
    finally:
        await provider.aclose()


def run(provider: ChatProvider, req: GenerationRequest) -> tuple[list[str], Usage]:
    usage = Usage()
    return asyncio.run(collect(provider, req, usage)), usage


def failure(provider: ChatProvider, req: GenerationRequest) -> tuple[ProviderError, list[str]]:
    received: list[str] = []

    async def drain() -> None:
        try:
            async for text in provider.stream(req, Usage()):
                received.append(text)
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as caught:
        asyncio.run(drain())
    return caught.value, received


def test_streams_the_answer_and_reads_usage_from_the_final_chunk(
    make_provider: ProviderFactory,
) -> None:
    """The deltas join to the upstream's answer and usage is what the upstream reported."""
    texts, usage = run(make_provider(), request({"x-sim-answer": ANSWER}))
    assert "".join(texts) == ANSWER and len(texts) > 5
    assert usage.reported and usage.model == "beacon-easy"
    assert usage.tokens_out == len(texts) and usage.tokens_in > 5


def test_chinese_text_arrives_intact(make_provider: ProviderFactory) -> None:
    """Multi-byte UTF-8 answers are never split inside a character."""
    evidence = "<evidence>\n退款会在5个工作日内退回原支付方式。\n</evidence>"
    messages = (ChatMessage("system", evidence), ChatMessage("user", "怎么申请退款？"))
    req = GenerationRequest(model="beacon-easy", messages=messages, lang="zh", evidence=())
    texts, _ = run(make_provider(), req)
    assert (
        "".join(texts)
        == "根据我们的帮助中心：退款会在5个工作日内退回原支付方式。如有其他问题，请随时告诉我们。"
    )


def test_max_tokens_reaches_the_upstream(make_provider: ProviderFactory) -> None:
    """The request's token limit is sent: the upstream stops after that many tokens."""
    provider = make_provider(max_tokens=3)
    texts, usage = run(provider, request({"x-sim-answer": ANSWER}, max_tokens=3))
    assert len(texts) == 3 and usage.tokens_out == 3


def test_rate_limit_is_typed_with_its_retry_after(make_provider: ProviderFactory) -> None:
    """HTTP 429 becomes ProviderRateLimited carrying the upstream's Retry-After."""
    error, received = failure(make_provider(), request({"x-sim-fault": "rate_limited"}))
    assert isinstance(error, ProviderRateLimited) and error.retry_after_s == 1.0
    assert received == []


def test_server_error_is_unavailable(make_provider: ProviderFactory) -> None:
    """HTTP 500 becomes ProviderUnavailable."""
    error, _ = failure(make_provider(), request({"x-sim-fault": "server_error"}))
    assert type(error) is ProviderUnavailable


def test_reset_mid_stream_is_unavailable_after_the_text_so_far(
    make_provider: ProviderFactory,
) -> None:
    """A connection reset after a few chunks raises ProviderUnavailable; the chunks came first."""
    error, received = failure(make_provider(), request({"x-sim-fault": "reset_mid_stream"}))
    assert type(error) is ProviderUnavailable and len(received) == 3


def test_malformed_chunk_is_a_bad_response(make_provider: ProviderFactory) -> None:
    """A chunk that is not JSON raises ProviderBadResponse."""
    error, received = failure(make_provider(), request({"x-sim-fault": "malformed_chunk"}))
    assert type(error) is ProviderBadResponse and len(received) == 3


def test_stream_cut_off_without_a_finish_is_a_bad_response(
    make_provider: ProviderFactory,
) -> None:
    """A body that ends without a finish reason or [DONE] is an incomplete answer."""
    error, received = failure(make_provider(), request({"x-sim-fault": "no_done"}))
    assert type(error) is ProviderBadResponse and received


def test_silent_upstream_times_out(make_provider: ProviderFactory) -> None:
    """No first token within the chunk timeout raises ProviderTimeout."""
    provider = make_provider(chunk_timeout_s=0.3, total_timeout_s=5)
    error, _ = failure(provider, request({"x-sim-fault": "no_first_token"}))
    assert type(error) is ProviderTimeout


def test_unreachable_upstream_is_unavailable(make_provider: ProviderFactory) -> None:
    """A refused connection raises ProviderUnavailable."""
    provider = make_provider(base_url="http://127.0.0.1:9/v1", connect_timeout_s=1)
    error, _ = failure(provider, request())
    assert type(error) is ProviderUnavailable


def test_error_messages_never_quote_the_upstream(make_provider: ProviderFactory) -> None:
    """Typed errors carry Beacon's own safe message, not the upstream's error text."""
    error, _ = failure(make_provider(), request({"x-sim-fault": "server_error"}))
    assert "simulated" not in error.message and error.message == error.default_message


def test_abandoned_stream_closes_the_upstream_call(
    make_provider: ProviderFactory, simulator: SimulatorProcess
) -> None:
    """Closing the stream after two tokens makes the upstream see the client leave."""
    cancelled_before = simulator.stats()["streams_cancelled"]
    provider = make_provider()

    async def read_two() -> None:
        stream = provider.stream(request({"x-sim-fault": "never_ends"}), Usage())
        async for _ in stream:
            if await asyncio.sleep(0, result=True):
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await provider.aclose()

    asyncio.run(read_two())
    deadline = time.monotonic() + 2.0
    while simulator.stats()["streams_cancelled"] == cancelled_before:
        assert time.monotonic() < deadline, "the upstream never saw the stream close"
        time.sleep(0.02)
