"""The drill catalog: one named failure per drill, and the degraded behaviour it demands.

Model faults come from the upstream simulator, either for every call of a model (a ``+fault``
suffix on its name in the settings: an outage) or for one request's first model call (the
``x-beacon-fault: model:<fault>`` header). In-process faults (index, retrieval, tool, router)
come from the same header, honoured because drills run with ``BEACON_FAULTS_ENABLED=true``.
Every drill is also reconciled (``reconcile.py``) and followed by a health check.
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.drills import checks as c
from evals.drills.client import AskSpec
from evals.drills.drill import Drill
from evals.drills.mixed import mixed_burst
from evals.upstream.config import SimulatorConfig
from service.admission import hash_api_key

EASY = "How do I request a refund?"
HARD = "How do I request a refund? And how long does delivery take?"
RISKY = "Someone used my card without my permission. What should I do?"
ORDER = "Where is my order BC-100004?"
DRILL_KEY = "drill-key-not-a-secret"
HEALTH_KEY = "health-key-not-a-secret"
FIRST_TOKEN_S = 0.5
TOTAL_S = 2.0
SLOW = SimulatorConfig(ttft_ms=20, tokens_per_second=20)  # ~1.2 s per answer


def is_ticket(value: object) -> bool:
    """a handoff ticket id"""
    return str(value).startswith("HO-")


def burst(
    question: str,
    n: int,
    *,
    fault: str | None = None,
    headers: dict[str, str] | None = None,
    disconnect_after_tokens: int | None = None,
    body: bytes | None = None,
) -> list[AskSpec]:
    headers = {**(headers or {}), **({"x-beacon-fault": fault} if fault else {})}
    spec = AskSpec(
        question, headers=headers, disconnect_after_tokens=disconnect_after_tokens, body=body
    )
    return [spec] * n


def outage(**models: str) -> dict[str, str]:
    """Settings that give a tier's model a simulator fault on every call."""
    names = {"easy": "beacon-easy", "hard": "beacon-hard"}
    return {f"BEACON_LLM__{tier.upper()}_MODEL": f"{names[tier]}+{f}" for tier, f in models.items()}


def model_drills() -> list[Drill]:
    hard_down = "beacon-hard+no_first_token"
    return [
        Drill(
            "strong_no_first_token",
            "The strong model never sends a first token: the cheap model answers instead.",
            burst(HARD, 8),
            [
                c.answers(
                    fallbacks=["hard->easy"],
                    answered_by="beacon-easy",
                    degraded={"code": "model_timeout", "layer": "model"},
                ),
                c.metric("beacon_fallbacks_total", equals=8, labels={"from": "hard", "to": "easy"}),
                c.upstream("streams_cancelled", at_least=5),
                c.gauge("beacon_circuit_open", equals=1, model=hard_down),
                c.latency(min_ms=FIRST_TOKEN_S * 1000),
            ],
            settings=outage(hard="no_first_token"),
            p95_max_ms=2000,
        ),
        Drill(
            "strong_slow_first_token",
            "The strong model is slow but inside its deadline: it answers, no fallback.",
            burst(HARD, 4),
            [
                c.answers(fallbacks=[]),
                c.log_lines(count=4, model="beacon-hard+slow_first_token", ttft_ms=c.at_least(250)),
                c.metric("beacon_fallbacks_total", equals=0),
            ],
            # 3 x 100 ms to the first token, under a 1 s deadline: margin for a loaded machine.
            settings={
                **outage(hard="slow_first_token"),
                "BEACON_RESILIENCE__HARD__FIRST_TOKEN_S": "1",
            },
            simulator=SimulatorConfig(ttft_ms=100, tokens_per_second=200),
        ),
        Drill(
            "strong_rate_limited",
            "429 with Retry-After: one retry after the delay, then the cheap model.",
            burst(HARD, 3),
            [
                c.answers(
                    fallbacks=["hard->easy"],
                    answered_by="beacon-easy",
                    degraded={"code": "model_rate_limited", "layer": "model"},
                ),
                c.upstream("requests_total.rate_limited", equals=6),
                c.latency(min_ms=1000),
            ],
            settings=outage(hard="rate_limited"),
        ),
        Drill(
            "strong_server_error_breaker",
            "500s open the strong model's circuit: later requests skip it, no upstream call.",
            burst(HARD, 8),
            [
                c.answers(fallbacks=["hard->easy"], answered_by="beacon-easy"),
                c.upstream("requests_total.server_error", equals=3),
                c.gauge("beacon_circuit_open", equals=1, model="beacon-hard+server_error"),
            ],
            settings={**outage(hard="server_error"), "BEACON_RESILIENCE__BREAKER_FAILURES": "3"},
            concurrency=1,
        ),
        Drill(
            "all_models_down",
            "Both models fail: the FAQ answer is served, marked as a fallback.",
            [*burst(EASY, 3), *burst(HARD, 3)],
            [
                c.answers(answered_by="faq", fallbacks=lambda f: bool(f) and f[-1] == "easy->faq"),
                c.metric("beacon_fallbacks_total", equals=6, labels={"from": "easy", "to": "faq"}),
                c.log_lines(outcome="ok", error_layer="model", cost_usd=0.0),
            ],
            settings=outage(easy="server_error", hard="server_error"),
        ),
        Drill(
            "risky_models_down",
            "A risky question with both models down goes to a person, never to the FAQ text.",
            burst(RISKY, 3),
            [
                c.answers(finish_reason="handoff", fallbacks=["hard->easy", "easy->handoff"]),
                c.events("handoff", reason="risk_terms"),
                c.log_lines(outcome="handoff"),
                c.metric("beacon_handoffs_total", equals=3, reason="risk_terms"),
            ],
            settings=outage(easy="server_error", hard="server_error"),
        ),
        Drill(
            "upstream_unreachable",
            "Nothing listens at the model's address: the FAQ answer is served.",
            burst(EASY, 4),
            [
                c.answers(
                    answered_by="faq",
                    fallbacks=["easy->faq"],
                    degraded={"code": "model_unavailable", "layer": "model"},
                ),
            ],
            settings={"BEACON_LLM__BASE_URL": "http://127.0.0.1:9/v1"},
        ),
    ]


