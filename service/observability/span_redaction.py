"""The span sink's copy of the redaction policy: an exporter wrapper that redacts every span.

Spans are built in many places (Beacon's own ``beacon.*`` children, the FastAPI instrumentation
recording URLs, user agents and exception messages), so the guarantee sits where they all leave
the process: ``RedactingSpanExporter`` hands the wrapped exporter a copy of each span whose name,
string attributes, event attributes, link attributes and status description went through
``redact_value``. Values that hit the canary become its placeholder, as in the logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from service.pipeline.redact import RedactionPolicy, redact_value

__all__ = ["MAX_SPAN_VALUE_CHARS", "RedactingSpanExporter"]

# Span text is cut to this before it is redacted: a URL or a User-Agent is the client's to size
# (56 KB fit in one header), and a trace needs its start only.
MAX_SPAN_VALUE_CHARS = 2_048


class RedactingSpanExporter(SpanExporter):
    """Exports through ``inner`` only spans whose text passed the redaction policy."""

    def __init__(
        self, inner: SpanExporter, policy: RedactionPolicy, *, canaries: Sequence[str]
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.canaries = tuple(canaries)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([self.redact_span(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def redact_span(self, span: ReadableSpan) -> ReadableSpan:
        """A copy of ``span`` with every piece of free text redacted."""
        status = span.status
        return ReadableSpan(
            name=self._text(span.name),
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=self._attributes(span.attributes),
            events=[
                Event(event.name, self._attributes(event.attributes), event.timestamp)
                for event in span.events
            ],
            links=[Link(link.context, self._attributes(link.attributes)) for link in span.links],
            kind=span.kind,
            status=Status(status.status_code, self._text(status.description))
            if status.description
            else status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def _attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        return {key: self._value(value) for key, value in (attributes or {}).items()}

    def _value(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict):
            return redact_value(
                value, self.policy, canaries=self.canaries, max_chars=MAX_SPAN_VALUE_CHARS
            )
        return value  # numbers and booleans carry no text

    def _text(self, text: str | None) -> str:
        redacted = redact_value(
            text or "", self.policy, canaries=self.canaries, max_chars=MAX_SPAN_VALUE_CHARS
        )
        return str(redacted)
