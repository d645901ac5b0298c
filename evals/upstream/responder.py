"""Play one completion: paced like a model, broken on request, cancelled on disconnect."""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Send

from evals.upstream.answer import compose_answer, compose_unfaithful_answer
from evals.upstream.config import Fault, Mode
from evals.upstream.request import ChatRequest
from evals.upstream.stats import StreamOutcome
from evals.upstream.tokens import estimate_prompt_tokens, split_tokens
from evals.upstream.wire import DONE_FRAME, MALFORMED_FRAME, ChunkFrames, completion_body

# Good content chunks sent before reset_mid_stream and malformed_chunk break the stream.
FAULT_AFTER_PIECES = 3
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]
# A fault that still delivers a correct response counts as completed.
HARMLESS_FAULTS = frozenset({None, Fault.SLOW_FIRST_TOKEN})


class SimulatedReset(Exception):
    """Raised to break the connection when the server does not expose its transport."""


@dataclass(frozen=True, slots=True)
class Completion:
    """Everything needed to play one response, decided before the first byte."""

    id: str
    created: int
    model: str
    pieces: list[str]
    finish_reason: str
    prompt_tokens: int
    include_usage: bool
    fault: Fault | None
    ttft_s: float
    seconds_per_token: float
    mutation: str | None = None
    """Unfaithful mode only: how the answer was corrupted ("none" when it was not)."""


def plan_completion(
    request: ChatRequest, *, completion_id: str, fixed_answer: str | None
) -> Completion:
    controls = request.controls
    text, mutation = controls.answer, None
    if text is None and controls.mode is Mode.UNFAITHFUL:
        text, corrupted = compose_unfaithful_answer(request.messages, rate=controls.unfaithful_rate)
        mutation = corrupted.value if corrupted else "none"
    if text is None:
        text = compose_answer(request.messages, mode=controls.mode, fixed=fixed_answer)
    pieces, finish_reason = split_tokens(text), "stop"
    if request.max_tokens is not None and len(pieces) > request.max_tokens:
        pieces, finish_reason = pieces[: request.max_tokens], "length"
    return Completion(
        id=completion_id,
        created=int(time.time()),
        model=request.model,
        pieces=pieces,
        finish_reason=finish_reason,
        prompt_tokens=estimate_prompt_tokens(message.text for message in request.messages),
        include_usage=request.include_usage,
        fault=controls.fault,
        ttft_s=controls.ttft_s,
        seconds_per_token=controls.seconds_per_token,
        mutation=mutation,
    )


