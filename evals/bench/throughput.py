"""``throughput`` and ``observability``: non-streamed FAQ answers per second at saturation.

The load generator keeps ``connections`` keep-alive connections busy with ``Accept:
application/json`` questions (the demo KB's canonical questions, both languages, in turn) for
``saturate_s`` after a warm-up (which also fills the cache when it is on). ``observability``
runs the same load with logs, metrics and traces on and off, alternating, and reports the ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evals.bench.fleet import Fleet, ServiceProcess, cpu_seconds, run_loadgen
from evals.bench.profile import Profile
from evals.bench.requests import ask, faq_questions
from evals.bench.summary import summarise_ms
from evals.redis_server import RedisServer

OBSERVABILITY_OFF = {"log_level": "warning", "metrics_enabled": False, "tracing_enabled": False}


def faq_settings(*, cache: bool, observability: bool = True) -> dict[str, Any]:
    settings: dict[str, Any] = {"provider": "faq", "cache": {"enabled": cache}}
    if not observability:
        settings["observability"] = OBSERVABILITY_OFF
    return settings


def saturate(beacon: ServiceProcess, profile: Profile) -> dict[str, Any]:
    return saturate_replicas([beacon], profile)


def saturate_replicas(
    beacons: Sequence[ServiceProcess], profile: Profile, *, redis: RedisServer | None = None
) -> dict[str, Any]:
    """Saturate ``beacons`` together, each question sent to them in turn (a round-robin load
    balancer); their CPU is summed, and ``redis``'s CPU and commands reported beside it (its CPU
    is read in clock ticks, 10 ms, so a short run may show none; the commands never round)."""
    questions = faq_questions()
    requests = [ask(b.base_url, q, accept_json=True) for q in questions for b in beacons]
    job = {"kind": "saturate", "requests": requests, "connections": profile.saturate_connections}
    run_loadgen({**job, "duration_s": max(0.2, profile.saturate_s / 4)})  # warm-up
    cpu_before = [beacon.cpu_seconds() for beacon in beacons]
    redis_before = cpu_seconds(redis.process.pid) if redis is not None else 0.0
    commands_before = redis.commands_processed() if redis is not None else 0
    result = run_loadgen({**job, "duration_s": profile.saturate_s})
    per_beacon = [b.cpu_seconds() - before for b, before in zip(beacons, cpu_before, strict=True)]
    cpu = sum(per_beacon)
    completed = result["completed"]
    case: dict[str, Any] = {
        "requests_per_s": round(completed / result["elapsed_s"], 1),
        "completed": completed,
        "errors": result["errors"],
        "latency": summarise_ms(result["latencies_s"]),
        "server_cpu_share": round(cpu / result["elapsed_s"], 3),
        "cpu_per_request_us": round(cpu / completed * 1e6, 1) if completed else None,
        # What a whole core would serve at this CPU cost: the figure to read when other work
        # on the machine left Beacon only part of its core (see server_cpu_share).
        "cpu_bound_requests_per_s": round(completed / cpu, 1) if cpu > 0 else None,
    }
    if len(beacons) > 1:  # each replica did its share of the work
        case["server_cpu_s_per_replica"] = [round(seconds, 3) for seconds in per_beacon]
    if redis is not None:
        redis_cpu = cpu_seconds(redis.process.pid) - redis_before
        commands = redis.commands_processed() - commands_before - 1  # not the second INFO
        case["redis_cpu_per_request_us"] = (
            round(redis_cpu / completed * 1e6, 1) if completed else None
        )
        case["redis_commands_per_request"] = round(commands / completed, 2) if completed else None
    return case


def run(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    off, on = fleet.beacons([faq_settings(cache=False), faq_settings(cache=True)])
    cases = {"cache_off": saturate(off, profile), "cache_on": saturate(on, profile)}
    return {
        "connections": profile.saturate_connections,
        "duration_s": profile.saturate_s,
        "cases": cases,
    }


def run_observability(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    beacons = fleet.beacons(
        [faq_settings(cache=False), faq_settings(cache=False, observability=False)]
    )
    for _ in range(profile.observability_rounds):
        for state, beacon in zip(("on", "off"), beacons, strict=True):
            runs[state].append(saturate(beacon, profile))
    rates = {state: max(r["requests_per_s"] for r in results) for state, results in runs.items()}
    return {
        "connections": profile.saturate_connections,
        "duration_s": profile.saturate_s,
        "off_means": OBSERVABILITY_OFF,
        "requests_per_s_on": rates["on"],
        "requests_per_s_off": rates["off"],
        "ratio_on_to_off": round(rates["on"] / rates["off"], 3) if rates["off"] else None,
        "runs": runs,
    }
