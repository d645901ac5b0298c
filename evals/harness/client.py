"""Ask one case of ``POST /ask`` over SSE and record what the customer saw, and when.

Time to first token and latency are measured here, at the client, from sending the request to the
first ``token`` event and to the terminal event; the server's own figures from ``done`` are kept
beside them. Transport failures and HTTP errors become an observation with ``error`` set, never an
exception: one broken case must not stop a nightly run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from evals.harness.cases import Case
from rag.knowledge import TOOL_ID_SEPARATOR

Ranked = tuple[tuple[str, float], ...]


@dataclass
class Observation:
    """One answer to one case, as received."""

    trace_id: str = ""
    status: int = 0
    route: str = ""
    reason: str = ""
    context_reason: str | None = None  # why the service rewrote a follow-up (meta.context)
    model: str = ""
    citations: Ranked = ()
    retrieved: Ranked = ()
    answer: str = ""
    handoff: bool = False
    suggestions: tuple[str, ...] = ()  # entry ids a ``clarify`` event offered
    ticket_id: str = ""
    finish_reason: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cache_hit: bool = False
    ttft_ms: float | None = None
    latency_ms: float = 0.0
    server_ttft_ms: float | None = None
    server_latency_ms: float | None = None
    error: str | None = None
    grounding: Any = None
    """The faithfulness verdict (``faithfulness.AnswerGrounding``), set after the run."""
    _parts: list[str] = field(default_factory=list, repr=False)

    @property
    def refused(self) -> bool:
        """The service declined to answer (the out-of-scope route)."""
        return self.route == "out_of_scope"

    @property
    def clarified(self) -> bool:
        """The service asked which question the customer meant instead of answering."""
        return self.route == "clarify"

    def top_ids(self, k: int) -> list[str]:
        """The ids of the best ``k`` retrieved entries (citations when the target sends no
        ranked list). A cited tool result (``order:…``) comes first: the answer rests on it,
        and retrieval, which ranks FAQ entries only, never lists it."""
        ranked = [entry for entry, _ in self.retrieved or self.citations]
        tools = [entry for entry in self.tool_citations if entry not in ranked]
        return [*tools, *ranked][:k]

    @property
    def tool_citations(self) -> list[str]:
        """The cited tool results, by their ``tool:key`` ids."""
        return [entry for entry, _ in self.citations if TOOL_ID_SEPARATOR in entry]

    @property
    def top_score(self) -> float | None:
        """The retrieval score of the best entry, if any was retrieved."""
        ranked = self.retrieved or self.citations
        return ranked[0][1] if ranked else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record of the attempt (the answer text is kept short)."""
        return {
            "trace_id": self.trace_id,
            "status": self.status,
            "route": self.route,
            "reason": self.reason,
            "context_reason": self.context_reason,
            "model": self.model,
            "citations": [list(item) for item in self.citations],
            "retrieved": [list(item) for item in self.retrieved],
            "answer": self.answer[:300],
            "suggestions": list(self.suggestions),
            "finish_reason": self.finish_reason,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "cache_hit": self.cache_hit,
            "ttft_ms": self.ttft_ms,
            "latency_ms": self.latency_ms,
            "server_ttft_ms": self.server_ttft_ms,
            "server_latency_ms": self.server_latency_ms,
            "error": self.error,
            "grounding": self.grounding.to_json() if self.grounding is not None else None,
        }


async def ask_case(
    client: httpx.AsyncClient, case: Case, *, conversation_id: str | None = None
) -> Observation:
    """Send ``case`` to ``/ask`` (SSE), in ``conversation_id`` when given, and return what came
    back."""
    body: dict[str, str] = {"question": case.question}
    if case.locale:
        body["locale"] = case.locale
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    seen = Observation()
    started = time.perf_counter()
    try:
        async with client.stream(
            "POST", "/ask", json=body, headers={"accept": "text/event-stream"}
        ) as response:
            seen.status = response.status_code
            seen.trace_id = response.headers.get("x-trace-id", "")
            if response.status_code != 200:
                seen.error = _error_code(await response.aread(), response.status_code)
            else:
                await _read_events(response, seen, started)
    except httpx.HTTPError as exc:
        seen.error = f"transport:{type(exc).__name__}"
    seen.latency_ms = _ms_since(started)
    seen.answer = "".join(seen._parts)
    return seen


async def _read_events(response: httpx.Response, seen: Observation, started: float) -> None:
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif not line and data:
            _apply(event, orjson.loads(data), seen, started)
            event, data = "message", ""
    if not seen.finish_reason and seen.error is None:
        seen.error = "stream_ended_without_terminal_event"


def _apply(event: str, data: dict[str, Any], seen: Observation, started: float) -> None:
    if event == "token":
        if seen.ttft_ms is None:
            seen.ttft_ms = _ms_since(started)
        seen._parts.append(data.get("text", ""))
    elif event == "meta":
        seen.trace_id = data.get("trace_id", seen.trace_id)
        seen.route, seen.reason = data.get("route", ""), data.get("reason", "")
        seen.model = data.get("model", "")
        seen.context_reason = (data.get("context") or {}).get("reason")
    elif event == "evidence":
        seen.citations = _ranked(data.get("citations", []))
        seen.retrieved = _ranked(data.get("retrieved", []))
    elif event == "handoff":
        seen.handoff = True
        seen.ticket_id = str(data.get("ticket_id") or "")
    elif event == "clarify":
        seen.suggestions = tuple(str(item["id"]) for item in data.get("suggestions", []))
    elif event == "done":
        _apply_done(data, seen)
    elif event == "error":
        seen.error = str(data.get("code", "error"))
        seen.finish_reason = "error"


def _apply_done(data: dict[str, Any], seen: Observation) -> None:
    usage = data.get("usage") or {}
    seen.finish_reason = data.get("finish_reason", "stop")
    seen.tokens_in = int(usage.get("input_tokens", 0))
    seen.tokens_out = int(usage.get("output_tokens", 0))
    seen.cost_usd = float(data.get("cost_usd", 0.0))
    seen.cache_hit = bool(data.get("cache_hit", False))
    seen.server_ttft_ms = data.get("ttft_ms")
    seen.server_latency_ms = data.get("latency_ms")


def _ranked(items: list[dict[str, Any]]) -> Ranked:
    return tuple((str(item["id"]), float(item.get("score", 0.0))) for item in items)


def _error_code(body: bytes, status: int) -> str:
    try:
        error = orjson.loads(body).get("error", {})
        return str(error.get("code", f"http_{status}"))
    except (orjson.JSONDecodeError, AttributeError):
        return f"http_{status}"


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
