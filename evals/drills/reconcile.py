"""Nothing lost: every request the service accepted is accounted exactly once, everywhere.

A request is accepted once the pipeline has it (authenticated, its body valid): either its plan
refused it with an HTTP error (guard 400, rate limit or queue 429) or it streamed (200). For
accepted requests, by trace id:

    accepted = terminal events received + clients that left first + plan refusals
             = ask_completed log lines
             = beacon_requests_total increments

and for refusals at the door (401/413/422): door refusals = ``request_rejected`` lines. Once the
burst has settled nothing may still be open: ``beacon_in_flight_requests``,
``beacon_queue_depth`` and the simulator's ``streams_open`` are all back to 0.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from evals.drills.drill import DrillRun


@dataclass(frozen=True, slots=True)
class Reconciliation:
    sent: int
    accepted: int
    """Streams (200) plus plan refusals."""
    plan_refusals: int
    """Non-200 answers the pipeline accounted (an ``ask_completed`` line with their trace id)."""
    refused: int
    terminal_events: int
    client_disconnects: int
    ask_completed_lines: int
    requests_total: int
    request_rejected_lines: int
    trace_ids_unmatched: int
    """Accepted trace ids without exactly one ``ask_completed`` line, plus lines without one."""
    streams_with_extra_terminals: int
    """Streams with more than one terminal event, or events after it."""
    in_flight_after: int
    queue_depth_after: int
    upstream_open_after: int
    client_errors: int
    """Transport errors on the client side (connection refused, reset...)."""

    @property
    def differences(self) -> dict[str, int]:
        return {
            "accepted - (terminal + disconnects + plan refusals)": self.accepted
            - self.terminal_events
            - self.client_disconnects
            - self.plan_refusals,
            "accepted - ask_completed": self.accepted - self.ask_completed_lines,
            "accepted - requests_total": self.accepted - self.requests_total,
            "refused - (plan refusals + request_rejected)": self.refused
            - self.plan_refusals
            - self.request_rejected_lines,
            "unmatched trace ids": self.trace_ids_unmatched,
            "extra terminal events": self.streams_with_extra_terminals,
            "in flight after": self.in_flight_after,
            "queue depth after": self.queue_depth_after,
            "upstream streams open after": self.upstream_open_after,
            "client transport errors": self.client_errors,
        }

    @property
    def exact(self) -> bool:
        return not any(self.differences.values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "differences": self.differences, "exact": self.exact}


def reconcile(run: DrillRun) -> Reconciliation:
    streams = run.accepted
    lines = run.lines()
    line_ids = Counter(line.get("trace_id") for line in lines)
    refused = [r for r in run.results if r.status not in (0, 200)]
    planned = [r for r in refused if r.trace_id in line_ids]
    accepted_ids = Counter(result.trace_id for result in (*streams, *planned))
    unmatched = sum(1 for trace_id in accepted_ids if line_ids[trace_id] != 1)
    unmatched += sum(1 for trace_id in line_ids if trace_id not in accepted_ids)
    unmatched += sum(count - 1 for count in accepted_ids.values())
    return Reconciliation(
        sent=len(run.results),
        accepted=len(streams) + len(planned),
        plan_refusals=len(planned),
        refused=len(refused),
        terminal_events=sum(1 for r in streams if r.terminal is not None),
        client_disconnects=sum(1 for r in streams if r.disconnected and r.terminal is None),
        ask_completed_lines=len(lines),
        requests_total=round(run.delta("beacon_requests_total")),
        request_rejected_lines=len(run.lines("request_rejected")),
        trace_ids_unmatched=unmatched,
        streams_with_extra_terminals=sum(1 for r in streams if _extra_terminals(r.events)),
        in_flight_after=round(run.after.value("beacon_in_flight_requests")),
        queue_depth_after=round(run.after.value("beacon_queue_depth")),
        upstream_open_after=int(run.simulator.get("streams_open", 0)),
        client_errors=sum(1 for r in run.results if r.transport_error is not None),
    )


def _extra_terminals(events: list[tuple[str, dict[str, Any]]]) -> bool:
    names = [name for name, _ in events]
    terminal_at = [i for i, name in enumerate(names) if name in ("done", "error")]
    return len(terminal_at) > 1 or (bool(terminal_at) and terminal_at[0] != len(names) - 1)
