"""Fixtures for the resilience tests: a real upstream simulator and Beacon wired to it with short
deadlines, fault points honoured, and the service's log lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from evals.drills.faults import drill_harness
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.settings import (
    HardTierDeadlines,
    LLMSettings,
    ResilienceSettings,
    TierDeadlines,
    ToolSettings,
)
from tests.conftest import AppHandle
from tests.sse_client import ReceivedEvent, parse_sse

FAST = SimulatorConfig(ttft_ms=5, tokens_per_second=1000)


@pytest.fixture(scope="package")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=FAST) as process:
        yield process


def short_deadlines(**overrides: Any) -> ResilienceSettings:
    tier = {"first_token_s": 0.3, "chunk_s": 0.3, "total_s": 1.5}
    values: dict[str, Any] = {
        "easy": TierDeadlines(**tier),
        "hard": HardTierDeadlines(**tier),
        "retrieval_timeout_s": 0.2,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    }
    return ResilienceSettings(**{**values, **overrides})


@pytest.fixture
def resilient(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> Callable[..., AppHandle]:
    """Beacon on the simulator: ``resilient(hard_model="beacon-hard+no_first_token", ...)``."""

    def make(
        *,
        easy_model: str = "beacon-easy",
        hard_model: str = "beacon-hard",
        base_url: str | None = None,
        **overrides: Any,
    ) -> AppHandle:
        llm = LLMSettings(
            base_url=base_url or simulator.openai_base_url,
            easy_model=easy_model,
            hard_model=hard_model,
            connect_timeout_s=0.5,
        )
        overrides.setdefault("resilience", short_deadlines())
        overrides.setdefault("tools", ToolSettings(timeout_s=0.1))
        return beacon_factory(provider="openai", llm=llm, harness=drill_harness(), **overrides)

    return make


class LogLines:
    """The JSON lines the service wrote to stdout since the test started."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self.capfd = capfd
        self.seen: list[dict[str, Any]] = []

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self.capfd.readouterr().out
        self.seen += [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]
        return [line for line in self.seen if line.get("event") == name]


@pytest.fixture
def log_lines(capfd: pytest.CaptureFixture[str]) -> LogLines:
    return LogLines(capfd)


def ask_faulted(url: str, question: str, fault: str) -> list[ReceivedEvent]:
    """Ask with ``x-beacon-fault: <fault>`` and return the parsed events."""
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post(
            "/ask", json={"question": question}, headers={"x-beacon-fault": fault}
        )
    return parse_sse(response.text)
