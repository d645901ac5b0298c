"""``overhead``: what Beacon adds to the time to first token and to the total, at concurrency 1.

Cases: the ``faq`` route (no upstream: all of its time is Beacon's) and the ``openai`` provider
against the simulator through each client (``direct``, ``langchain``). For the openai cases
every round sends the same question through Beacon and, adjacent to it, straight to the
simulator with the same answer text; rounds interleave the cases and alternate the order.
Added = Beacon's percentile minus the direct percentile.

The English answer shows one more cost: the redactor holds a trailing word back until the next
chunk proves it is not the start of an e-mail address, a phone number or a card number, so the
first English token leaves one upstream chunk interval later. The Chinese answer has no such
hold-back and shows the processing overhead alone.
"""

from __future__ import annotations

from typing import Any

import httpx

from evals.bench.fleet import Fleet, ServiceProcess, run_loadgen
from evals.bench.profile import Profile
from evals.bench.requests import QUESTIONS, ask, chat
from evals.bench.summary import summarise_ms
from evals.upstream.config import SimulatorConfig

SIMULATOR = SimulatorConfig(ttft_ms=20.0, tokens_per_second=200.0)


def beacon_settings(client: str | None, simulator_url: str) -> dict[str, Any]:
    if client is None:
        return {"provider": "faq", "cache": {"enabled": False}}
    return {
        "provider": "openai",
        "llm": {"base_url": f"{simulator_url}/v1", "client": client},
        "cache": {"enabled": False},
    }


def answer_text(base_url: str, question: str) -> str:
    """The answer Beacon serves for ``question``, so the direct call can stream the same text."""
    response = httpx.post(
        f"{base_url}/ask",
        json={"question": question},
        headers={"accept": "application/json"},
        timeout=30,
    )
    response.raise_for_status()
    answer: str = response.json()["answer"]
    return answer


def plan_requests(
    fleet: Fleet, clients: tuple[str, ...]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, ServiceProcess]]:
    """Per case label, the requests of one round: Beacon's, then (openai) the direct one; and
    the Beacon process of each case."""
    simulator = fleet.simulator(SIMULATOR)
    plans: dict[str, list[dict[str, Any]]] = {}
    processes: dict[str, ServiceProcess] = {}
    cases: list[str | None] = [None, *clients]
    beacons = fleet.beacons([beacon_settings(client, simulator.base_url) for client in cases])
    for client, beacon in zip(cases, beacons, strict=True):
        case = "faq" if client is None else f"openai-{client}"
        processes[case] = beacon
        for lang, question in QUESTIONS.items():
            label = f"{case}/{lang}"
            pair = [{**ask(beacon.base_url, question), "label": f"{label}/beacon"}]
            if client is not None:
                direct = chat(
                    simulator.base_url, question, answer=answer_text(beacon.base_url, question)
                )
                pair.append({**direct, "label": f"{label}/direct"})
            plans[label] = pair
    return plans, processes


def schedule(plans: dict[str, list[dict[str, Any]]], rounds: int) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for index in range(rounds):
        for pair in plans.values():
            requests += pair if index % 2 == 0 else pair[::-1]
    return requests


def run(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    plans, processes = plan_requests(fleet, profile.overhead_clients)
    run_loadgen({"kind": "sequential", "requests": schedule(plans, profile.warmup)})
    cpu_before = {case: process.cpu_seconds() for case, process in processes.items()}
    result = run_loadgen(
        {"kind": "sequential", "requests": schedule(plans, profile.overhead_rounds)}
    )
    requests_per_case = profile.overhead_rounds * len(QUESTIONS)
    cpu_per_request_ms = {
        case: round((process.cpu_seconds() - cpu_before[case]) / requests_per_case * 1000, 3)
        for case, process in processes.items()
    }
    by_label: dict[str, list[dict[str, Any]]] = {}
    for item in result["results"]:
        by_label.setdefault(item["label"], []).append(item)
    cases = {label: summarise_case(label, by_label) for label in plans}
    return {
        "simulator": {
            "ttft_ms": SIMULATOR.ttft_ms,
            "tokens_per_second": SIMULATOR.tokens_per_second,
        },
        "rounds": profile.overhead_rounds,
        "cases": cases,
        # Server CPU (user + system) per request, all of it: the faq case has no upstream, so
        # this is a whole FAQ answer with observability on.
        "server_cpu_per_request_ms": cpu_per_request_ms,
    }


def summarise_case(label: str, by_label: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    beacon = by_label[f"{label}/beacon"]
    summary: dict[str, Any] = {
        "errors": sum(1 for item in beacon if item["status"] != 200 or item["ttft_s"] is None),
        "beacon_ttft": summarise_ms([i["ttft_s"] for i in beacon if i["ttft_s"] is not None]),
        "beacon_total": summarise_ms([i["total_s"] for i in beacon]),
    }
    direct = by_label.get(f"{label}/direct")
    if direct is None:  # the faq route has no upstream: all of its time is Beacon's
        summary["added_ttft"] = _pick(summary["beacon_ttft"])
        summary["added_total"] = _pick(summary["beacon_total"])
        return summary
    summary["direct_ttft"] = summarise_ms([i["ttft_s"] for i in direct if i["ttft_s"] is not None])
    summary["direct_total"] = summarise_ms([i["total_s"] for i in direct])
    summary["added_ttft"] = _minus(summary["beacon_ttft"], summary["direct_ttft"])
    summary["added_total"] = _minus(summary["beacon_total"], summary["direct_total"])
    return summary


def _pick(stats: dict[str, float]) -> dict[str, float]:
    return {"p50_ms": stats["p50_ms"], "p99_ms": stats["p99_ms"]}


def _minus(through: dict[str, float], direct: dict[str, float]) -> dict[str, float]:
    return {key: round(through[key] - direct[key], 3) for key in ("p50_ms", "p99_ms")}
