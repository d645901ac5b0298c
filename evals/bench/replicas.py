"""``replicas``: FAQ answers per second with one and two Beacon replicas sharing one Redis.

Real processes: ``beacon serve`` replicas on the ``faq`` route with ``state.backend=redis`` on
one throwaway ``redis-server``, and the load generator (``throughput.saturate_replicas``)
sending non-streamed questions to the replicas in turn, as a round-robin load balancer would.
In the same run, the in-process Beacon of ``throughput`` (no Redis, cache off) is the baseline.
The three cases are saturated in interleaved rounds and each keeps its best round (other work on
the machine only ever slows a round down). Reported as ratios: one replica on Redis over
in-process (what shared state costs), two replicas over one (what a second replica adds on this
machine), two over in-process.

Cores: replicas take the server core, then the cores the load generator does not use
(``fleet.replica_cores``); Redis runs beside the load generator. On a 2-core machine both
replicas share core 0, so the two-replica figure shows what splitting one core between two
processes costs, not what a second core would add; ``replica_cores`` in the JSON says which.
"""

from __future__ import annotations

from typing import Any

from evals.bench.fleet import CLIENT_CORE, Fleet, replica_cores
from evals.bench.profile import Profile
from evals.bench.throughput import faq_settings, saturate_replicas

CASES = ("in_process", "redis_1_replica", "redis_2_replicas")


def redis_settings(url: str) -> dict[str, Any]:
    return {**faq_settings(cache=False), "state": {"backend": "redis", "url": url}}


def run(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    redis = fleet.redis()
    baseline = fleet.beacon(faq_settings(cache=False))
    replicas = fleet.replicas(redis_settings(redis.url), 2)
    fleets = {
        "in_process": [baseline],
        "redis_1_replica": replicas[:1],
        "redis_2_replicas": replicas,
    }
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    for _ in range(profile.replica_rounds):
        for case, beacons in fleets.items():
            shared = None if case == "in_process" else redis
            runs[case].append(saturate_replicas(beacons, profile, redis=shared))
    best = {case: max(results, key=lambda r: r["requests_per_s"]) for case, results in runs.items()}
    rates = {case: result["requests_per_s"] for case, result in best.items()}
    return {
        "connections": profile.saturate_connections,
        "duration_s": profile.saturate_s,
        "rounds": profile.replica_rounds,
        "replica_cores": replica_cores(2),
        "redis_core": CLIENT_CORE,
        "cases": best,
        "requests_per_s": rates,
        "redis_1_over_in_process": _ratio(rates["redis_1_replica"], rates["in_process"]),
        "redis_2_over_redis_1": _ratio(rates["redis_2_replicas"], rates["redis_1_replica"]),
        "redis_2_over_in_process": _ratio(rates["redis_2_replicas"], rates["in_process"]),
        "runs": runs,
    }


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    cases, rates, cores = result["cases"], result["requests_per_s"], result["replica_cores"]
    shared = " (both on core 0: one core split in two)" if len(set(cores)) == 1 else ""
    lines = [
        ("in_process", "FAQ JSON, 1 replica in-process (baseline)", ""),
        (
            "redis_1_replica",
            "FAQ JSON, 1 replica on Redis",
            f" = {result['redis_1_over_in_process']}x in-process",
        ),
        (
            "redis_2_replicas",
            f"FAQ JSON, 2 replicas on one Redis{shared}",
            f" = {result['redis_2_over_redis_1']}x one replica, "
            f"{result['redis_2_over_in_process']}x in-process",
        ),
    ]
    table = []
    for case, label, ratio in lines:
        p99 = cases[case]["latency"]["p99_ms"]
        table.append(("replicas", f"{label} (p99 {p99} ms)", f"{rates[case]} req/s{ratio}", "", ""))
    for case in CASES[1:]:
        beacon_us, redis_us = (
            cases[case][k] for k in ("cpu_per_request_us", "redis_cpu_per_request_us")
        )
        commands = cases[case]["redis_commands_per_request"]
        label = f"{case.replace('_', ' ')}: CPU per request, Beacon + Redis"
        value = f"{beacon_us} + {redis_us} µs ({commands} Redis commands)"
        table.append(("replicas", label, value, "", ""))
    return table
