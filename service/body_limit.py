"""Pure-ASGI request body limit: Starlette has none, so an unbounded body would be read whole.

A declared ``Content-Length`` is checked up front; a chunked body is buffered up to the limit
(bodies here are a few KiB) and replayed, so an oversized one is refused before the app runs.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import BodyTooLarge, error_response
from service.observability.middleware import SCOPE_KEY

# Told about each refusal (error, trace_id, path): the app logs and counts it. The path is cut
# to its first MAX_PATH_CHARS characters: it is attacker-sized and only goes into a log line.
RefusalHook = Callable[[BodyTooLarge, str, str], None]
MAX_PATH_CHARS = 2_048


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, on_refuse: RefusalHook | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_refuse = on_refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = BodyTooLarge(f"The request body must be at most {self.max_bytes} bytes.")
        trace = scope.get(SCOPE_KEY)
        trace_id = trace.trace_id if trace else ""
        if self.on_refuse is not None:
            self.on_refuse(error, trace_id, scope["path"][:MAX_PATH_CHARS])
        response = error_response(error, trace_id)
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay_receive() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay_receive
