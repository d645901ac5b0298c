"""The Redis drills pass on real processes, and their checks fail when the degradation is wrong.

The first test runs ``beacon drill run`` for the three Redis drills (a redis-server, a proxy,
the simulator and Beacon per drill). The others hand ``redis_down``'s own checks a run shaped
like the documented degradation, then the same run with one behaviour broken.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from evals.drills.catalog import select
from evals.drills.client import AskResult, AskSpec
from evals.drills.drill import Drill, DrillRun
from evals.drills.prometheus import MetricSnapshot
from evals.drills.state_drills import LIMIT_REQUESTS, LOCAL_BURST, UNAVAILABLE, redis_down

REPO = Path(__file__).resolve().parents[2]
REDIS_DRILLS = ("redis_down", "redis_slow", "redis_flapping")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_redis_drills_pass_and_reconcile(tmp_path: Path) -> None:
    """Down, slow and flapping Redis: each drill passes, reconciles exactly, saw
    beacon_state_up at 0 while Redis was unusable and back at 1 after, and appears in the
    report and the table."""
    report = tmp_path / "drills.json"
    only = [arg for name in REDIS_DRILLS for arg in ("--only", name)]
    command = [sys.executable, "-m", "service.cli", "drill", "run", *only, "--json", str(report)]
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    sys.stdout.write(finished.stdout)
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    drills = {drill["drill"]: drill for drill in orjson.loads(report.read_bytes())["drills"]}
    assert set(drills) == set(REDIS_DRILLS)
    for name, drill in drills.items():
        assert drill["verdict"] == "pass", drill["failures"]
        assert drill["reconciliation"]["exact"], drill["reconciliation"]["differences"]
        readings = drill["observed"]["state_up"]
        assert 0 in {reading["value"] for reading in readings.values()}, name
        assert readings["recovered"]["value"] == 1, name
        assert name in finished.stdout
    for name in ("redis_down", "redis_slow"):  # one key's burst: its local share, 429s after
        assert drills[name]["statuses"] == {"200": drills[name]["requests"] - 2, "429": 2}
    assert drills["redis_slow"]["observed"]["phases"]["slow"]["state_errors"] == 0
    assert drills["redis_flapping"]["observed"]["phases"]["flap"]["state_errors"] > 0


def done(**payload: Any) -> tuple[str, dict[str, Any]]:
    return "done", {"finish_reason": "stop", "fallbacks": [], "cache_hit": False, **payload}


def answered(spec: AskSpec, *events: tuple[str, dict[str, Any]], turn: int = 1) -> AskResult:
    result = AskResult(spec=spec, status=200, trace_id=f"t{id(spec)}")
    result.events = [("meta", {"turn": turn}), ("token", {"text": "Hi"}), *events]
    return result


def documented(spec: AskSpec, index: int) -> AskResult:
    """What the documented degradation answers to ``spec`` (``index``: its place in its kind)."""
    if spec.kind.endswith("_turn") and not spec.kind.startswith("after"):
        degraded = done(fallbacks=["conversation->stateless"], degraded=UNAVAILABLE)
        return answered(spec, degraded)
    if spec.kind == "after_turn":
        return answered(spec, done(), turn=2)
    if spec.kind == "after_cache":
        return answered(spec, done(cache_hit=True))
    if spec.kind == "limit" and index >= LOCAL_BURST:
        refused = AskResult(spec=spec, status=429, trace_id=f"r{index}", retry_after="1")
        refused.body = {"error": {"code": "rate_limited"}}
        return refused
    return answered(spec, done())


def metrics(**values: float) -> MetricSnapshot:
    names = {
        "cache_errors": ("beacon_cache_requests_total", frozenset({("result", "error")})),
        "state_up": ("beacon_state_up", frozenset()),
        **{
            feature: ("beacon_state_errors_total", frozenset({("feature", feature)}))
            for feature in ("conversations", "cache", "rate_limit")
        },
    }
    return MetricSnapshot({names[name]: value for name, value in values.items()})


def documented_run(drill: Drill) -> DrillRun:
    seen: dict[str, int] = {}
    results = []
    for spec in drill.requests:
        results.append(documented(spec, seen.get(spec.kind, 0)))
        seen[spec.kind] = seen.get(spec.kind, 0) + 1
    readings = {"down": 0.0, "still down": 0.0, "recovered": 1.0}
    return DrillRun(
        drill=drill,
        results=results,
        before=metrics(state_up=1),
        after=metrics(cache_errors=4, state_up=1, conversations=9, cache=4, rate_limit=12),
        simulator={"streams_open": 0},
        logs=[],
        settle_ms=0.0,
        observed={"state_up": {k: {"value": v, "after_ms": 1.0} for k, v in readings.items()}},
    )


def failures(run: DrillRun) -> list[str]:
    return [message for check in run.drill.checks for message in check(run)]


def of_kind(run: DrillRun, kind: str) -> list[AskResult]:
    return [result for result in run.results if result.spec.kind == kind]


def test_the_documented_degradation_passes_redis_down() -> None:
    """The run the README describes meets every check of the drill."""
    drill = redis_down()
    assert select(["redis_down"])[0].name == drill.name
    assert failures(documented_run(drill)) == []


def _turn_kept_its_history(run: DrillRun) -> None:
    result = of_kind(run, "down_turn")[0]
    result.events = [("meta", {"turn": 2}), ("token", {"text": "Hi"}), done()]


def _cache_failed_as_an_error(run: DrillRun) -> None:
    of_kind(run, "down_cache")[0].events[-1] = ("error", {"code": "internal_error"})


def _shared_limit_still_used(run: DrillRun) -> None:
    for result in of_kind(run, "limit"):
        result.status, result.body = 200, None
        result.events = [("token", {"text": "Hi"}), done()]


def _state_up_never_dropped(run: DrillRun) -> None:
    run.observed["state_up"]["down"]["value"] = 1.0


def _never_recovered(run: DrillRun) -> None:
    run.observed["state_up"]["recovered"]["value"] = 0.0
    for result in of_kind(run, "after_turn"):
        result.events[0] = ("meta", {"turn": 1})


def _answer_lost_mid_cut(run: DrillRun) -> None:
    of_kind(run, "cut")[3].events = [("meta", {"turn": 1})]


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_turn_kept_its_history, "degraded=None"),
        (_cache_failed_as_an_error, "ended with error"),
        (_shared_limit_still_used, f"{LIMIT_REQUESTS} limit admitted"),
        (_state_up_never_dropped, "beacon_state_up = 1 at 'down'"),
        (_never_recovered, "turn=1, expected 2"),
        (_answer_lost_mid_cut, "ended with none"),
    ],
)
def test_a_wrong_degradation_fails_redis_down(
    breakage: Callable[[DrillRun], None], expected: str
) -> None:
    """Each broken behaviour (history read while Redis is gone, a cache error reaching the
    customer, the shared limit during the outage, a gauge that never drops or never recovers,
    an answer lost mid-cut) is reported by the drill."""
    run = documented_run(redis_down())
    breakage(run)
    assert any(expected in message for message in failures(run)), failures(run)
