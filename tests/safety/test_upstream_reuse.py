"""No answer text crosses from one request to the next through a pooled upstream connection.

A stream that stops early (a blocked answer, a client that left) may already hold the rest of
its response in the connection's buffer: that connection must not serve the next request.
"""

from __future__ import annotations

import asyncio
from asyncio import StreamReader, StreamWriter
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson

from service.providers.base import ChatMessage, GenerationRequest, Usage
from service.providers.connection_pool import ConnectionPool
from service.providers.openai_direct import OpenAIDirectProvider
from service.settings import LLMSettings


def sse_body(words: list[str]) -> bytes:
    frames = [
        b"data: " + orjson.dumps({"choices": [{"index": 0, "delta": {"content": word}}]}) + b"\n\n"
        for word in words
    ]
    return b"".join(frames) + b"data: [DONE]\n\n"


def chunked(body: bytes, pieces: int) -> bytes:
    """``body`` in HTTP/1.1 chunked encoding, cut into ``pieces`` chunks."""
    size = -(-len(body) // pieces)
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def upstream(answers: list[list[str]]) -> Callable[[StreamReader, StreamWriter], Awaitable[None]]:
    """An endpoint answering its requests in turn, each response in one write: the whole of it
    is in the client's buffer as soon as its first byte is."""

    async def serve(reader: StreamReader, writer: StreamWriter) -> None:
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r")[0])
                await reader.readexactly(length)
                words = answers.pop(0)
                body = chunked(sse_body(words), pieces=len(words) + 1)
                writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed this connection
        finally:
            writer.close()

    return serve


def request() -> GenerationRequest:
    return GenerationRequest(
        model="m", messages=(ChatMessage("user", "Hi?"),), lang="en", evidence=()
    )


def test_a_stream_stopped_early_leaves_nothing_for_the_next_request() -> None:
    """The rest of a stopped answer is dropped with its connection, never read by the next one."""

    async def main() -> tuple[str, str, int]:
        answers = [["Customer", " A's", " private", " answer"], ["Customer", " B's", " answer"]]
        server = await asyncio.start_server(upstream(answers), "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
        pool = ConnectionPool(url, connect_timeout_s=2, read_timeout_s=5)
        provider = OpenAIDirectProvider(LLMSettings(base_url=url), pool=pool)
        try:
            first: AsyncIterator[str] = provider.stream(request(), Usage())
            seen = await anext(first)
            await asyncio.sleep(0.05)  # the rest of the response is in the buffer by now
            await first.aclose()  # type: ignore[attr-defined]
            pooled = len(pool.idle_connections)
            second = "".join([text async for text in provider.stream(request(), Usage())])
            return seen, second, pooled
        finally:
            await provider.aclose()
            server.close()

    seen, second, pooled = asyncio.run(main())
    assert seen == "Customer"
    assert pooled == 0  # the half-read connection was closed, not pooled
    assert second == "Customer B's answer"
