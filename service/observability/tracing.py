"""OpenTelemetry: one TracerProvider per app (never the global one), exporter chosen by settings."""

from __future__ import annotations

import sys
from collections.abc import Callable

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from service.settings import ObservabilitySettings


def build_tracer_provider(
    settings: ObservabilitySettings,
    *,
    exporter: SpanExporter | None = None,
    redact: Callable[[SpanExporter], SpanExporter] | None = None,
) -> TracerProvider:
    """Spans always get real ids (the trace_id in logs and events is the OTel trace id);
    they are exported only when an exporter is configured or injected (tests).

    With ``tracing_enabled`` off, spans are sampled out: ids still exist, nothing is recorded.
    ``redact`` wraps every exporter (the redaction policy's span sink, see ``span_redaction``).
    """
    wrap = redact or (lambda inner: inner)
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=None if settings.tracing_enabled else ALWAYS_OFF,  # None: parent-based, on
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(wrap(exporter)))
    elif settings.traces == "console":
        provider.add_span_processor(BatchSpanProcessor(wrap(ConsoleSpanExporter(out=sys.stdout))))
    elif settings.traces == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(wrap(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
        )
    return provider
