"""A loopback TCP proxy that can be made slow, dropped or cut, so services meet real sockets.

A client is pointed at the proxy instead of its server. ``delay_s`` holds every chunk in both
directions for that long (a slow network or an overloaded server). ``drop()`` closes every open
connection while new ones go through (a dropped Wi-Fi link, the browser reconnects); ``cut()``
also refuses new ones until ``restore()`` (the server down, then back). It runs on its own event
loop in a thread of the calling process, so it serves a test and a drill alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK_BYTES = 65536
CALL_TIMEOUT_S = 5.0

Connection = tuple[asyncio.StreamWriter, asyncio.StreamWriter]


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.delay_s = 0.0
        self.port = 0
        self._refusing = False
        self._open: set[Connection] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def drop(self) -> int:
        """Close every open connection; returns how many there were."""
        if self._loop is None:
            return 0
        future = asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop)
        return future.result(CALL_TIMEOUT_S)

    def cut(self) -> int:
        """Close every open connection and refuse new ones until ``restore()``."""
        self._refusing = True
        return self.drop()

    def restore(self) -> None:
        self._refusing = False

    async def serve(self, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            # Closing every connection lets each handler end by itself; cancelling one that is
            # still reading makes Python 3.11's stream callback log a CancelledError.
            await self._drop_all()
            if self._handlers:
                await asyncio.wait(set(self._handlers), timeout=1.0)
            for handler in self._handlers:
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.close()
            return
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:  # the server is gone: refuse this client too
            writer.close()
            return
        connection = (writer, up_writer)
        self._open.add(connection)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._open.discard(connection)
            for each in connection:
                each.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(CHUNK_BYTES):
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def _drop_all(self) -> int:
        connections, self._open = list(self._open), set()
        for connection in connections:
            for writer in connection:
                writer.close()
        return len(connections)


@contextmanager
def run_tcp_proxy(target_host: str, target_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    started = threading.Event()
    loop = asyncio.new_event_loop()
    task_holder: list[asyncio.Task[None]] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        task_holder.append(loop.create_task(proxy.serve(started)))
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task_holder[0])

    thread = threading.Thread(target=run, daemon=True, name="tcp-proxy")
    thread.start()
    if not started.wait(CALL_TIMEOUT_S):
        raise RuntimeError("the TCP proxy did not start")
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(task_holder[0].cancel)
        thread.join(timeout=CALL_TIMEOUT_S)
        loop.close()