def stream_drills() -> list[Drill]:
    return [
        _broken_stream(
            "reset_mid_stream", "model_unavailable", "The connection is reset mid-answer."
        ),
        _broken_stream("malformed_chunk", "model_bad_response", "A chunk is not JSON."),
        _broken_stream("no_done", "model_bad_response", "The stream ends without [DONE]."),
        Drill(
            "never_ends",
            "A stream that never ends is cut at the total deadline with one error event.",
            burst(EASY, 4, fault="model:never_ends"),
            [
                c.answers(terminal="error", code="model_timeout", layer="model"),
                c.upstream("streams_cancelled", equals=4),
                c.latency(min_ms=TOTAL_S * 1000, max_ms=TOTAL_S * 1000 + 1500),
                c.log_lines(outcome="error", error_code="model_timeout", tokens_out=c.positive),
            ],
            p95_max_ms=TOTAL_S * 1000 + 1500,
        ),
        Drill(
            "client_disconnect",
            "Clients leave after the first token: upstream calls close within a second, accounted.",
            burst(EASY, 6, disconnect_after_tokens=1),
            [
                c.upstream_closed_within(1000),
                c.upstream("streams_cancelled", equals=6),
                c.log_lines(
                    outcome="client_disconnected", tokens_out=c.positive, cost_usd=c.positive
                ),
                c.metric("beacon_requests_total", equals=6, outcome="client_disconnected"),
            ],
            simulator=SLOW,
        ),
    ]


def _broken_stream(fault: str, code: str, summary: str) -> Drill:
    return Drill(
        fault,
        f"{summary} One error event after the text sent so far; no retry, nothing spliced on.",
        burst(EASY, 4, fault=f"model:{fault}"),
        [
            c.answers(terminal="error", code=code, layer="model", text=False),
            c.prefix_of_healthy_answer(),
            c.metric("beacon_fallbacks_total", equals=0),
            c.upstream(f"requests_total.{fault}", equals=4),
            c.log_lines(outcome="error", error_code=code),
        ],
    )


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
            "Queued requests that wait past the maximum end with one error event, outcome shed.",
            burst(EASY, 3),
            [
                c.terminals("error", count=2, code="overloaded", layer="input"),
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
                c.events(
                    "handoff", reason="fallback", ticket_id=lambda t: str(t).startswith("HO-")
                ),
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


def catalog() -> list[Drill]:
    return [*model_drills(), *stream_drills(), *admission_drills(), *data_drills(), mixed_burst()]


def select(names: Sequence[str] | None) -> list[Drill]:
    drills = catalog()
    if not names:
        return drills
    known = {drill.name: drill for drill in drills}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise KeyError(f"unknown drill(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]
