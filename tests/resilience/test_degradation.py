"""In-process fault points: off by default; when drilled, each degrades to its documented answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evals.drills.faults import FaultPoint, parse_fault_header
from tests.conftest import AppHandle
from tests.resilience.conftest import LogLines, ask_faulted
from tests.sse_client import answer_text

EASY = "How do I request a refund?"


def test_fault_headers_are_ignored_unless_faults_are_enabled(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """Without the drill harness, x-beacon-fault switches nothing on."""
    beacon = beacon_factory()
    events = ask_faulted(beacon.url, EASY, "index_unavailable,empty_retrieval")
    assert events[-1].event == "done" and events[-1].data["fallbacks"] == []
    assert events[0].data["route"] != "risky"


def test_fault_header_parsing_keeps_known_names_only() -> None:
    """Unknown names are dropped; model:<fault> is kept for the first model call."""
    faults = parse_fault_header(" tool_timeout, nonsense ,model:reset_mid_stream")
    assert faults.points == {FaultPoint.TOOL_TIMEOUT}
    assert faults.model_fault == "reset_mid_stream"


@pytest.mark.parametrize(
    ("fault", "code"),
    [("index_unavailable", "index_unavailable"), ("slow_retrieval", "retrieval_failed")],
)
def test_retrieval_failures_hand_over_to_a_person(
    resilient: Callable[..., AppHandle], log_lines: LogLines, fault: str, code: str
) -> None:
    """Without evidence Beacon cannot answer reliably: a handoff with a ticket, cause logged."""
    beacon = resilient()
    events = ask_faulted(beacon.url, EASY, fault)
    names = [e.event for e in events]
    assert names[-1] == "done" and names.count("handoff") == 1
    done = events[-1].data
    assert done["finish_reason"] == "handoff" and done["fallbacks"] == ["retrieval->handoff"]
    assert done["degraded"] == {"code": code, "layer": "data"}
    (line,) = log_lines.events("ask_completed")
    assert (line["outcome"], line["error_code"]) == ("handoff", code)
    assert beacon.metric("beacon_errors_total", layer="data", code=code) == 1
    assert beacon.metric("beacon_handoffs_total", reason="fallback") == 1


def test_empty_retrieval_is_refused_politely(resilient: Callable[..., AppHandle]) -> None:
    """No evidence at all: the refusal with guidance, no model call."""
    beacon = resilient()
    events = ask_faulted(beacon.url, EASY, "empty_retrieval")
    assert events[0].data["route"] == "out_of_scope"
    assert events[-1].data["finish_reason"] == "refused"
    assert beacon.metric("beacon_retrieval_empty_total") == 1


def test_an_unparseable_route_falls_back_to_the_strong_model(
    resilient: Callable[..., AppHandle],
) -> None:
    """A router parse failure routes to the strong model, which answers."""
    beacon = resilient()
    events = ask_faulted(beacon.url, EASY, "router_parse")
    assert (events[0].data["route"], events[0].data["reason"]) == ("hard", "router_fallback")
    done = events[-1].data
    assert done["fallbacks"] == ["router->hard"] and done["answered_by"] == "beacon-hard"
    assert answer_text(events)
