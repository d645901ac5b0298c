"""Small builders for graded results, so gate and metric tests read as tables."""

from __future__ import annotations

from typing import Any

from evals.harness.cases import Case
from evals.harness.client import Observation
from evals.harness.grading import CaseResult


def observe(route: str = "faq", top: str = "refund-request", **fields: Any) -> Observation:
    """An answer that retrieved ``top`` first (then two others) and cited it."""
    retrieved = ((top, 0.9), ("order-cancel", 0.3), ("order-track", 0.2))
    values: dict[str, Any] = {
        "trace_id": f"trace-{top}-{route}",
        "route": route,
        "retrieved": retrieved,
        "citations": () if route == "out_of_scope" else retrieved[:1],
        "answer": "Open the order and choose Request refund within 30 days.",
        "finish_reason": "stop",
        "latency_ms": 10.0,
        "ttft_ms": 5.0,
    }
    values.update(fields)
    return Observation(**values)


def result(case: Case, *attempts: Observation) -> CaseResult:
    """A case graded on ``attempts``."""
    graded = CaseResult(case)
    for seen in attempts:
        graded.add(seen)
    return graded


REFUND = Case(id="refund", question="money back?", expect_faq=("refund-request",))
WEATHER = Case(id="weather", question="weather?", expect_route="out_of_scope")
