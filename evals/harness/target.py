"""Where the eval sends its questions: a live URL, or a ``beacon serve`` process of its own.

The in-process target is a real server in a child process on an ephemeral loopback port, so the
eval measures what a client would (and the client's own work does not share the server's GIL).
It is configured the way Beacon always is, through ``BEACON_*`` variables: the child inherits this
process's environment plus the suite's overrides, and its log lines (one ``ask_completed`` per
request, with the trace_ids the report cites) go to a file beside the report.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


class TargetUnavailable(RuntimeError):
    """The target did not become ready, or its process exited."""


def free_port() -> int:
    """Ask the kernel for a free loopback port (the child binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served_beacon(
    env: Mapping[str, str], *, log_path: Path, ready_timeout_s: float = 900.0
) -> Iterator[str]:
    """Run ``beacon serve`` with ``env`` on top of this environment; yield its base URL."""
    port = free_port()
    child_env = {**os.environ, **env}
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=child_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process, ready_timeout_s, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    # A large KB is indexed at startup (minutes with MiniLM on 10k rows), hence the long deadline.
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TargetUnavailable(f"beacon serve exited with {process.returncode}; see {log}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise TargetUnavailable(f"beacon serve was not ready after {timeout_s:.0f} s; see {log}")


def check_live(url: str) -> None:
    """Fail fast when a live target does not answer ``/readyz``."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/readyz", timeout=5.0)
    except httpx.HTTPError as exc:
        raise TargetUnavailable(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise TargetUnavailable(f"{url}/readyz answered {response.status_code}")
