"""The shape of a drill (a parametrised failure script) and of what running it observed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from evals.drills.client import AskResult, AskSpec
from evals.drills.prometheus import MetricSnapshot, delta
from evals.upstream.config import SimulatorConfig

DEFAULT_SIMULATOR = SimulatorConfig(ttft_ms=20, tokens_per_second=200)
Check = Callable[["DrillRun"], Iterable[str]]
"""Looks at a run and yields one message per expectation it finds broken."""


class Stage(Protocol):
    """What a drill sets up around the service before it starts, and how it then drives it:
    ``state_drills`` put a Redis behind a proxy and cut or slow it between phases of the burst.
    """

    @property
    def settings(self) -> Mapping[str, str]:
        """``BEACON_*`` variables pointing the service at what the stage set up."""
        ...

    @property
    def observed(self) -> Mapping[str, Any]:
        """What the stage saw while it drove the burst (kept in ``DrillRun.observed``)."""
        ...

    async def send(self, url: str) -> list[AskResult]:
        """Send the drill's requests to the service at ``url``, breaking things in between."""
        ...


StageFactory = Callable[[], AbstractContextManager[Stage]]


@dataclass(frozen=True, eq=False)
class Drill:
    name: str
    summary: str
    requests: Sequence[AskSpec]
    checks: Sequence[Check]
    settings: Mapping[str, str] = field(default_factory=dict)
    """``BEACON_*`` variables on top of the drill defaults."""
    simulator: SimulatorConfig = field(default_factory=lambda: DEFAULT_SIMULATOR)
    concurrency: int = 8
    p95_max_ms: float = 3000.0
    health_question: str = "How do I request a refund?"
    health_headers: Mapping[str, str] = field(default_factory=dict)
    exclusive: bool = False
    """Run alone, with no other drill competing for the CPU (large bursts)."""
    stage: StageFactory | None = None
    """Set up before the service starts; sends the burst instead of ``requests`` at
    ``concurrency``."""


@dataclass
class DrillRun:
    """Everything a drill observed, frozen before the health check runs."""

    drill: Drill
    results: list[AskResult]
    before: MetricSnapshot
    after: MetricSnapshot
    simulator: dict[str, Any]
    logs: list[dict[str, Any]]
    settle_ms: float
    """From the end of the burst until no request, queue place or upstream stream was open."""
    disconnect_close_ms: float | None = None
    """From the last client disconnect until the simulator had no stream open."""
    health: AskResult | None = None
    """The fresh request sent once the burst settled (its log line is not in ``logs``)."""
    observed: Mapping[str, Any] = field(default_factory=dict)
    """What the drill's stage saw while it drove the burst (nothing for a plain burst)."""

    def delta(self, name: str, **labels: str) -> float:
        return delta(self.before, self.after, name, **labels)

    def lines(self, event: str = "ask_completed") -> list[dict[str, Any]]:
        return [record for record in self.logs if record.get("event") == event]

    @property
    def accepted(self) -> list[AskResult]:
        return [result for result in self.results if result.accepted]

    def p95_ms(self) -> float:
        return percentile([result.latency_ms for result in self.accepted], 95)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]
