"""Shared wording for the human-readable reports: metric labels, number format, verdict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METRIC_LABELS: dict[str, str] = {
    "top1_hit_rate": "top-1 FAQ hit rate",
    "top3_hit_rate": "top-3 FAQ hit rate",
    "refusal_precision": "refusal precision",
    "refusal_recall": "refusal recall",
    "answer_precision": "answer precision",
    "route_accuracy": "route accuracy",
    "citation_correctness": "citation correctness",
    "must_include_pass_rate": "must-include pass rate",
    "must_not_include_pass_rate": "must-not-include pass rate",
    "error_rate": "error rate",
    "pass_rate": "cases passing",
    "consistency": "consistency over repeats",
    "faithfulness": "faithfulness (answers fully supported)",
    "unsupported_claims_per_1k_answers": "unsupported claims per 1k answers",
    "ttft_p50_ms": "TTFT p50 (ms)",
    "ttft_p95_ms": "TTFT p95 (ms)",
    "latency_p50_ms": "latency p50 (ms)",
    "latency_p95_ms": "latency p95 (ms)",
    "cost_usd_per_1k_requests": "cost per 1k requests (USD)",
}


def fmt(value: object, metric: str = "") -> str:
    """Rates (metrics not in ms or USD) as percentages, other numbers compactly, None as a dash."""
    if value is None:
        return "–"
    is_rate = metric and not metric.endswith(("_ms", "requests", "answers"))
    if isinstance(value, int | float) and is_rate:
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.4g}"
    return str(value)


def verdict(report: Mapping[str, Any]) -> str:
    """PASS, REGRESSED or NO BASELINE."""
    gate = report["gate"]
    if gate is None:
        return "NO BASELINE"
    return "PASS" if gate["passed"] else "REGRESSED"


def metric_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per metric: value, baseline value, limit and a status word."""
    gate = report["gate"] or {}
    regressed = {item["name"]: item for item in gate.get("regressed_metrics", [])}
    baseline = gate.get("baseline_metrics", {})
    limits = gate.get("limits", {})
    rows = []
    for name, label in METRIC_LABELS.items():
        value = report["metrics"].get(name)
        if value is None and baseline.get(name) is None:
            continue
        status = "REGRESSED" if name in regressed else ("ok" if name in limits else "")
        rows.append(
            {
                "name": name,
                "label": label,
                "value": value,
                "baseline": baseline.get(name),
                "limit": limits.get(name),
                "status": status,
            }
        )
    return rows
