"""The report document: one JSON-ready dict that every other report format is rendered from.

Top-level keys: ``suite``, ``run`` (target, repeats, concurrency, times, settings), ``metrics``,
``routes`` (route mix with tokens, cost and latency per 1,000 requests of each route; read by
``beacon cost project --from-eval``), ``cost`` (the daily projection), ``breakdown`` (by language
and tag), ``scores`` (top scores of hits, misses and should-refuse questions), ``gate`` (null
without a baseline), ``faithfulness`` (checked and unchecked answers, the least faithful ones with
their unsupported claims and trace_ids), ``worst_cases`` and ``cases`` (every attempt, with its
trace_id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evals.harness.grading import CaseResult

WORST_CASES = 25


def case_status(result: CaseResult, regressed: frozenset[str] = frozenset()) -> str:
    """``regressed``, ``failed``, ``flaky`` or ``passed``."""
    if result.case.id in regressed:
        return "regressed"
    if result.failed:
        return "failed"
    return "flaky" if result.flaky else "passed"


def case_record(result: CaseResult, status: str) -> dict[str, Any]:
    """One case with its expectations, verdict and every attempt."""
    case = result.case
    return {
        "id": case.id,
        "question": case.question,
        "lang": case.lang,
        "tags": list(case.tags),
        "expect_faq": list(case.expect_faq),
        "expect_route": case.expect_route,
        "status": status,
        "passes": result.passes,
        "attempts": len(result.attempts),
        "failed_checks": result.failed_checks(),
        "trace_ids": [seen.trace_id for seen in result.attempts],
        "results": [
            {**seen.to_json(), "checks": checks}
            for seen, checks in zip(result.attempts, result.checks, strict=True)
        ],
    }


def _badness(record: Mapping[str, Any]) -> tuple[int, float]:
    """Sort key: regressions first, then consistent failures, then flaky; confident ones first."""
    rank = {"regressed": 0, "failed": 1, "flaky": 2}.get(record["status"], 3)
    first = record["results"][0] if record["results"] else {}
    retrieved = first.get("retrieved") or first.get("citations") or [[None, 0.0]]
    return rank, -float(retrieved[0][1])


def worst_cases(records: Sequence[Mapping[str, Any]], limit: int = WORST_CASES) -> list[Any]:
    """The failing cases most worth a look, with what was expected and what came back."""
    failing = sorted((r for r in records if r["status"] != "passed"), key=_badness)
    worst = []
    for record in failing[:limit]:
        first = record["results"][0]
        worst.append(
            {
                "id": record["id"],
                "status": record["status"],
                "question": record["question"],
                "expected": record["expect_faq"] or [record["expect_route"]],
                "expect_route": record["expect_route"],
                "route": first["route"],
                "got": [entry for entry, _ in (first["retrieved"] or first["citations"])[:3]],
                "top_score": _top_score(first),
                "failed_checks": record["failed_checks"],
                "error": first["error"],
                "trace_id": first["trace_id"],
            }
        )
    return worst


def _top_score(attempt: Mapping[str, Any]) -> float | None:
    ranked = attempt["retrieved"] or attempt["citations"]
    return float(ranked[0][1]) if ranked else None


def build_report(
    *,
    suite: Mapping[str, Any],
    run: Mapping[str, Any],
    results: Sequence[CaseResult],
    metrics: Mapping[str, Any],
    routes: Mapping[str, Any],
    cost: Mapping[str, Any],
    breakdown: Mapping[str, Any],
    scores: Mapping[str, Any],
    gate: Mapping[str, Any] | None,
    faithfulness: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the report document."""
    regressed = frozenset(gate["regressed_cases"]) if gate else frozenset()
    records = [case_record(result, case_status(result, regressed)) for result in results]
    return {
        "suite": dict(suite),
        "run": dict(run),
        "metrics": dict(metrics),
        "routes": dict(routes),
        "cost": dict(cost),
        "breakdown": dict(breakdown),
        "scores": dict(scores),
        "gate": dict(gate) if gate else None,
        "faithfulness": dict(faithfulness or {}),
        "worst_cases": worst_cases(records),
        "cases": records,
    }
