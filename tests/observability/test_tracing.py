"""Spans: the server span and its ``beacon.*`` children, GenAI attributes, W3C continuation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan

from evals.upstream.process import SimulatorProcess
from service.observability.tracing import build_tracer_provider
from service.settings import LLMSettings, ObservabilitySettings
from tests.conftest import AppHandle
from tests.observability.conftest import LogLines, finished_spans
from tests.sse_client import ask_sse, parse_sse

CHILDREN = {"beacon.guard", "beacon.retrieve", "beacon.route", "beacon.generate", "beacon.redact"}
TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def spans_by_name(beacon: AppHandle) -> dict[str, ReadableSpan]:
    return {span.name: span for span in finished_spans(beacon)}


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def test_children_hang_under_the_server_span_without_chunk_spans(beacon: AppHandle) -> None:
    """One request gives the server span and the five beacon.* children, no send/receive spans."""
    ask_sse(beacon.url, "How do I request a refund?")
    spans = spans_by_name(beacon)
    assert set(spans) == {"POST /ask", *CHILDREN}
    assert not any("send" in name or "receive" in name for name in spans)
    server = spans["POST /ask"]
    assert server.context is not None
    for name in CHILDREN:
        span = spans[name]
        assert span.parent is not None and span.parent.span_id == server.context.span_id, name
        assert span.context is not None and span.context.trace_id == server.context.trace_id


def test_generate_span_carries_gen_ai_attributes(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> None:
    """beacon.generate names the model and the usage the upstream reported."""
    beacon = beacon_factory(provider="openai", llm=LLMSettings(base_url=simulator.openai_base_url))
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    usage = events[-1].data["usage"]
    attributes = spans_by_name(beacon)["beacon.generate"].attributes or {}
    assert attributes["gen_ai.request.model"] == "beacon-easy"
    assert attributes["gen_ai.usage.input_tokens"] == usage["input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] == usage["output_tokens"] > 0


def test_incoming_traceparent_is_continued(beacon: AppHandle, log_lines: LogLines) -> None:
    """A W3C traceparent keeps its trace id everywhere and its span id becomes the parent."""
    response = httpx.post(
        f"{beacon.url}/ask",
        json={"question": "How do I request a refund?"},
        headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        timeout=30,
    )
    events = parse_sse(response.text)
    assert response.headers["x-trace-id"] == TRACE_ID
    assert {event.data["trace_id"] for event in events} == {TRACE_ID}
    server = spans_by_name(beacon)["POST /ask"]
    assert server.context is not None and hex_id(server.context.trace_id, 32) == TRACE_ID
    assert server.parent is not None and hex_id(server.parent.span_id, 16) == PARENT_ID
    (line,) = log_lines.events("ask_completed")
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == hex_id(server.context.span_id, 16)


def test_span_attributes_hold_no_raw_personal_data(beacon: AppHandle) -> None:
    """A question full of PII leaves none of its values in any span attribute."""
    planted = ("jane.doe@example.com", "13812345678", "4111111111111111", "11010519491231002X")
    ask_sse(
        beacon.url, f"Refund to card {planted[2]}? I'm {planted[0]}, {planted[1]}, {planted[3]}"
    )
    spans = finished_spans(beacon)
    assert len(spans) == 1 + len(CHILDREN)
    values = " ".join(str(value) for span in spans for value in (span.attributes or {}).values())
    for value in planted:
        assert value not in values


def test_tracing_can_be_switched_off(
    beacon_factory: Callable[..., AppHandle], log_lines: LogLines
) -> None:
    """With tracing off nothing is recorded, yet events and the log line share one trace id."""
    beacon = beacon_factory(observability=ObservabilitySettings(tracing_enabled=False))
    response, events = ask_sse(beacon.url, "How do I request a refund?")
    assert beacon.spans.get_finished_spans() == ()
    trace_id = response.headers["x-trace-id"]
    assert {event.data["trace_id"] for event in events} == {trace_id}
    (line,) = log_lines.events("ask_completed")
    assert line["trace_id"] == trace_id


def test_console_exporter_writes_spans(capsys: pytest.CaptureFixture[str]) -> None:
    """traces=console prints finished spans to stdout."""
    provider = build_tracer_provider(ObservabilitySettings(traces="console"))
    provider.get_tracer("test").start_span("beacon.console_check").end()
    provider.shutdown()
    assert '"name": "beacon.console_check"' in capsys.readouterr().out


def test_no_exporter_records_but_exports_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """traces=none still gives spans real ids (logs need them) and writes nothing anywhere."""
    provider = build_tracer_provider(ObservabilitySettings(traces="none"))
    span = provider.get_tracer("test").start_span("beacon.none_check")
    assert span.get_span_context().is_valid and span.is_recording()
    span.end()
    provider.shutdown()
    assert capsys.readouterr().out == ""


class OtlpSink(BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        OtlpSink.bodies.append((self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def otlp_sink() -> Iterator[str]:
    OtlpSink.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtlpSink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


def test_otlp_exporter_posts_spans_to_the_collector(otlp_sink: str) -> None:
    """traces=otlp sends spans over OTLP/HTTP to the configured collector endpoint."""
    settings = ObservabilitySettings(traces="otlp", otlp_endpoint=otlp_sink)
    provider = build_tracer_provider(settings)
    provider.get_tracer("test").start_span("beacon.otlp_check").end()
    assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()
    ((path, body),) = OtlpSink.bodies
    assert path == "/v1/traces" and b"beacon.otlp_check" in body
