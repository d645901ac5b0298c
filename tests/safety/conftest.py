"""Fixtures for the safety tests: the upstream simulator, Beacon on it, and its three sinks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import SecretStr

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.settings import (
    CacheSettings,
    GroundingSettings,
    LLMSettings,
    ObservabilitySettings,
    RouterSettings,
)
from tests.conftest import AppHandle

CANARY = "BCN-canary-0d9e4f7a"


@pytest.fixture(scope="package")
def simulator() -> Iterator[SimulatorProcess]:
    """A fast upstream model; `+compliant` model names make it echo its system prompt."""
    with start_simulator(config=SimulatorConfig(ttft_ms=2, tokens_per_second=2000)) as process:
        yield process


def model_settings(base_url: str, *, compliant: bool = False, **overrides: Any) -> dict[str, Any]:
    """Beacon calling the model for every answer, writing question and answer to its log line."""
    suffix = "+compliant" if compliant else ""
    settings: dict[str, Any] = {
        "provider": "openai",
        "llm": LLMSettings(
            base_url=base_url, easy_model=f"beacon-easy{suffix}", hard_model=f"beacon-hard{suffix}"
        ),
        "router": RouterSettings(faq_direct=False),
        "observability": ObservabilitySettings(log_text=True),
        "cache": CacheSettings(enabled=False),
        "canary": SecretStr(CANARY),
        # The planted answers are no evidence's: grounding reports them (its claims pass the
        # same sinks, redacted) but leaves the redactor's output as it is.
        "grounding": GroundingSettings(action="observe"),
    }
    return {**settings, **overrides}


def spans_text(spans: Sequence[ReadableSpan]) -> str:
    """Everything a span exporter receives as text: names, attributes, events, links, status."""
    parts: list[object] = []
    for span in spans:
        parts += [span.name, dict(span.attributes or {}), span.status.description]
        parts += [dict(span.resource.attributes)]
        parts += [(event.name, dict(event.attributes or {})) for event in span.events]
        parts += [dict(link.attributes or {}) for link in span.links]
    return repr(parts)


@dataclass(frozen=True)
class Sinks:
    """What left Beacon: the raw SSE bodies, its stdout (log lines) and the exported spans."""

    stream: str
    logs: str
    spans: str

    def holding(self, raw: str) -> list[str]:
        """The sinks that contain ``raw`` (any letter case)."""
        needle = raw.lower()
        named = {"stream": self.stream, "logs": self.logs, "spans": self.spans}
        return [name for name, text in named.items() if needle in text.lower()]


def read_sinks(
    beacon: AppHandle, capfd: pytest.CaptureFixture[str], bodies: Sequence[str], *, requests: int
) -> Sinks:
    """The three sinks once all ``requests`` server spans have ended."""
    spans = wait_for_spans(beacon, requests)
    return Sinks(stream="".join(bodies), logs=capfd.readouterr().out, spans=spans_text(spans))


def wait_for_spans(
    beacon: AppHandle, requests: int, *, timeout_s: float = 10.0
) -> tuple[ReadableSpan, ...]:
    """The finished spans once ``requests`` server spans have ended (just after the last byte)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        spans = beacon.spans.get_finished_spans()
        if sum(span.name == "POST /ask" for span in spans) >= requests:
            return spans
        time.sleep(0.01)
    raise AssertionError(f"{requests} server spans did not end within {timeout_s}s")


BeaconFactory = Callable[..., AppHandle]
