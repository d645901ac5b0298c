"""The direct client's own guarantees: SSE decoding, the request it sends, its connection pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest

from evals.upstream import SimulatorProcess
from service.errors import ProviderBadResponse, ProviderUnavailable
from service.providers.base import ChatMessage, GenerationRequest, Usage
from service.providers.connection_pool import ConnectionPool
from service.providers.openai_direct import ChunkDecoder, OpenAIDirectProvider
from service.settings import LLMSettings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def sse(*payloads: object, done: bool = True) -> bytes:
    frames = [b"data: " + orjson.dumps(p) + b"\n\n" for p in payloads]
    return b"".join(frames) + (b"data: [DONE]\n\n" if done else b"")


def delta(text: str, finish: str | None = None) -> dict[str, object]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


STREAM = sse(
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    delta("Hello"),
    delta(" wörld 你好"),
    delta("", finish="stop"),
    {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2}},
)


def decode(chunks: list[bytes]) -> tuple[list[str], Usage, ChunkDecoder]:
    usage = Usage()
    decoder = ChunkDecoder(usage)
    texts = [text for chunk in chunks for text in decoder.feed(chunk)]
    decoder.finish()
    return texts, usage, decoder


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(STREAM)])
def test_decoding_does_not_depend_on_how_bytes_are_split(size: int) -> None:
    """Any split of the body into reads, even inside a UTF-8 character, gives the same deltas."""
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    texts, usage, decoder = decode(chunks)
    assert texts == ["Hello", " wörld 你好"]
    assert (usage.tokens_in, usage.tokens_out, usage.reported) == (12, 2, True)
    assert decoder.finish_reason == "stop" and decoder.saw_done


def test_crlf_comments_and_other_fields_are_tolerated() -> None:
    """CRLF line ends, comment lines and id/event fields do not disturb decoding."""
    body = b": keep-alive\r\n\r\nid: 1\r\nevent: chunk\r\ndata: " + orjson.dumps(delta("Hi"))
    body += b"\r\n\r\ndata: [DONE]\r\n\r\n"
    texts, _, decoder = decode([body])
    assert texts == ["Hi"] and decoder.saw_done


def test_output_tokens_are_counted_when_usage_is_not_reported() -> None:
    """Without a usage chunk, each content delta counts as one output token."""
    texts, usage, _ = decode([sse(delta("a"), delta("b"), delta("c", finish="stop"))])
    assert len(texts) == 3 and (usage.tokens_out, usage.reported) == (3, False)


def test_an_error_frame_mid_stream_is_a_provider_error() -> None:
    """An OpenAI-style error object inside the stream raises ProviderUnavailable."""
    with pytest.raises(ProviderUnavailable):
        decode([sse(delta("a"), {"error": {"message": "overloaded"}})])


def test_a_body_cut_off_before_the_end_is_a_bad_response() -> None:
    """Neither [DONE] nor a finish reason: the answer is incomplete."""
    with pytest.raises(ProviderBadResponse):
        decode([sse(delta("a"), done=False)])


async def serve_once(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1"


def test_the_request_is_an_openai_streaming_request() -> None:
    """POST /v1/chat/completions with the bearer key, stream + include_usage and the messages."""
    seen: dict[str, bytes] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        seen["head"], seen["body"] = head, await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(STREAM) + STREAM)
        await writer.drain()
        writer.close()

    async def main() -> list[str]:
        server, url = await serve_once(handler)
        settings = LLMSettings(base_url=url, api_key="sk-test", max_tokens=64, temperature=0)
        provider = OpenAIDirectProvider(settings)
        messages = (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi?"))
        req = GenerationRequest(
            model="m1", messages=messages, lang="en", evidence=(), max_tokens=64
        )
        try:
            return [text async for text in provider.stream(req, Usage())]
        finally:
            await provider.aclose()
            server.close()

    assert asyncio.run(main()) == ["Hello", " wörld 你好"]
    assert seen["head"].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"authorization: Bearer sk-test\r\n" in seen["head"]
    body = orjson.loads(seen["body"])
    assert body["model"] == "m1" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 64
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?"},
    ]


async def stream_all(pool: ConnectionPool, url: str, answer: str) -> list[str]:
    provider = OpenAIDirectProvider(LLMSettings(base_url=url), pool=pool)
    messages = (ChatMessage("user", "Hi?"),)
    req = GenerationRequest(
        model="beacon-easy",
        messages=messages,
        lang="en",
        evidence=(),
        headers={"x-sim-answer": answer},
    )
    return [text async for text in provider.stream(req, Usage())]


def test_sequential_streams_reuse_one_pooled_connection(simulator: SimulatorProcess) -> None:
    """Three streams in a row travel over the same keep-alive connection."""

    async def main() -> set[int]:
        pool = ConnectionPool(simulator.openai_base_url, connect_timeout_s=2, read_timeout_s=5)
        seen: set[int] = set()
        for _ in range(3):
            assert (
                "".join(await stream_all(pool, simulator.openai_base_url, "One two.")) == "One two."
            )
            seen.update(id(c) for c in pool.idle_connections)
        pool.close()
        return seen

    assert len(asyncio.run(main())) == 1


def test_an_abandoned_stream_never_returns_its_connection(simulator: SimulatorProcess) -> None:
    """A stream closed half-way aborts its connection instead of pooling a dirty one."""

    async def main() -> int:
        pool = ConnectionPool(simulator.openai_base_url, connect_timeout_s=2, read_timeout_s=5)
        provider = OpenAIDirectProvider(LLMSettings(base_url=simulator.openai_base_url), pool=pool)
        messages = (ChatMessage("user", "Hi?"),)
        req = GenerationRequest(
            model="beacon-easy", messages=messages, lang="en", evidence=(),
            headers={"x-sim-fault": "never_ends"},
        )  # fmt: skip
        stream: AsyncIterator[str] = provider.stream(req, Usage())
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        idle = len(pool.idle_connections)
        pool.close()
        return idle

    assert asyncio.run(main()) == 0
