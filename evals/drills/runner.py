"""Run drills: real processes, one burst each, then checks, reconciliation and a health check.

Per drill: start the upstream simulator and ``beacon serve`` (fresh processes, so no state leaks
between drills), send the burst, wait until nothing is open any more, freeze what was observed
(metrics, simulator counters, log lines), send one fresh request as a health check, then judge.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from evals.drills.client import AskResult, AskSpec, send_burst
from evals.drills.drill import Drill, DrillRun, Stage
from evals.drills.prometheus import scrape
from evals.drills.reconcile import Reconciliation, reconcile
from evals.drills.service_process import (
    BeaconProcess,
    ServiceStartError,
    start_beacon,
    wait_until_ready,
)
from evals.upstream.process import (
    SimulatorProcess,
    SimulatorStartError,
    pick_free_port,
    start_simulator,
)
from rag.index import build_index
from rag.knowledge import load_knowledge_base
from service.settings import DEFAULT_KB_DIR
from service.tools.orders_db import ORDERS_DB_NAME, build_orders_db

SETTLE_TIMEOUT_S = 15.0
POLL_S = 0.01


def drill_settings(*, simulator_url: str, index_dir: Path, state_dir: Path) -> dict[str, str]:
    """The service under drill: the simulator as its model, short deadlines (faults are
    honoured because ``start_beacon`` serves through ``evals.harness.serve --faults``), its
    conversations and feedback in ``state_dir`` (its own, not the checkout's ``var/``)."""
    tier = {"FIRST_TOKEN_S": "0.5", "CHUNK_S": "0.5", "TOTAL_S": "2"}
    return {
        "BEACON_PROVIDER": "openai",
        "BEACON_LLM__BASE_URL": f"{simulator_url}/v1",
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir),
        "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
        "BEACON_RESILIENCE__RETRIEVAL_TIMEOUT_S": "0.3",
        "BEACON_TOOLS__TIMEOUT_S": "0.2",
        "BEACON_OBSERVABILITY__LOG_FORMAT": "json",
        "BEACON_OBSERVABILITY__LOG_LEVEL": "info",
        "BEACON_CONVERSATIONS__PATH": str(state_dir / "conversations.sqlite"),
        "BEACON_FEEDBACK__DB_PATH": str(state_dir / "feedback.sqlite"),
        **{f"BEACON_RESILIENCE__{t}__{k}": v for t in ("EASY", "HARD") for k, v in tier.items()},
    }


@dataclass
class DrillResult:
    drill: Drill
    run: DrillRun | None
    reconciliation: Reconciliation | None
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


def prepare_index(work_dir: Path) -> Path:
    """Build the demo index and order database once for every drill of a run."""
    index_dir = work_dir / "index"
    build_index(load_knowledge_base(DEFAULT_KB_DIR), index_dir=index_dir, embeddings_name="hashing")
    build_orders_db(index_dir / ORDERS_DB_NAME)
    return index_dir


def run_drills(
    drills: Sequence[Drill],
    *,
    work_dir: Path,
    jobs: int,
    progress: Callable[[DrillResult], None] = lambda _: None,
) -> list[DrillResult]:
    """Run ``drills``, ``jobs`` at a time; an ``exclusive`` drill runs alone, after the rest."""
    index_dir = prepare_index(work_dir)
    ports = PortBook()

    def run(drill: Drill) -> DrillResult:
        result = run_drill(drill, work_dir=work_dir, index_dir=index_dir, ports=ports)
        progress(result)
        return result

    shared = [drill for drill in drills if not drill.exclusive]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(zip(shared, pool.map(run, shared), strict=True))
    results.update({drill: run(drill) for drill in drills if drill.exclusive})
    return [results[drill] for drill in drills]


def run_drill(
    drill: Drill, *, work_dir: Path, index_dir: Path, ports: PortBook | None = None
) -> DrillResult:
    started = time.monotonic()
    ports = ports or PortBook()
    try:
        try:
            run = observe(drill, work_dir=work_dir, index_dir=index_dir, ports=ports)
        except PROCESS_ERRORS:  # once more on fresh ports: one may have been taken meanwhile
            run = observe(drill, work_dir=work_dir, index_dir=index_dir, ports=ports)
    except Exception as error:  # a drill that cannot run is a failed drill, not a crash
        failure = f"drill did not run: {type(error).__name__}: {error}"
        return DrillResult(drill, None, None, [failure], time.monotonic() - started)
    reconciliation = reconcile(run)
    failures = judge(run, reconciliation)
    return DrillResult(drill, run, reconciliation, failures, time.monotonic() - started)


def judge(run: DrillRun, reconciliation: Reconciliation) -> list[str]:
    drill = run.drill
    failures = [message for check in drill.checks for message in check(run)]
    failures += [f"reconciliation: {k} = {v}" for k, v in reconciliation.differences.items() if v]
    if run.p95_ms() > drill.p95_max_ms:
        failures.append(f"p95 {run.p95_ms():.0f} ms > bound {drill.p95_max_ms:.0f} ms")
    failures += health_failures(run.health, drill)
    return failures


