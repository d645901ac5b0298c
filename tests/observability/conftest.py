"""Fixtures for the observability tests: the service's stdout as parsed JSON log lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from tests.conftest import AppHandle

SERVER_SPAN = "POST /ask"


class LogLines:
    """Reads the JSON lines the service wrote to stdout since the test started (or last read)."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd = capfd
        self.seen: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        out = self.capfd.readouterr().out
        self.seen += [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]
        return self.seen

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.read() if line.get("event") == name]


def finished_spans(beacon: AppHandle, *, timeout_s: float = 10.0) -> tuple[ReadableSpan, ...]:
    """The spans once the server span has ended: it ends just after the client's last byte."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        spans = beacon.spans.get_finished_spans()
        if any(span.name == SERVER_SPAN for span in spans):
            return spans
        time.sleep(0.01)
    raise AssertionError(f"the {SERVER_SPAN} span did not end within {timeout_s}s")


@pytest.fixture
def log_lines(capfd: pytest.CaptureFixture[str]) -> LogLines:
    return LogLines(capfd)


@pytest.fixture(scope="package")
def simulator() -> Iterator[SimulatorProcess]:
    """A fast upstream model for the paths that call one."""
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=2000)) as process:
        yield process
