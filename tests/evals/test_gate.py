"""The baseline gate: metric tolerances, consistent versus flaky case failures, round trips."""

from __future__ import annotations

from pathlib import Path

from evals.harness.baseline import (
    Baseline,
    Tolerance,
    compare,
    load_baseline,
    write_baseline,
)
from evals.harness.metrics import summarise
from tests.evals.factories import REFUND, WEATHER, observe, result


def _baseline(**metrics: float) -> Baseline:
    return Baseline(
        suite="t",
        metrics=metrics,
        passing_cases=frozenset({"refund", "weather"}),
    )


def test_case_failing_every_repeat_regresses_and_fails_the_gate() -> None:
    """A baseline-passing case that fails consistently is named as regressed."""
    runs = [result(REFUND, observe(top="order-cancel"), observe(top="order-cancel"))]
    verdict = compare(_baseline(), summarise(runs), runs, baseline_path="b.json")
    assert not verdict.passed
    assert verdict.regressed_cases == ("refund",)


def test_flaky_case_is_listed_but_does_not_fail_the_gate() -> None:
    """A case failing in some repeats only is flaky: listed, not a regression."""
    runs = [result(WEATHER, observe(route="out_of_scope"), observe(route="easy"))]
    verdict = compare(_baseline(), {}, runs, baseline_path="b.json")
    assert verdict.passed
    assert verdict.flaky_cases == ("weather",) and verdict.regressed_cases == ()


def test_metric_beyond_tolerance_regresses_within_does_not() -> None:
    """A rate may drop by its absolute tolerance; latency may grow by its relative one."""
    reference = _baseline(top1_hit_rate=0.9, latency_p95_ms=100.0)
    ok = compare(reference, {"top1_hit_rate": 0.895, "latency_p95_ms": 300.0}, [], baseline_path="")
    assert ok.passed
    bad = compare(reference, {"top1_hit_rate": 0.85, "latency_p95_ms": 400.0}, [], baseline_path="")
    assert {item.name for item in bad.regressed_metrics} == {"top1_hit_rate", "latency_p95_ms"}


def test_tolerance_limits_point_the_right_way() -> None:
    """Higher-is-better limits sit below the baseline, lower-is-better ones above it."""
    assert Tolerance(higher=True, abs=0.02).limit(0.9) == 0.88
    assert Tolerance(higher=False, abs=10, rel=0.5).limit(100.0) == 150.0


def test_update_writes_a_baseline_that_gates_the_same_run_green(tmp_path: Path) -> None:
    """A baseline written from a run loads back and passes that run, keeping tolerances."""
    runs = [result(REFUND, observe()), result(WEATHER, observe(route="easy"))]
    figures = summarise(runs)
    path = tmp_path / "t.json"
    previous = Baseline(
        suite="t",
        metrics={},
        passing_cases=frozenset(),
        tolerances={"top1_hit_rate": Tolerance(abs=0.2)},
    )
    write_baseline(path, suite="t", metrics=figures, results=runs, info={}, previous=previous)
    loaded = load_baseline(path)
    assert loaded.passing_cases == {"refund"}
    assert loaded.tolerances["top1_hit_rate"] == Tolerance(abs=0.2)
    assert compare(loaded, figures, runs, baseline_path=str(path)).passed
