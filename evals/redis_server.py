"""Start a real ``redis-server`` on a loopback port, for tests, drills and benchmarks.

Debian's ``redis-server`` package (``make test`` installs it) runs with no persistence and no
config file: a throwaway server per run. ``pause``/``resume`` stop and continue the process
(SIGSTOP/SIGCONT), which is how drills make Redis hang mid-traffic without losing its data.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from evals.upstream.process import pick_free_port, read_output, stop_process


class RedisStartError(RuntimeError):
    """redis-server is missing, exited, or did not answer PING in time; carries its output."""


@dataclass(frozen=True, slots=True)
class RedisServer:
    process: subprocess.Popen[bytes]
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def commands_processed(self) -> int:
        """Redis's ``total_commands_processed`` (``INFO stats``, this call included)."""
        with socket.create_connection((self.host, self.port), timeout=5) as conn:
            conn.sendall(b"INFO stats\r\n")
            reply = b""
            while b"total_commands_processed:" not in reply or not reply.endswith(b"\r\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                reply += chunk
        for line in reply.decode().splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":", 1)[1])
        raise RedisStartError("redis-server gave no total_commands_processed")


@contextmanager
def start_redis_server(
    *, port: int | None = None, host: str = "127.0.0.1", timeout_s: float = 10.0
) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisStartError("redis-server not found: `make test` installs Debian's package")
    port = port or pick_free_port(host)
    command = [
        *(binary, "--port", str(port), "--bind", host, "--save", ""),
        *("--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"),
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        server = RedisServer(process, host, port)
        try:
            if not _answers_ping(server, timeout_s):
                raise RedisStartError(f"redis-server did not start:\n{read_output(output)}")
            yield server
        finally:
            server.resume()  # a paused server cannot take SIGTERM
            stop_process(process)


def _answers_ping(server: RedisServer, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False
