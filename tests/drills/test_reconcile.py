"""The reconciliation notices anything lost or doubled, and the drill checks read runs right."""

from __future__ import annotations

from typing import Any

from evals.drills import checks as c
from evals.drills.client import AskResult, AskSpec
from evals.drills.drill import Drill, DrillRun, percentile
from evals.drills.prometheus import MetricSnapshot
from evals.drills.reconcile import reconcile
from evals.drills.runner import judge

SPEC = AskSpec("How do I request a refund?")
DONE: tuple[str, dict[str, Any]] = ("done", {"finish_reason": "stop", "fallbacks": []})


def answered(trace_id: str, *events: tuple[str, dict[str, Any]]) -> AskResult:
    result = AskResult(spec=SPEC, status=200, trace_id=trace_id)
    result.events = [("token", {"text": "Hi"}), *events]
    return result


def metrics(requests: float, in_flight: float = 0) -> MetricSnapshot:
    return MetricSnapshot(
        {
            ("beacon_requests_total", frozenset({("route", "easy"), ("outcome", "ok")})): requests,
            ("beacon_in_flight_requests", frozenset()): in_flight,
        }
    )


def run(
    results: list[AskResult], lines: list[str], *, requests: float, in_flight: float = 0
) -> DrillRun:
    return DrillRun(
        drill=Drill("t", "test", [SPEC] * len(results), []),
        results=results,
        before=metrics(0),
        after=metrics(requests, in_flight),
        simulator={"streams_open": 0},
        logs=[
            {"event": "ask_completed", "trace_id": trace_id, "outcome": "ok"} for trace_id in lines
        ],
        settle_ms=0.0,
    )


def test_a_clean_run_reconciles_exactly() -> None:
    """One line, one metric increment and one terminal per accepted request: zero difference."""
    clean = run([answered("a", DONE), answered("b", DONE)], ["a", "b"], requests=2)
    assert reconcile(clean).exact


def test_a_missing_log_line_is_a_difference() -> None:
    """A request without its ask_completed line breaks the reconciliation."""
    lost = reconcile(run([answered("a", DONE), answered("b", DONE)], ["a"], requests=2))
    assert not lost.exact
    assert lost.differences["accepted - ask_completed"] == 1
    assert lost.differences["unmatched trace ids"] == 1


def test_a_doubled_terminal_event_is_a_difference() -> None:
    """A stream with two terminal events (or events after one) is flagged."""
    doubled = answered("a", DONE, ("error", {"code": "internal_error"}))
    assert reconcile(run([doubled], ["a"], requests=1)).differences["extra terminal events"] == 1


def test_a_client_that_left_is_counted_instead_of_a_terminal_event() -> None:
    """A disconnecting client has no terminal event but is still accounted exactly once."""
    left = answered("a")
    left.disconnected = True
    assert reconcile(run([left], ["a"], requests=1)).exact


def test_a_request_still_in_flight_is_a_difference() -> None:
    """in_flight must be back to 0 once the burst has settled."""
    assert not reconcile(run([answered("a", DONE)], ["a"], requests=1, in_flight=1)).exact


def test_answer_checks_report_the_first_mismatch() -> None:
    """A check names the trace id and the field that differs."""
    fallback = answered("a", ("done", {"finish_reason": "stop", "fallbacks": ["hard->easy"]}))
    problems = list(c.answers(fallbacks=[])(run([fallback], ["a"], requests=1)))
    assert problems == ["a: fallbacks=['hard->easy'], expected []"]


def test_percentile_is_nearest_rank() -> None:
    """p95 of 1..100 is 95; of nothing is 0."""
    assert percentile([float(v) for v in range(1, 101)], 95) == 95
    assert percentile([], 95) == 0


def test_a_drill_fails_on_a_broken_check_a_difference_or_a_slow_p95() -> None:
    """judge() collects every failure: checks, reconciliation, latency bound, health."""
    slow = answered("a", DONE)
    slow.latency_ms = 5000
    observed = run([slow], [], requests=1)
    observed.drill = Drill("t", "test", [SPEC], [c.accepted(2)], p95_max_ms=1000)
    failures = judge(observed, reconcile(observed))
    assert "1 requests accepted, expected 2" in failures
    assert "reconciliation: accepted - ask_completed = 1" in failures
    assert "p95 5000 ms > bound 1000 ms" in failures
    assert "health: /readyz is not 200 after the drill" in failures
