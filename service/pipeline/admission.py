"""The admission step: the caller's rate, then a concurrency slot or a place in the queue.

The wait in the queue happens here, before the response starts, so a request that waits too
long is refused like one that found the queue full: 429 with ``Retry-After``, in SSE and JSON
mode alike. An admitted request tells its client where it waited (one ``queued`` event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.admission.gate import Ticket
from service.observability.metrics import Metrics

if TYPE_CHECKING:
    from service.pipeline.context import AskContext


@dataclass(frozen=True, slots=True)
class Admitted:
    ticket: Ticket
    metrics: Metrics
    queued_position: int | None = None
    """The request's first place in the queue; None when a slot was free at once."""

    def release(self) -> None:
        """Free the slot (idempotent: the ticket releases once)."""
        if self.ticket.release():
            self.metrics.in_flight.dec()


async def admit_request(context: AskContext) -> Admitted:
    """Step: raise ``RateLimited``/``Overloaded``/``QueueTimeout``, or hold a slot."""
    services = context.services
    ticket = services.admission.enter(context.caller)
    first: int | None = None
    try:
        async for position in ticket.wait():
            if first is None:
                first = position
    except BaseException:
        ticket.release()
        raise
    services.metrics.in_flight.inc()
    return Admitted(ticket, services.metrics, first)
