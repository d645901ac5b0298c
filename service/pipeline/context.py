"""What one request carries down its steps: the shared services, its trace and its caller.

``AskContext`` is built by the API once the caller is authenticated and the body is valid. It is
immutable: a step gets what it needs from it and returns a value; nothing writes back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry.trace import Span

from service.admission.caller import Caller
from service.observability.middleware import TraceContext
from service.pipeline.services import Services


@dataclass(frozen=True, slots=True)
class AskContext:
    services: Services
    trace: TraceContext
    caller: Caller
    parent: otel_context.Context = field(default_factory=otel_context.get_current)
    """The server span's context, captured when the request arrives (streams run later)."""
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def span(self, name: str) -> Iterator[Span]:
        """A child span of the request's server span."""
        tracer = self.services.tracer
        with tracer.start_as_current_span(name, context=self.parent) as span:
            yield span

    def elapsed_ms(self, until: float | None = None) -> float:
        end = time.perf_counter() if until is None else until
        return round((end - self.started) * 1000, 3)
