"""Run Beacon as a real process with drill settings, its stdout captured to a file.

The process is ``beacon serve``'s app with the drill harness installed (``evals.harness.serve
--faults``): fault wrappers and the ``x-beacon-fault`` header, which production cannot reach.

The environment is built from scratch for ``BEACON_*``: a variable set in the caller's shell
must not change what a drill tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from evals.upstream.process import child_environment, stop_process, wait_for_http


class ServiceStartError(RuntimeError):
    """``beacon serve`` exited or did not become ready; carries the tail of its output."""


@dataclass(frozen=True, slots=True)
class BeaconProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_records(self) -> list[dict[str, Any]]:
        """Every JSON line the service has written so far (non-JSON lines are skipped)."""
        records = []
        for line in self.log_path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


def service_environment(settings: Mapping[str, str]) -> dict[str, str]:
    inherited = {k: v for k, v in child_environment().items() if not k.startswith("BEACON_")}
    return {**inherited, **settings}


@contextmanager
def start_beacon(
    settings: Mapping[str, str], *, port: int, log_path: Path
) -> Iterator[BeaconProcess]:
    """Start ``beacon serve`` with ``settings`` (``BEACON_*`` variables) until the block exits."""
    command = [sys.executable, "-m", "evals.harness.serve", "--faults", "--port", str(port)]
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=service_environment({**settings, "BEACON_HOST": "127.0.0.1"}),
        )
    beacon = BeaconProcess(process=process, port=port, log_path=log_path)
    try:
        yield beacon
    finally:
        stop_process(process)


def wait_until_ready(beacon: BeaconProcess, *, timeout_s: float = 60.0) -> None:
    problem = wait_for_http(f"{beacon.url}/readyz", beacon.process, timeout_s=timeout_s)
    if problem is not None:
        raise ServiceStartError(f"beacon serve {problem}:\n{_tail(beacon.log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return os.linesep.join(path.read_text("utf-8", "replace").splitlines()[-lines:])
