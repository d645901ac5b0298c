"""The acceptance test of issue 3: one request, one trace id, four places to find it."""

from __future__ import annotations

from tests.conftest import AppHandle
from tests.observability.conftest import LogLines, finished_spans
from tests.observability.scrape import scrape_families
from tests.sse_client import ask_sse


def test_one_trace_id_links_events_log_line_spans_and_exemplar(
    beacon: AppHandle, log_lines: LogLines
) -> None:
    """The request's trace_id is in every SSE event, one ask_completed line, every span of the
    request and the beacon_time_to_first_token_seconds exemplar."""
    response, events = ask_sse(beacon.url, "How do I request a refund?")
    trace_id = response.headers["x-trace-id"]
    assert len(trace_id) == 32 and int(trace_id, 16) != 0

    assert [e.event for e in events][-1] == "done"
    assert all(event.data["trace_id"] == trace_id for event in events)

    lines = [line for line in log_lines.events("ask_completed") if line["trace_id"] == trace_id]
    assert len(lines) == 1 and len(log_lines.events("ask_completed")) == 1

    spans = finished_spans(beacon)
    assert len(spans) == 6
    assert {format(span.context.trace_id, "032x") for span in spans if span.context} == {trace_id}

    ttft = scrape_families(beacon.url)["beacon_time_to_first_token_seconds"]
    exemplars = [s.exemplar.labels for s in ttft.samples if s.exemplar is not None]
    assert exemplars == [{"trace_id": trace_id}]
