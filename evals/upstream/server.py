"""Serve the simulator with uvicorn: one process, one event loop, quiet logs."""

from __future__ import annotations

import uvicorn

from evals.upstream.app import create_app
from evals.upstream.config import SimulatorConfig

# Open never_ends streams would otherwise hold a terminating simulator for ever.
GRACEFUL_SHUTDOWN_S = 1
# Benchmarks open hundreds of connections at once.
LISTEN_BACKLOG = 4096


def run(*, host: str, port: int, config: SimulatorConfig, log_level: str = "warning") -> None:
    """Serve the simulator on ``host:port`` until SIGINT or SIGTERM."""
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        backlog=LISTEN_BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
