"""A pure-ASGI Server-Sent Events response: one send per event, keep-alives, disconnect-aware.

When the client goes away the streaming task is cancelled, so the stream's ``finally`` runs
(and the upstream model call is closed) right away instead of at the next token. ``on_close``
runs once the response is over, however it ended (a stream that never started included).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from service.pipeline.encoder import KEEPALIVE_FRAME, SSEEncoder
from service.pipeline.events import Event


class SSEResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncIterator[Event],
        *,
        trace_id: str,
        keepalive_s: float,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers(
            {"cache-control": "no-cache", "x-accel-buffering": "no", "x-trace-id": trace_id}
        )
        self.events = events
        self.encoder = SSEEncoder(trace_id)
        self.keepalive_s = keepalive_s
        self.trace_id = trace_id
        self.on_close = on_close
        self._last_send = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002
        stream = asyncio.current_task()
        assert stream is not None
        watcher = asyncio.create_task(self._cancel_on_disconnect(receive, stream))
        keepalive: asyncio.Task[None] | None = None
        disconnected = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            keepalive = asyncio.create_task(self._send_keepalives(send))
            await self._send_events(send)
        except asyncio.CancelledError:
            disconnected = watcher.done() and not watcher.cancelled()
            if not disconnected:
                raise
            # Our own cancellation, caused by the disconnect: absorb it so the server sees a
            # clean end of the ASGI call.
            stream.uncancel()
        except OSError:  # the transport broke mid-send: the client is gone
            disconnected = True
        finally:
            watcher.cancel()
            if keepalive is not None:
                keepalive.cancel()
            await _close_quietly(self.events)
            self.on_close()
        if not disconnected:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _send_events(self, send: Send) -> None:
        encode = self.encoder.encode
        async for event in self.events:
            await send({"type": "http.response.body", "body": encode(event), "more_body": True})
            self._last_send = time.monotonic()

    async def _send_keepalives(self, send: Send) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s)
            if time.monotonic() - self._last_send >= self.keepalive_s:
                await send(
                    {"type": "http.response.body", "body": KEEPALIVE_FRAME, "more_body": True}
                )
                self._last_send = time.monotonic()

    @staticmethod
    async def _cancel_on_disconnect(receive: Receive, stream: asyncio.Task[object]) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                stream.cancel()
                return


async def _close_quietly(events: AsyncIterator[Event]) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