class ResponseWriter:
    """Sends one response's ASGI messages and remembers when the last one went out."""

    __slots__ = ("_send", "last_sent_at", "pieces_sent")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.last_sent_at = time.monotonic()
        self.pieces_sent = 0

    async def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        self.last_sent_at = time.monotonic()

    async def body(self, data: bytes, *, more: bool = True) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": more})
        self.last_sent_at = time.monotonic()

    def reset_connection(self) -> None:
        """Abort the TCP connection with an RST, so the client sees a reset, not an end."""
        # uvicorn's send is a bound method of its per-request cycle, which holds the transport.
        transport = getattr(getattr(self._send, "__self__", None), "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            raise SimulatedReset("connection reset by x-sim-fault")
        sock = transport.get_extra_info("socket")
        if sock is not None:  # linger 0 turns close into RST instead of an orderly FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


async def stream_completion(completion: Completion, writer: ResponseWriter) -> StreamOutcome:
    """Send ``completion`` as OpenAI's SSE stream, broken as its fault says."""
    await writer.start(200, SSE_HEADERS)
    if completion.fault is Fault.NO_FIRST_TOKEN:
        await wait_forever()
    frames = ChunkFrames(
        completion_id=completion.id,
        created=completion.created,
        model=completion.model,
        include_usage=completion.include_usage,
    )
    start = asyncio.get_running_loop().time() + completion.ttft_s
    await asyncio.sleep(completion.ttft_s)
    await writer.body(frames.role())
    await send_paced(
        writer,
        map(frames.content, stream_pieces(completion)),
        start=start,
        interval=completion.seconds_per_token,
    )
    return await end_stream(completion, frames, writer)


async def end_stream(
    completion: Completion, frames: ChunkFrames, writer: ResponseWriter
) -> StreamOutcome:
    """Close the stream after its content: properly, or broken as the fault says."""
    if completion.fault in (Fault.RESET_MID_STREAM, Fault.MALFORMED_CHUNK):
        await asyncio.sleep(completion.seconds_per_token)  # the broken chunk's turn
        if completion.fault is Fault.RESET_MID_STREAM:
            writer.reset_connection()
        else:
            await writer.body(MALFORMED_FRAME, more=False)
        return StreamOutcome.FAULTED
    if completion.fault is Fault.NO_DONE:
        await writer.body(b"", more=False)
        return StreamOutcome.FAULTED
    await writer.body(frames.finish(completion.finish_reason))
    if completion.include_usage:
        usage = frames.usage(
            prompt_tokens=completion.prompt_tokens, completion_tokens=writer.pieces_sent
        )
        await writer.body(usage)
    await writer.body(DONE_FRAME, more=False)
    return StreamOutcome.COMPLETED


def stream_pieces(completion: Completion) -> Iterable[str]:
    if completion.fault is Fault.NEVER_ENDS:
        return itertools.cycle(completion.pieces or [" "])
    if completion.fault in (Fault.RESET_MID_STREAM, Fault.MALFORMED_CHUNK):
        return completion.pieces[:FAULT_AFTER_PIECES]
    return completion.pieces


async def send_paced(
    writer: ResponseWriter, frames: Iterable[bytes], *, start: float, interval: float
) -> None:
    """Send frame i at ``start + i * interval``: scheduling against the clock, not after the
    previous send, keeps the token rate true when the event loop is busy."""
    loop = asyncio.get_running_loop()
    for index, frame in enumerate(frames):
        await asyncio.sleep(max(0.0, start + index * interval - loop.time()))
        await writer.body(frame)
        writer.pieces_sent += 1


async def respond_whole(completion: Completion, writer: ResponseWriter) -> StreamOutcome:
    """Send ``completion`` as one ``chat.completion`` JSON body, broken as its fault says."""
    fault = completion.fault
    if fault in (Fault.NO_FIRST_TOKEN, Fault.NEVER_ENDS):
        await wait_forever()
    # A real model answers only once it has generated every token.
    await asyncio.sleep(completion.ttft_s + len(completion.pieces) * completion.seconds_per_token)
    if fault is Fault.RESET_MID_STREAM:
        writer.reset_connection()
        return StreamOutcome.FAULTED
    body = completion_body(
        completion_id=completion.id,
        created=completion.created,
        model=completion.model,
        text="".join(completion.pieces),
        finish_reason=completion.finish_reason,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=len(completion.pieces),
    )
    if fault is Fault.MALFORMED_CHUNK:
        body = b"{not json"
    elif fault is Fault.NO_DONE:
        body = body[: len(body) // 2]  # a clean HTTP end around a cut-off JSON document
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await writer.start(200, headers)
    await writer.body(body, more=False)
    writer.pieces_sent = len(completion.pieces)
    return StreamOutcome.COMPLETED if fault in HARMLESS_FAULTS else StreamOutcome.FAULTED


async def wait_forever() -> None:
    await asyncio.Event().wait()


async def run_until_disconnect(
    receive: Receive, work: Coroutine[Any, Any, StreamOutcome]
) -> StreamOutcome | None:
    """Run ``work`` while watching for the client to leave; None means it left first.

    The watcher wakes on uvicorn's ``http.disconnect`` as soon as the socket closes, so a
    cancelled stream is noticed at once, not at its next chunk.
    """
    work_task = asyncio.ensure_future(work)
    watch_task = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait((work_task, watch_task), return_when=asyncio.FIRST_COMPLETED)
        return work_task.result() if work_task.done() else None
    finally:
        watch_task.cancel()
        work_task.cancel()  # a no-op once it has finished


async def wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
