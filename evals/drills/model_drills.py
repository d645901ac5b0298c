"""Drills on the model: outages of a tier (a ``+fault`` suffix on its name) and streams broken
for one request (``x-beacon-fault: model:<fault>``)."""

from __future__ import annotations

from evals.drills import checks as c
from evals.drills.burst import (
    EASY,
    FIRST_TOKEN_S,
    HARD,
    RISKY,
    SLOW,
    TOTAL_S,
    burst,
    outage,
)
from evals.drills.drill import Drill
from evals.upstream.config import SimulatorConfig


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
            # Six 429s would open the breaker at its default of five failures, and whether the
            # last retry meets an open breaker depends on timing: this drill is about Retry-After.
            settings={**outage(hard="rate_limited"), "BEACON_RESILIENCE__BREAKER_FAILURES": "100"},
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
