"""Start the simulator as a real subprocess, for tests, drills and benchmarks.

A real process (not an in-process app) is the point: Beacon's provider must meet real sockets,
real resets and real disconnects, and a benchmark must not share the simulator's CPU.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from evals.upstream.config import SimulatorConfig

# The directory that holds the ``evals`` package, so the child imports this very copy.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 5.0


class SimulatorStartError(RuntimeError):
    """The simulator process exited or did not become healthy in time; carries its output."""


@dataclass(frozen=True, slots=True)
class SimulatorProcess:
    """A running simulator: where to reach it and how to read its counters."""

    process: subprocess.Popen[bytes]
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` to give an OpenAI SDK or ``ChatOpenAI``."""
        return f"{self.base_url}/v1"

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/stats", timeout=5.0)
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def reset_stats(self) -> None:
        httpx.post(f"{self.base_url}/stats/reset", timeout=5.0).raise_for_status()


@contextmanager
def start_simulator(
    *,
    config: SimulatorConfig | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    startup_timeout_s: float = 15.0,
) -> Iterator[SimulatorProcess]:
    """Run ``python -m evals.upstream`` until the block exits; ``port=None`` picks a free one."""
    port = port or pick_free_port(host)
    command = [
        *(sys.executable, "-m", "evals.upstream", "--host", host, "--port", str(port)),
        *(config or SimulatorConfig()).to_cli_args(),
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=child_environment()
        )
        try:
            simulator = SimulatorProcess(process=process, host=host, port=port)
            wait_until_healthy(simulator, output, timeout_s=startup_timeout_s)
            yield simulator
        finally:
            stop_process(process)


def pick_free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def child_environment() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    root = str(PACKAGE_ROOT)
    return {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{path}" if path else root}


def wait_for_http(
    url: str, process: subprocess.Popen[bytes], *, timeout_s: float, interval_s: float = 0.05
) -> str | None:
    """Poll ``url`` until it answers 200 while ``process`` runs (every child process the evals,
    drills, benchmarks and tests start is waited for this way). ``None`` when ready, otherwise
    why not, for the caller's own error with the child's output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return None
        except httpx.TransportError:
            pass
        time.sleep(interval_s)
    return f"not ready after {timeout_s:.0f} s"


def wait_until_healthy(simulator: SimulatorProcess, output: IO[bytes], *, timeout_s: float) -> None:
    problem = wait_for_http(f"{simulator.base_url}/healthz", simulator.process, timeout_s=timeout_s)
    if problem is not None:
        raise SimulatorStartError(f"simulator {problem}:\n{read_output(output)}")


def read_output(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode("utf-8", "replace")


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Terminate, and kill if it has not exited within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
