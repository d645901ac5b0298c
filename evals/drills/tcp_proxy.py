"""A loopback TCP proxy that can be made slow or cut, to drill a slow or flapping Redis.

Beacon is pointed at the proxy instead of Redis. ``delay_s`` holds every chunk in both
directions for that long (a slow network or an overloaded server); ``cut()`` closes every open
connection and refuses new ones until ``restore()`` (Redis down, then back). It runs on its own
event loop in a thread of the drill process, so Beacon meets real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

CHUNK_BYTES = 65536


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.delay_s = 0.0
        self.port = 0
        self._cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cut(self) -> None:
        self._cut = True
        self._call(self._close_all)

    def restore(self) -> None:
        self._cut = False

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
            self._close_all()
            if self._handlers:
                await asyncio.wait(set(self._handlers), timeout=1.0)
            for handler in self._handlers:
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.close()
            return
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for each in (writer, up_writer):
                self._writers.discard(each)
                each.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(CHUNK_BYTES):
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(chunk)
                await writer.drain()
        writer.close()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()

    def _call(self, callback: Callable[[], None]) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(callback)


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
    if not started.wait(5):
        raise RuntimeError("the TCP proxy did not start")
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(task_holder[0].cancel)
        thread.join(timeout=5)
        loop.close()
