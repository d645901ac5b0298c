"""``beacon serve``: uvicorn for the public app and, with ``internal_port``, a second uvicorn
server for the internal app (``/metrics``, ``/readyz``) on the same event loop.

Only the public server runs the lifespan (the internal app reads what it built). Each server
takes SIGINT/SIGTERM in turn: uvicorn restores the handler it replaced when it stops and
re-raises the signal, so the last server started stops first and passes the signal to the
other. Whichever server stops for any reason, the other is told to stop too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@dataclass(frozen=True, slots=True)
class Listener:
    app: ASGIApp
    host: str
    port: int
    lifespan: bool = True


def server_options(listener: Listener) -> dict[str, Any]:
    return {
        "host": listener.host,
        "port": listener.port,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on" if listener.lifespan else "off",
        "access_log": False,  # the canonical ask_completed line is the access log
        "log_level": "warning",
        "timeout_graceful_shutdown": 10,
    }


def run_servers(listeners: Sequence[Listener]) -> None:
    """Serve every listener on one loop until a signal (or one server's end) stops them all;
    one listener is plain ``uvicorn.run``."""
    if len(listeners) == 1:
        (only,) = listeners
        uvicorn.run(only.app, **server_options(only))
        return
    servers = [uvicorn.Server(uvicorn.Config(it.app, **server_options(it))) for it in listeners]
    with asyncio.Runner(loop_factory=servers[0].config.get_loop_factory()) as runner:
        runner.run(serve_together(servers))


async def serve_together(servers: Sequence[uvicorn.Server]) -> None:
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
