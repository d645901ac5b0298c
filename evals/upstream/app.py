"""The simulator's ASGI app: five routes and no framework, so the per-token path stays cheap.

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /healthz``, ``GET /stats``,
``POST /stats/reset``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from evals.upstream.config import Fault, SimulatorConfig
from evals.upstream.request import InvalidRequest, parse_chat_request
from evals.upstream.responder import (
    Completion,
    ResponseWriter,
    plan_completion,
    respond_whole,
    run_until_disconnect,
    stream_completion,
)
from evals.upstream.stats import SimulatorStats, StreamOutcome
from evals.upstream.wire import error_body

CHAT_PATH = "/v1/chat/completions"
MODEL_NAMES = ("beacon-easy", "beacon-hard")
MAX_BODY_BYTES = 4 * 1024 * 1024
Headers = list[tuple[bytes, bytes]]
# Faults answered with an error before any completion starts: (status, body, extra headers).
ERROR_RESPONSES: dict[Fault, tuple[int, bytes, Headers]] = {
    Fault.RATE_LIMITED: (
        429,
        error_body(
            "Rate limit reached for requests (simulated). Please try again in 1s.",
            kind="requests",
            code="rate_limit_exceeded",
        ),
        [(b"retry-after", b"1")],
    ),
    Fault.SERVER_ERROR: (
        500,
        error_body(
            "The server had an error while processing your request (simulated).",
            kind="server_error",
            code=None,
        ),
        [],
    ),
}


def create_app(config: SimulatorConfig) -> ASGIApp:
    """Build the simulator's ASGI app for ``config``."""
    return UpstreamSimulator(config)


class UpstreamSimulator:
    """An OpenAI-compatible chat-completions endpoint with scripted latency and faults."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.stats = SimulatorStats()
        self._ids = itertools.count(1)
        self._json_routes: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "/healthz"): lambda: {"status": "ok"},
            ("GET", "/stats"): self.stats.snapshot,
            ("POST", "/stats/reset"): self.reset_stats,
            ("GET", "/v1/models"): list_models,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        route = (scope["method"], scope["path"])
        if route == ("POST", CHAT_PATH):
            await self.chat_completions(scope, receive, send)
        elif route in self._json_routes:
            await send_json(send, 200, orjson.dumps(self._json_routes[route]()))
        else:
            message = f"Unknown route: {scope['method']} {scope['path']}"
            await send_json(send, 404, error_body(message, kind="invalid_request_error", code=None))

    def reset_stats(self) -> dict[str, Any]:
        self.stats.reset()
        return self.stats.snapshot()

    async def chat_completions(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await read_body(receive, limit=MAX_BODY_BYTES)
            request = parse_chat_request(body, sim_headers(scope), self.config)
        except InvalidRequest as exc:
            self.stats.count_rejected()
            await send_json(send, exc.status, invalid_request_body(exc))
            return
        fault = request.controls.fault
        self.stats.count_request(fault)
        if fault in ERROR_RESPONSES:
            await send_json(send, *ERROR_RESPONSES[fault])
            return
        completion = plan_completion(
            request,
            completion_id=f"chatcmpl-sim{next(self._ids):08x}",
            fixed_answer=self.config.answer,
        )
        if completion.mutation is not None:
            self.stats.count_answer(completion.mutation)
        await self.play(completion, stream=request.stream, receive=receive, send=send)

    async def play(
        self, completion: Completion, *, stream: bool, receive: Receive, send: Send
    ) -> None:
        """Play ``completion`` until it ends or the client leaves, and count how it ended."""
        script = stream_completion if stream else respond_whole
        writer = ResponseWriter(send)
        self.stats.open_stream()
        outcome, disconnect_ms = StreamOutcome.FAULTED, None  # kept only if the script raised
        try:
            finished = await run_until_disconnect(receive, script(completion, writer))
            if finished is None:
                outcome = StreamOutcome.CANCELLED
                disconnect_ms = (time.monotonic() - writer.last_sent_at) * 1000
            else:
                outcome = finished
        finally:
            self.stats.close_stream(
                outcome, tokens_sent=writer.pieces_sent, disconnect_ms=disconnect_ms
            )


def list_models() -> dict[str, Any]:
    models = [
        {"id": name, "object": "model", "created": 0, "owned_by": "beacon-simulator"}
        for name in MODEL_NAMES
    ]
    return {"object": "list", "data": models}


def invalid_request_body(exc: InvalidRequest) -> bytes:
    return error_body(
        exc.message, kind="invalid_request_error", param=exc.param, code="invalid_value"
    )


def sim_headers(scope: Scope) -> dict[str, str]:
    """Return the ``x-sim-*`` request headers (UTF-8, so ``x-sim-answer`` may be Chinese)."""
    return {
        name.decode("latin-1"): value.decode("utf-8", "replace")
        for name, value in scope["headers"]
        if name.startswith(b"x-sim-")
    }


async def read_body(receive: Receive, *, limit: int) -> bytes:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidRequest("Client disconnected while sending the body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise InvalidRequest(f"Request body exceeds {limit} bytes.", status=413)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def send_json(send: Send, status: int, body: bytes, headers: Headers | None = None) -> None:
    start_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


async def serve_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge startup and shutdown; the simulator holds no resources."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
