"""Counters that tests, drills and benchmarks read from ``GET /stats``.

"Streams" are chat completions in flight, streaming or not (a non-streaming completion is a
stream of one body), so a drill can check cancellation whichever way Beacon calls the model.
Counters change once per request, never per token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from evals.upstream.config import Fault

NO_FAULT = "none"


class StreamOutcome(StrEnum):
    COMPLETED = "completed"
    """Everything was sent, up to ``[DONE]`` (or the whole JSON body)."""
    CANCELLED = "cancelled"
    """The client disconnected before the end."""
    FAULTED = "faulted"
    """The simulator cut the response short or broke it on purpose (reset, malformed, no_done)."""


class SimulatorStats:
    """In-process counters; ``reset`` zeroes all but ``streams_open``, which is a gauge."""

    def __init__(self) -> None:
        self.streams_open = 0
        self.reset()

    def reset(self) -> None:
        self.requests_total = dict.fromkeys([NO_FAULT, *(fault.value for fault in Fault)], 0)
        self.requests_rejected = 0
        self.outcomes = dict.fromkeys(StreamOutcome, 0)
        self.completion_tokens_total = 0
        self.last_disconnect_ms: float | None = None
        self.unfaithful_mode_answers: dict[str, int] = {}

    def count_request(self, fault: Fault | None) -> None:
        self.requests_total[fault.value if fault else NO_FAULT] += 1

    def count_answer(self, mutation: str) -> None:
        """An unfaithful-mode answer and how it was corrupted (``"none"``: it was not)."""
        self.unfaithful_mode_answers[mutation] = self.unfaithful_mode_answers.get(mutation, 0) + 1

    def count_rejected(self) -> None:
        self.requests_rejected += 1

    def open_stream(self) -> None:
        self.streams_open += 1

    def close_stream(
        self, outcome: StreamOutcome, *, tokens_sent: int, disconnect_ms: float | None
    ) -> None:
        """Record how a stream ended; ``disconnect_ms`` is idle time before a disconnect."""
        self.streams_open -= 1
        self.outcomes[outcome] += 1
        self.completion_tokens_total += tokens_sent
        if disconnect_ms is not None:
            self.last_disconnect_ms = round(disconnect_ms, 3)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_total": dict(self.requests_total),
            "requests_rejected": self.requests_rejected,
            "streams_open": self.streams_open,
            "streams_completed": self.outcomes[StreamOutcome.COMPLETED],
            "streams_cancelled": self.outcomes[StreamOutcome.CANCELLED],
            "streams_faulted": self.outcomes[StreamOutcome.FAULTED],
            "completion_tokens_total": self.completion_tokens_total,
            "last_disconnect_ms": self.last_disconnect_ms,
            **(
                {"unfaithful_mode_answers": dict(self.unfaithful_mode_answers)}
                if self.unfaithful_mode_answers
                else {}
            ),
        }
