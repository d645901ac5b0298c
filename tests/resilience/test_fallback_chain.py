"""The fallback chain against the real upstream simulator: strong -> cheap -> FAQ -> handoff."""

from __future__ import annotations

from collections.abc import Callable

from evals.upstream.process import SimulatorProcess
from tests.conftest import AppHandle
from tests.resilience.conftest import LogLines, ask_faulted, short_deadlines
from tests.sse_client import ReceivedEvent, answer_text, ask_sse

EASY = "How do I request a refund?"
HARD = "How do I request a refund? And how long does delivery take?"
RISKY = "Someone used my card without my permission. What should I do?"

Factory = Callable[..., AppHandle]


def terminal(events: list[ReceivedEvent]) -> ReceivedEvent:
    terminals = [e for e in events if e.event in ("done", "error")]
    assert len(terminals) == 1 and terminals[0] is events[-1]
    return terminals[0]


def test_a_strong_model_without_first_token_falls_back_to_the_cheap_one(
    resilient: Factory, simulator: SimulatorProcess
) -> None:
    """After the first-token deadline the upstream call is cancelled and the cheap model answers."""
    beacon = resilient(hard_model="beacon-hard+no_first_token")
    simulator.reset_stats()
    _, events = ask_sse(beacon.url, HARD)
    done = terminal(events).data
    assert events[0].data["model"] == "beacon-hard+no_first_token"
    assert done["fallbacks"] == ["hard->easy"] and done["answered_by"] == "beacon-easy"
    assert done["degraded"] == {"code": "model_timeout", "layer": "model"}
    assert answer_text(events).startswith("According to our help centre")
    stats = simulator.stats()
    assert stats["streams_cancelled"] == 1 and stats["streams_open"] == 0
    labels = {"from": "hard", "to": "easy"}
    assert beacon.metric("beacon_fallbacks_total", **labels) == 1


def test_rate_limited_model_is_retried_then_skipped(
    resilient: Factory, simulator: SimulatorProcess
) -> None:
    """A 429 is retried once (after Retry-After), then the next model answers."""
    beacon = resilient(
        hard_model="beacon-hard+rate_limited", resilience=short_deadlines(retry_max_wait_s=2)
    )
    simulator.reset_stats()
    _, events = ask_sse(beacon.url, HARD)
    done = terminal(events).data
    assert done["fallbacks"] == ["hard->easy"]
    assert done["degraded"]["code"] == "model_rate_limited"
    assert simulator.stats()["requests_total"]["rate_limited"] == 2
    assert done["latency_ms"] >= 1000  # the simulator's Retry-After: 1


def test_every_model_down_serves_the_faq_answer_marked(resilient: Factory) -> None:
    """With both models failing, the cited FAQ answer is served and the done event says so."""
    beacon = resilient(easy_model="beacon-easy+server_error", hard_model="beacon-hard+server_error")
    _, events = ask_sse(beacon.url, HARD)
    done = terminal(events).data
    assert done["fallbacks"] == ["hard->easy", "easy->faq"]
    assert done["answered_by"] == "faq" and done["cost_usd"] == 0
    citation = events[1].data["citations"][0]
    assert citation["id"] in ("delivery-period", "refund-request")
    assert answer_text(events).strip()


def test_a_risky_question_with_models_down_goes_to_a_person(
    resilient: Factory, log_lines: LogLines
) -> None:
    """Risky questions skip the FAQ text: the chain ends in a handoff with a ticket."""
    beacon = resilient(easy_model="beacon-easy+server_error", hard_model="beacon-hard+server_error")
    _, events = ask_sse(beacon.url, RISKY)
    done = terminal(events).data
    assert done["finish_reason"] == "handoff"
    assert done["fallbacks"] == ["hard->easy", "easy->handoff"]
    handoffs = [e.data for e in events if e.event == "handoff"]
    assert len(handoffs) == 1 and handoffs[0]["ticket_id"] in answer_text(events)
    (line,) = log_lines.events("ask_completed")
    assert line["outcome"] == "handoff" and line["fallbacks"] == done["fallbacks"]


def test_a_failure_after_the_first_token_ends_with_one_error_event(
    resilient: Factory, simulator: SimulatorProcess, log_lines: LogLines
) -> None:
    """A reset mid-answer is not retried: one error event, the text so far untouched."""
    beacon = resilient()
    _, healthy = ask_sse(beacon.url, EASY)
    simulator.reset_stats()
    events = ask_faulted(beacon.url, EASY, "model:reset_mid_stream")
    error = terminal(events)
    assert error.event == "error"
    assert (error.data["code"], error.data["layer"]) == ("model_unavailable", "model")
    assert answer_text(healthy).startswith(answer_text(events))
    assert simulator.stats()["requests_total"]["reset_mid_stream"] == 1
    assert not any(line["fallbacks"] for line in log_lines.events("ask_completed"))


def test_a_stream_that_never_ends_is_cut_at_the_total_deadline(
    resilient: Factory, simulator: SimulatorProcess
) -> None:
    """The total deadline ends an endless answer with model_timeout and closes the upstream."""
    beacon = resilient()
    simulator.reset_stats()
    events = ask_faulted(beacon.url, EASY, "model:never_ends")
    error = terminal(events)
    assert error.event == "error" and error.data["code"] == "model_timeout"
    assert answer_text(events)
    stats = simulator.stats()
    assert stats["streams_cancelled"] == 1 and stats["streams_open"] == 0


def test_repeated_failures_open_the_circuit_and_skip_the_model(
    resilient: Factory, simulator: SimulatorProcess
) -> None:
    """Once the strong model's circuit is open, requests no longer call it at all."""
    beacon = resilient(
        hard_model="beacon-hard+server_error",
        resilience=short_deadlines(breaker_failures=2, breaker_cooldown_s=60),
    )
    simulator.reset_stats()
    for _ in range(4):
        _, events = ask_sse(beacon.url, HARD)
        assert terminal(events).data["fallbacks"] == ["hard->easy"]
    assert simulator.stats()["requests_total"]["server_error"] == 2
    assert beacon.metric("beacon_circuit_open", model="beacon-hard+server_error") == 1
    assert beacon.metric("beacon_circuit_open", model="beacon-easy") == 0


def test_the_embedded_faq_provider_is_unchanged(beacon: AppHandle) -> None:
    """Without a model nothing falls back: the FAQ answer, no fallbacks."""
    _, events = ask_sse(beacon.url, EASY)
    done = terminal(events).data
    assert done["fallbacks"] == [] and "degraded" not in done
