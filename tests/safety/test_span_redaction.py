"""The span sink: every exported span passes the redaction policy, whoever recorded it."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from service.observability.span_redaction import RedactingSpanExporter
from service.observability.tracing import build_tracer_provider
from service.pipeline.redact import load_redaction_policy
from service.settings import ObservabilitySettings

CANARY = "SPAN-canary-41c7e2"
EMAIL, CARD, PHONE = "jane.doe@example.com", "4111 1111 1111 1111", "+86 138 1234 5678"


def traced(exporter: InMemorySpanExporter) -> None:
    policy = load_redaction_policy()
    provider = build_tracer_provider(
        ObservabilitySettings(),
        exporter=exporter,
        redact=lambda inner: RedactingSpanExporter(inner, policy, canaries=[CANARY]),
    )
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("parent") as parent:
        link = Link(parent.get_span_context(), {"note": f"mail {EMAIL}"})
        span = tracer.start_span(f"lookup {EMAIL}", links=[link])
        span.set_attribute("url.full", f"http://svc/ask?card={CARD.replace(' ', '')}")
        span.set_attribute("user_agent.original", f"agent ({PHONE})")
        span.set_attribute("beacon.notes", [f"card {CARD}", "plain"])
        span.set_attribute("beacon.prompt", f"marker {CANARY} here")
        span.set_attribute("beacon.count", 3)
        span.add_event("exception", {"exception.message": f"bad card {CARD}"})
        span.set_status(Status(StatusCode.ERROR, f"failed for {EMAIL}"))
        span.end()
    provider.shutdown()


def test_exported_spans_carry_no_raw_values() -> None:
    """Name, attributes, events, links and status leave the exporter redacted."""
    exporter = InMemorySpanExporter()
    traced(exporter)
    span = next(s for s in exporter.get_finished_spans() if s.name != "parent")
    text = repr(
        [
            span.name,
            dict(span.attributes or {}),
            span.status.description,
            *(dict(event.attributes or {}) for event in span.events),
            *(dict(link.attributes or {}) for link in span.links),
        ]
    )
    for raw in (EMAIL, CARD, CARD.replace(" ", ""), "138 1234 5678", CANARY):
        assert raw not in text
    assert span.name == "lookup [email]"
    attributes = dict(span.attributes or {})
    assert attributes["url.full"] == "http://svc/ask?card=[card]"
    assert attributes["beacon.notes"] == ("card [card]", "plain")
    assert attributes["beacon.prompt"] == "[redacted]"  # a canary hides the whole value
    assert attributes["beacon.count"] == 3
    assert span.status.description == "failed for [email]"


def test_span_identity_survives_redaction() -> None:
    """The redacted copy keeps ids, parent, kind and times, so traces still join up."""
    exporter = InMemorySpanExporter()
    traced(exporter)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    child, parent = spans["lookup [email]"], spans["parent"]
    assert child.context is not None and parent.context is not None
    assert child.context.trace_id == parent.context.trace_id
    assert child.start_time is not None and child.end_time is not None
    assert child.links[0].context.span_id == parent.context.span_id
