"""A global concurrency limit with a bounded FIFO queue and a maximum wait.

``enter`` decides before any byte is sent: a free slot, a place in the queue, or ``Overloaded``
(429 with ``Retry-After``) when the queue is full. A queued request's ``Ticket.wait`` yields its
position whenever it changes while it waits, and raises ``QueueTimeout`` after ``max_wait_s``
(still before any byte: the plan waits, the stream has not started). A freed slot passes
straight to the next waiter, so no request can overtake the queue. ``beacon_queue_depth``
follows the queue; time-outs count in ``beacon_shed_total``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from enum import Enum

from service.errors import Overloaded, QueueTimeout
from service.observability.metrics import Metrics

__all__ = ["ConcurrencyGate", "QueueTimeout", "Ticket", "TicketState"]


class TicketState(Enum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    DONE = "done"


class ConcurrencyGate:
    def __init__(
        self,
        *,
        limit: int,
        max_queue: int,
        max_wait_s: float,
        queued_every_s: float,
        retry_after_s: float,
        metrics: Metrics,
    ) -> None:
        self.limit = limit
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s
        self.queued_every_s = queued_every_s
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.running = 0
        self._waiting: deque[Ticket] = deque()

    def enter(self) -> Ticket:
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return Ticket(self, TicketState.ADMITTED)
        if len(self._waiting) >= self.max_queue:
            raise Overloaded(retry_after_s=self.retry_after_s)
        ticket = Ticket(self, TicketState.WAITING)
        self._waiting.append(ticket)
        self.metrics.queue_depth.set(len(self._waiting))
        return ticket

    def position(self, ticket: Ticket) -> int:
        return self._waiting.index(ticket) + 1

    def free_slot(self) -> None:
        if self._waiting:
            self._waiting.popleft().admit()  # the slot passes on; `running` is unchanged
            self.metrics.queue_depth.set(len(self._waiting))
        else:
            self.running -= 1

    def leave_queue(self, ticket: Ticket) -> None:
        self._waiting.remove(ticket)
        self.metrics.queue_depth.set(len(self._waiting))


class Ticket:
    """One request's claim on a slot; ``release`` it exactly once, whatever happened."""

    def __init__(self, gate: ConcurrencyGate, state: TicketState) -> None:
        self.gate = gate
        self.state = state
        self._admitted = asyncio.Event()

    def admit(self) -> None:
        self.state = TicketState.ADMITTED
        self._admitted.set()

    async def wait(self) -> AsyncIterator[int]:
        """Yield the queue position as it changes until admitted; raise ``QueueTimeout`` after
        the max wait."""
        gate = self.gate
        loop = asyncio.get_running_loop()
        deadline = loop.time() + gate.max_wait_s
        reported = 0
        while self.state is TicketState.WAITING:
            position = gate.position(self)
            if position != reported:
                reported = position
                yield position
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.release()
                gate.metrics.shed.labels("queue_timeout").inc()
                raise QueueTimeout(retry_after_s=gate.retry_after_s)
            try:
                async with asyncio.timeout(min(remaining, gate.queued_every_s)):
                    await self._admitted.wait()
            except TimeoutError:
                pass

    def release(self) -> bool:
        """Give the slot or queue place back; True the first time for an admitted ticket."""
        admitted = self.state is TicketState.ADMITTED
        if admitted:
            self.gate.free_slot()
        elif self.state is TicketState.WAITING:
            self.gate.leave_queue(self)
        self.state = TicketState.DONE
        return admitted