def observe(drill: Drill, *, work_dir: Path, index_dir: Path, ports: PortBook) -> DrillRun:
    simulator_port, port = ports.take(), ports.take()
    settings = drill_settings(
        simulator_url=f"http://127.0.0.1:{simulator_port}",
        index_dir=index_dir,
        state_dir=work_dir / drill.name,
    )
    log_path = work_dir / f"{drill.name}.log"
    with ExitStack() as processes:  # closed in reverse: the service stops before its stage
        stage = processes.enter_context(drill.stage()) if drill.stage is not None else None
        settings.update({**drill.settings, **(stage.settings if stage is not None else {})})
        beacon = processes.enter_context(start_beacon(settings, port=port, log_path=log_path))
        # The service imports for a few seconds: the simulator starts meanwhile.
        simulator = processes.enter_context(
            start_simulator(config=drill.simulator, port=simulator_port)
        )
        wait_until_ready(beacon)
        run = burst_and_measure(drill, beacon, simulator, stage)
        # A process that could not bind its port exits; whoever answered was not ours.
        if beacon.process.poll() is not None or simulator.process.poll() is not None:
            raise ProcessLost(f"a process of drill {drill.name} exited: its port was taken")
        return run


class ProcessLost(RuntimeError):
    """The drill's service or simulator died during the drill."""


PROCESS_ERRORS = (ServiceStartError, SimulatorStartError, ProcessLost)


class PortBook:
    """Free ports, never the same one twice in a run: drills side by side pick theirs at once,
    and a port is only bound seconds later, once the service has imported."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken: set[int] = set()

    def take(self) -> int:
        with self._lock:
            port = pick_free_port("127.0.0.1")
            while port in self._taken:
                port = pick_free_port("127.0.0.1")
            self._taken.add(port)
            return port


def burst_and_measure(
    drill: Drill, beacon: BeaconProcess, simulator: SimulatorProcess, stage: Stage | None = None
) -> DrillRun:
    before = scrape(beacon.url)
    simulator.reset_stats()
    if stage is None:
        burst = send_burst(beacon.url, drill.requests, concurrency=drill.concurrency)
    else:
        burst = stage.send(beacon.url)
    results = asyncio.run(burst)
    burst_end = time.monotonic()
    closed_at = wait_until(lambda: simulator.stats()["streams_open"] == 0)
    settled_at = wait_until(lambda: _service_idle(beacon.url))
    run = DrillRun(
        drill=drill,
        results=results,
        before=before,
        after=scrape(beacon.url),
        simulator=simulator.stats(),
        logs=beacon.log_records(),
        settle_ms=round((max(closed_at, settled_at) - burst_end) * 1000, 3),
        disconnect_close_ms=_disconnect_close_ms(results, closed_at),
        observed=dict(stage.observed) if stage is not None else {},
    )
    run.health = health_check(beacon.url, drill)
    return run


def health_check(url: str, drill: Drill) -> AskResult | None:
    if httpx.get(f"{url}/readyz", timeout=5.0).status_code != 200:
        return None
    spec = AskSpec(drill.health_question, headers=dict(drill.health_headers), kind="health")
    return asyncio.run(send_burst(url, [spec], concurrency=1))[0]


def health_failures(health: AskResult | None, drill: Drill) -> list[str]:
    if health is None:
        return ["health: /readyz is not 200 after the drill"]
    name = health.terminal[0] if health.terminal else f"status {health.status}"
    if name != "done" or not health.text.strip():
        return [f"health: a fresh {drill.health_question!r} ended with {name}, expected an answer"]
    return []


def wait_until(condition: Callable[[], bool], timeout_s: float = SETTLE_TIMEOUT_S) -> float:
    """Poll ``condition``; return when it first held (or the deadline, if it never did)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(POLL_S)
    return time.monotonic()


def _service_idle(url: str) -> bool:
    metrics = scrape(url)
    return (
        metrics.value("beacon_in_flight_requests") == 0 and metrics.value("beacon_queue_depth") == 0
    )


def _disconnect_close_ms(results: list[AskResult], closed_at: float) -> float | None:
    left = [r.disconnected_at for r in results if r.disconnected_at is not None]
    return round((closed_at - max(left)) * 1000, 3) if left else None


def summary(result: DrillResult) -> Mapping[str, Any]:
    run = result.run
    return {
        "drill": result.drill.name,
        "requests": len(run.results) if run else len(result.drill.requests),
        "terminal_events": result.reconciliation.terminal_events if result.reconciliation else 0,
        "fallbacks": round(run.delta("beacon_fallbacks_total")) if run else 0,
        "p95_ms": round(run.p95_ms(), 1) if run else None,
        "verdict": "pass" if result.passed else "FAIL",
    }
