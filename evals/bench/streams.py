"""``streams``: N concurrent SSE streams at 50 tokens/s each, through Beacon and straight.

A stream is stall-free when no gap between two of its token frames exceeds the simulator's
interval (20 ms at 50 tokens/s) by more than 50 ms; it is stalled otherwise. A stream is late
when its first token arrives more than 50 ms after the upstream's (the median time to first
token of the same streams sent straight to the simulator). ``added_ttft_p50_ms`` is the median
time to first token through Beacon minus the direct one. Streams start spread over ``ramp_s``, as
customers arrive. Server CPU per token is Beacon's user + system time over the run (from
``/proc/<pid>/stat``) divided by the token frames it delivered, so it includes each request's
own work (guard, retrieval, routing, accounting) spread over its tokens.
"""

from __future__ import annotations

from typing import Any

from evals.bench.fleet import Fleet, run_loadgen
from evals.bench.profile import Profile
from evals.bench.requests import QUESTIONS, ask, chat
from evals.upstream.config import SimulatorConfig
from evals.upstream.tokens import split_tokens

TOKENS_PER_SECOND = 50.0
STALL_MARGIN_S = 0.050
LATE_MARGIN_S = 0.050
SENTENCE = "Your refund is on its way and should reach your card within five business days. "


def long_answer(tokens: int) -> str:
    words = SENTENCE * (tokens // len(split_tokens(SENTENCE)) + 1)
    return "".join(split_tokens(words)[:tokens]).strip()


def stall_free_share(result: dict[str, Any], *, interval_s: float, tokens: int) -> float:
    limit = interval_s + STALL_MARGIN_S
    ok = sum(
        1
        for gap, count in zip(result["gaps_max_s"], result["tokens"], strict=True)
        if gap <= limit and count >= tokens * 0.5
    )
    return round(ok / int(result["streams"]), 4)


def late_share(result: dict[str, Any], *, upstream_ttft_s: float) -> float:
    """Streams whose first token came more than ``LATE_MARGIN_S`` after the upstream's (a
    stream with no first token at all is late too)."""
    on_time = sum(1 for ttft in result["ttft_s"] if ttft <= upstream_ttft_s + LATE_MARGIN_S)
    return round(1 - on_time / int(result["streams"]), 4)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0.0


def run(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    config = SimulatorConfig(
        ttft_ms=50.0, tokens_per_second=TOKENS_PER_SECOND, answer=long_answer(profile.stream_tokens)
    )
    simulator = fleet.simulator(config)
    beacon = fleet.beacon(
        {
            "provider": "openai",
            "llm": {"base_url": f"{simulator.base_url}/v1", "client": "direct"},
            "cache": {"enabled": False},
        }
    )
    question = QUESTIONS["en"]
    interval_s = 1 / TOKENS_PER_SECOND
    through = {
        "kind": "streams",
        "request": ask(beacon.base_url, question),
        "ramp_s": profile.stream_ramp_s,
    }
    direct = {
        "kind": "streams",
        "request": chat(simulator.base_url, question),
        "ramp_s": profile.stream_ramp_s,
    }
    run_loadgen({**through, "count": 2})  # warm-up: connections, caches, first-call paths
    cases = []
    for count in profile.stream_counts:
        baseline = run_loadgen({**direct, "count": count})
        cpu_before = beacon.cpu_seconds()
        result = run_loadgen({**through, "count": count})
        cpu = beacon.cpu_seconds() - cpu_before
        tokens = sum(result["tokens"])
        upstream_ttft_s = median(baseline["ttft_s"])
        stall_free = stall_free_share(result, interval_s=interval_s, tokens=profile.stream_tokens)
        cases.append(
            {
                "streams": count,
                "late_share": late_share(result, upstream_ttft_s=upstream_ttft_s),
                "stalled_share": round(1 - stall_free, 4),
                "added_ttft_p50_ms": round((median(result["ttft_s"]) - upstream_ttft_s) * 1000, 3),
                "stall_free_share": stall_free,
                "direct_stall_free_share": stall_free_share(
                    baseline, interval_s=interval_s, tokens=profile.stream_tokens
                ),
                "failed": result["failed"],
                "worst_gap_ms": round(max(result["gaps_max_s"], default=0.0) * 1000, 3),
                "direct_worst_gap_ms": round(max(baseline["gaps_max_s"], default=0.0) * 1000, 3),
                "tokens": tokens,
                "server_cpu_s": round(cpu, 3),
                "cpu_per_token_us": round(cpu / tokens * 1e6, 2) if tokens else None,
                "server_cpu_share": round(cpu / result["elapsed_s"], 3),
            }
        )
    return {
        "tokens_per_second": TOKENS_PER_SECOND,
        "tokens_per_stream": profile.stream_tokens,
        "ramp_s": profile.stream_ramp_s,
        "stall_threshold_ms": round((interval_s + STALL_MARGIN_S) * 1000, 3),
        "cases": cases,
    }
