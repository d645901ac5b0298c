"""What one request carries down its steps: the shared services, its trace and its caller.

``AskContext`` is built by the API once the caller is authenticated and the body is valid. It is
immutable: a step gets what it needs from it and returns a value. The one exception is
``side_calls``, the request's ledger of model calls made besides the answer (a follow-up
condensed): like a provider's ``Usage``, each call fills in its entry, so the request's cost
record holds it whether or not an answer followed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry.trace import Span

from service.admission.caller import Caller
from service.observability.ask_record import ModelCall
from service.observability.middleware import TraceContext
from service.pipeline.services import Services
from service.providers.base import Usage


@dataclass(frozen=True, slots=True)
class SideCall:
    """A model call a step made besides the answer: why, and the usage its provider filled in."""

    purpose: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class AskContext:
    services: Services
    trace: TraceContext
    caller: Caller
    parent: otel_context.Context = field(default_factory=otel_context.get_current)
    """The server span's context, captured when the request arrives (streams run later)."""
    started: float = field(default_factory=time.perf_counter)
    side_calls: list[SideCall] = field(default_factory=list)

    def side_call(self, purpose: str) -> Usage:
        """A usage record for a model call a step is about to make, kept in ``side_calls``."""
        usage = Usage()
        self.side_calls.append(SideCall(purpose, usage))
        return usage

    def priced_side_calls(self) -> tuple[ModelCall, ...]:
        """The cost records of the side calls that reached a model."""
        accountant = self.services.accountant
        return tuple(
            accountant.side_call(call.purpose, call.usage)
            for call in self.side_calls
            if call.usage.model
        )

    @contextmanager
    def span(self, name: str) -> Iterator[Span]:
        """A child span of the request's server span."""
        tracer = self.services.tracer
        with tracer.start_as_current_span(name, context=self.parent) as span:
            yield span

    def elapsed_ms(self, until: float | None = None) -> float:
        end = time.perf_counter() if until is None else until
        return round((end - self.started) * 1000, 3)
