"""Drills on the rest of the service: admission control at the door, and the in-process fault
points of retrieval, the order tool, the cache and the router."""

from __future__ import annotations

from evals.drills import checks as c
from evals.drills.burst import EASY, ORDER, SLOW, burst, is_ticket
from evals.drills.client import AskSpec
from evals.drills.drill import Drill
from service.admission import hash_api_key

DRILL_KEY = "drill-key-not-a-secret"
HEALTH_KEY = "health-key-not-a-secret"


def admission_drills() -> list[Drill]:
    key = {"authorization": f"Bearer {DRILL_KEY}"}
    digests = f'["{hash_api_key(DRILL_KEY)}", "{hash_api_key(HEALTH_KEY)}"]'
    return [
        Drill(
            "queue_full_sheds",
            "Two slots, two queue places: the rest get 429 + Retry-After before any byte.",
            burst(EASY, 8),
            [
                c.accepted(4),
                c.refusals(status=429, code="overloaded", count=4),
                c.metric("beacon_shed_total", equals=4, reason="queue_full"),
                c.queued(streams=2, positions={1, 2}),
                c.answers(),
            ],
            settings={"BEACON_ADMISSION__MAX_IN_FLIGHT": "2", "BEACON_ADMISSION__MAX_QUEUE": "2"},
            simulator=SLOW,
            p95_max_ms=6000,
        ),
        Drill(
            "queue_timeout",
            "Queued requests that wait past the maximum get 429 + Retry-After before any byte, "
            "outcome shed.",
            burst(EASY, 3),
            [
                c.refusals(status=429, code="overloaded", count=2),
                c.terminals("done", count=1),
                c.metric("beacon_shed_total", equals=2, reason="queue_timeout"),
                c.metric("beacon_requests_total", equals=2, outcome="shed"),
                c.metric("beacon_requests_total", equals=1, outcome="ok"),
            ],
            settings={
                "BEACON_ADMISSION__MAX_IN_FLIGHT": "1",
                "BEACON_ADMISSION__MAX_WAIT_S": "0.3",
            },
            simulator=SLOW,
            concurrency=3,
        ),
        Drill(
            "api_key_rate_limit",
            "Keys are required and rate-limited per key: 401 without one, 429 past the bucket.",
            [
                *burst(EASY, 4, headers=key),
                AskSpec(EASY),
                AskSpec(EASY, headers={"x-api-key": "wrong"}),
            ],
            [
                c.accepted(2),
                c.refusals(status=429, code="rate_limited", count=2),
                c.refusals(status=401, code="unauthorized", count=2, retry_after=False),
                c.metric("beacon_shed_total", equals=2, reason="rate_limited"),
                c.metric("beacon_shed_total", equals=2, reason="unauthorized"),
            ],
            settings={
                "BEACON_ADMISSION__API_KEY_SHA256": digests,
                "BEACON_ADMISSION__RATE_PER_S": "0.1",
                "BEACON_ADMISSION__BURST": "2",
            },
            concurrency=1,
            health_headers={"x-api-key": HEALTH_KEY},
        ),
        Drill(
            "body_too_large",
            "An oversized body is refused with 413 before the app reads it.",
            [*burst(EASY, 2, body=b'{"question": "' + b"x" * 20_000 + b'"}'), *burst(EASY, 2)],
            [
                c.accepted(2),
                c.refusals(status=413, code="body_too_large", count=2, retry_after=False),
                c.metric("beacon_shed_total", equals=2, reason="body_too_large"),
            ],
        ),
    ]


def data_drills() -> list[Drill]:
    return [
        Drill(
            "index_unavailable",
            "The vector store is down: a person takes over, with a ticket.",
            burst(EASY, 4, fault="index_unavailable"),
            [
                c.answers(
                    finish_reason="handoff",
                    answered_by="none",
                    fallbacks=["retrieval->handoff"],
                    degraded={"code": "index_unavailable", "layer": "data"},
                ),
                c.events("handoff", reason="fallback", ticket_id=is_ticket),
                c.metric("beacon_errors_total", equals=4, layer="data", code="index_unavailable"),
            ],
        ),
        Drill(
            "slow_retrieval",
            "Retrieval slower than its deadline: handed off at the deadline, not after.",
            burst(EASY, 4, fault="slow_retrieval"),
            [
                c.answers(
                    finish_reason="handoff",
                    answered_by="none",
                    degraded={"code": "retrieval_failed", "layer": "data"},
                ),
                c.latency(min_ms=300, max_ms=1500),
            ],
        ),
        Drill(
            "empty_retrieval",
            "No evidence at all: the polite refusal, never a made-up answer.",
            burst(EASY, 4, fault="empty_retrieval"),
            [
                c.answers(finish_reason="refused"),
                c.metric("beacon_retrieval_empty_total", equals=4),
                c.metric("beacon_refusals_total", equals=4),
                c.upstream("requests_total.none", equals=0),
            ],
        ),
        _tool_drill("tool_timeout", "timeout", "The order lookup hangs"),
        _tool_drill("tool_error", "failed", "The order lookup fails"),
        Drill(
            "cache_unavailable",
            "The answer cache is down: a cache miss that stores nothing, the answer unchanged.",
            burst(EASY, 4, fault="cache_unavailable"),
            [
                c.answers(fallbacks=[], answered_by=None),
                c.metric("beacon_cache_requests_total", equals=4, result="error"),
                c.log_lines(outcome="ok", cache_hit=False),
            ],
        ),
        Drill(
            "router_parse",
            "The routing decision cannot be parsed: the strong model answers.",
            burst(EASY, 4, fault="router_parse"),
            [
                c.answers(fallbacks=["router->hard"], answered_by="beacon-hard"),
                c.log_lines(route="hard", route_reason="router_fallback"),
            ],
        ),
    ]


def _tool_drill(fault: str, result: str, summary: str) -> Drill:
    return Drill(
        fault,
        f"{summary}: one retry, then a person takes over; both calls are in the log line.",
        burst(ORDER, 4, fault=fault),
        [
            c.answers(finish_reason="handoff", fallbacks=["tool->handoff"]),
            c.log_lines(route="tool", tool_calls=[f"get_order_status:{result}"] * 2),
            c.metric("beacon_errors_total", equals=4, layer="tool", code=f"tool_{result}"),
        ],
    )
