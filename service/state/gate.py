"""The admission gate over shared slots: the concurrency limit and queue hold across replicas.

``SharedGate.enter`` hands out a ``SharedTicket`` at once; its ``wait`` asks Redis for a slot
every ``poll_s`` and yields the queue position as it changes, exactly like the in-process
``Ticket`` (``service/admission/gate.py``): 429 ``overloaded`` when the shared queue is full,
``QueueTimeout`` after ``max_wait_s``. When Redis cannot be reached the ticket falls back to
this replica's local gate (its ``local_share`` of the limits). ``release`` is synchronous, as the
accounting calls it; the slot is given back in Redis by a task (a lost release costs capacity
only until the slot's lease expires).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

from service.admission.control import Gate, Slot
from service.admission.gate import TicketState
from service.errors import Overloaded, QueueTimeout
from service.observability.metrics import Metrics
from service.state.health import STATE_ERRORS
from service.state.slots import SharedSlots


class SharedGate:
    def __init__(
        self, slots: SharedSlots, *, local: Gate, metrics: Metrics, poll_s: float = 0.05
    ) -> None:
        self.slots = slots
        self.local = local
        self.metrics = metrics
        self.poll_s = poll_s
        self._releases: set[asyncio.Task[None]] = set()

    def enter(self) -> SharedTicket:
        return SharedTicket(self)

    def release_later(self, ticket_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._release(ticket_id))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, ticket_id: str) -> None:
        try:
            await self.slots.release(ticket_id)
        except STATE_ERRORS:
            return  # the lease frees the slot


class SharedTicket:
    def __init__(self, gate: SharedGate) -> None:
        self.gate = gate
        self.id = secrets.token_hex(12)
        self.state = TicketState.WAITING
        self._local: Slot | None = None

    async def wait(self) -> AsyncIterator[int]:
        gate, slots = self.gate, self.gate.slots
        loop = asyncio.get_running_loop()
        deadline = loop.time() + slots.max_wait_s
        reported = 0
        while True:
            try:
                place = await slots.enter(self.id)
            except Overloaded:
                self.state = TicketState.DONE
                gate.metrics.shed.labels("queue_full").inc()
                raise
            except STATE_ERRORS:
                async for position in self._wait_locally():
                    yield position
                return
            if place == 0:
                self.state = TicketState.ADMITTED
                return
            if place != reported:
                reported = place
                yield place
            if loop.time() >= deadline:
                self.release()
                gate.metrics.shed.labels("queue_timeout").inc()
                raise QueueTimeout(retry_after_s=slots.retry_after_s)
            await asyncio.sleep(gate.poll_s)

    async def _wait_locally(self) -> AsyncIterator[int]:
        self.gate.release_later(self.id)  # whatever Redis may hold for us
        try:
            self._local = self.gate.local.enter()
        except Overloaded:
            self.state = TicketState.DONE
            self.gate.metrics.shed.labels("queue_full").inc()
            raise
        async for position in self._local.wait():
            yield position
        self.state = TicketState.ADMITTED

    def release(self) -> bool:
        """Give the slot or queue place back; True the first time for an admitted ticket."""
        if self._local is not None:
            self.state = TicketState.DONE
            return self._local.release()
        admitted = self.state is TicketState.ADMITTED
        if self.state is not TicketState.DONE:
            self.gate.release_later(self.id)
        self.state = TicketState.DONE
        return admitted
