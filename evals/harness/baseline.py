"""The baseline gate: compare a run with the suite's committed baseline, metric by metric and case
by case, and say whether it regressed.

A metric regresses when it is worse than the baseline by more than its tolerance:
``abs`` (in the metric's unit) or ``rel`` (a fraction of the baseline), whichever allows more.
A case regresses when it passed in the baseline and failed in *every* repeat of this run; a case
that failed in some repeats only is flaky, listed but not counted. Latency tolerances are wide on
purpose: a shared CI machine is noisy, and the gate is for slowdowns, not jitter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.harness.grading import CaseResult

BASELINES_DIR = Path(__file__).resolve().parent.parent / "baselines"


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the baseline a metric may get; ``higher`` says which way is better."""

    higher: bool = True
    abs: float = 0.0
    rel: float = 0.0

    def limit(self, baseline: float) -> float:
        """The worst value that still passes."""
        slack = max(self.abs, self.rel * abs(baseline))
        return baseline - slack if self.higher else baseline + slack


_RATE = Tolerance(higher=True, abs=0.01)
_LATENCY = Tolerance(higher=False, abs=250.0, rel=1.0)
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "top1_hit_rate": _RATE,
    "top3_hit_rate": _RATE,
    "refusal_precision": Tolerance(abs=0.02),
    "refusal_recall": Tolerance(abs=0.02),
    "answer_precision": _RATE,
    "answered_wrong_rate": Tolerance(higher=False, abs=0.01),
    "follow_up_resolution": _RATE,
    "route_accuracy": Tolerance(abs=0.02),
    "citation_correctness": Tolerance(abs=0.0),
    "must_include_pass_rate": Tolerance(abs=0.0),
    "must_not_include_pass_rate": Tolerance(abs=0.0),
    "error_rate": Tolerance(higher=False, abs=0.005),
    "pass_rate": _RATE,
    "consistency": Tolerance(abs=0.02),
    "faithfulness": _RATE,
    "unsupported_claims_per_1k_answers": Tolerance(higher=False, abs=5.0, rel=0.1),
    "ttft_p95_ms": _LATENCY,
    "latency_p95_ms": _LATENCY,
    "cost_usd_per_1k_requests": Tolerance(higher=False, abs=0.0001, rel=0.1),
}


@dataclass(frozen=True)
class Baseline:
    """A committed reference run: its metrics, the cases that passed, and the tolerances."""

    suite: str
    metrics: Mapping[str, float | None]
    passing_cases: frozenset[str]
    tolerances: Mapping[str, Tolerance] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    max_regressed_cases: int = 0
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricRegression:
    name: str
    baseline: float
    current: float | None
    limit: float


@dataclass(frozen=True)
class GateResult:
    """What the gate found; ``passed`` is False when a metric or too many cases regressed."""

    baseline_path: str
    passed: bool
    regressed_metrics: tuple[MetricRegression, ...] = ()
    regressed_cases: tuple[str, ...] = ()
    flaky_cases: tuple[str, ...] = ()
    fixed_cases: tuple[str, ...] = ()
    baseline_metrics: Mapping[str, float | None] = field(default_factory=dict)
    limits: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline_path,
            "passed": self.passed,
            "regressed_metrics": [vars(item) for item in self.regressed_metrics],
            "regressed_cases": list(self.regressed_cases),
            "flaky_cases": list(self.flaky_cases),
            "fixed_cases": list(self.fixed_cases),
            "baseline_metrics": dict(self.baseline_metrics),
            "limits": dict(self.limits),
        }


def default_path(suite: str, embeddings: str = "hashing") -> Path:
    """Where the committed baseline of ``suite`` lives (one per embeddings backend)."""
    suffix = "" if embeddings == "hashing" else f".{embeddings}"
    return BASELINES_DIR / f"{suite}{suffix}.json"


def without_metrics(baseline: Baseline) -> Baseline:
    """The same baseline gating cases only (for sampled runs, whose figures differ)."""
    return replace(baseline, metrics={})


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; missing tolerances fall back to the defaults."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    tolerances = dict(DEFAULT_TOLERANCES)
    for name, spec in raw.get("tolerances", {}).items():
        tolerances[name] = Tolerance(**spec)
    return Baseline(
        suite=raw["suite"],
        metrics=raw["metrics"],
        passing_cases=frozenset(raw["passing_cases"]),
        tolerances=tolerances,
        max_regressed_cases=int(raw.get("max_regressed_cases", 0)),
        info=raw.get("info", {}),
    )


def write_baseline(
    path: Path,
    *,
    suite: str,
    metrics: Mapping[str, float | None],
    results: Sequence[CaseResult],
    info: Mapping[str, Any],
    previous: Baseline | None = None,
) -> None:
    """Write this run as the new baseline, keeping the previous file's tolerances."""
    tolerances = previous.tolerances if previous else DEFAULT_TOLERANCES
    document = {
        "suite": suite,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "info": dict(info),
        "metrics": {name: metrics.get(name) for name in DEFAULT_TOLERANCES},
        "tolerances": {name: vars(tolerance) for name, tolerance in tolerances.items()},
        "max_regressed_cases": previous.max_regressed_cases if previous else 0,
        "passing_cases": sorted(result.case.id for result in results if result.passed),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def compare(
    baseline: Baseline,
    metrics: Mapping[str, float | None],
    results: Sequence[CaseResult],
    *,
    baseline_path: str,
) -> GateResult:
    """Gate this run's ``metrics`` and ``results`` against ``baseline``."""
    regressed_metrics = tuple(_regressed_metrics(baseline, metrics))
    ran = {result.case.id: result for result in results}
    regressed = tuple(
        case_id
        for case_id, result in ran.items()
        if case_id in baseline.passing_cases and result.failed
    )
    flaky = tuple(case_id for case_id, result in ran.items() if result.flaky)
    fixed = tuple(
        case_id
        for case_id, result in ran.items()
        if case_id not in baseline.passing_cases and result.passed
    )
    passed = not regressed_metrics and len(regressed) <= baseline.max_regressed_cases
    return GateResult(
        baseline_path=baseline_path,
        passed=passed,
        regressed_metrics=regressed_metrics,
        regressed_cases=regressed,
        flaky_cases=flaky,
        fixed_cases=fixed,
        baseline_metrics=baseline.metrics,
        limits={
            name: round(tolerance.limit(reference), 6)
            for name, tolerance in baseline.tolerances.items()
            if (reference := baseline.metrics.get(name)) is not None
        },
    )


def _regressed_metrics(
    baseline: Baseline, metrics: Mapping[str, float | None]
) -> list[MetricRegression]:
    found = []
    for name, tolerance in baseline.tolerances.items():
        reference = baseline.metrics.get(name)
        if reference is None:
            continue
        current = metrics.get(name)
        limit = tolerance.limit(reference)
        worse = current is None or (current < limit if tolerance.higher else current > limit)
        if worse:
            found.append(MetricRegression(name, reference, current, round(limit, 6)))
    return found
