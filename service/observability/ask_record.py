"""The per-request outcome: one canonical ``ask_completed`` log line, its metrics and its cost.

``AskOutcome`` is immutable and built once, when a request ends (however it ended); the
``Accountant`` turns it into the log line and every per-request metric. Nothing here knows the
pipeline: it is handed plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from service.observability.cost import Pricing
from service.observability.metrics import Metrics
from service.providers.base import Usage

log = structlog.get_logger("beacon.ask")


@dataclass(frozen=True, slots=True)
class ModelCall:
    """A model call the request made besides its answer (a follow-up condensed), and its cost."""

    purpose: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class AskOutcome:
    trace_id: str
    span_id: str
    outcome: str
    """ok | refused | handoff | error | client_disconnected | shed"""
    latency_ms: float
    conversation_id: str | None = None
    channel: str | None = None
    customer_id: str | None = None
    """As the client sent it (not authenticated): for support staff to find a customer's asks."""
    route: str = "none"
    route_reason: str = ""
    tier: str = "none"
    model: str = "none"
    prompt_version: str = ""
    kb_version: str = ""
    lang: str = ""
    retrieval_ids: tuple[str, ...] = ()
    retrieval_scores: tuple[float, ...] = ()
    tool_calls: tuple[str, ...] = ()
    guard_signals: tuple[str, ...] = ()
    cache_hit: bool = False
    ttft_ms: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    """The answer's cost; the log line's ``cost_usd`` adds the side calls' (``total_cost_usd``)."""
    side_calls: tuple[ModelCall, ...] = ()
    error_layer: str | None = None
    error_code: str | None = None
    redactions: tuple[tuple[str, int], ...] = ()
    fallbacks: tuple[tuple[str, str], ...] = ()
    """(from, to) per step taken, in order."""
    handoff_reason: str | None = None
    grounded: str | None = None
    unsupported_claims: tuple[tuple[str, str], ...] = ()
    """(kind, text) of each claim the evidence did not support; the text is redacted."""
    question: str | None = None
    answer: str | None = None

    @property
    def total_cost_usd(self) -> float:
        """What the request cost: its answer and every side call."""
        return round(self.cost_usd + sum(call.cost_usd for call in self.side_calls), 8)

    def log_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "customer_id": self.customer_id,
            "route": self.route,
            "route_reason": self.route_reason,
            "tier": self.tier,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "kb_version": self.kb_version,
            "lang": self.lang,
            "retrieval_ids": list(self.retrieval_ids),
            "retrieval_scores": list(self.retrieval_scores),
            "tool_calls": list(self.tool_calls),
            "guard_signals": list(self.guard_signals),
            "cache_hit": self.cache_hit,
            "ttft_ms": self.ttft_ms,
            "latency_ms": self.latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.total_cost_usd,
            "outcome": self.outcome,
            "error_layer": self.error_layer,
            "error_code": self.error_code,
            "redactions": dict(self.redactions),
            "fallbacks": [f"{source}->{target}" for source, target in self.fallbacks],
        }
        if self.side_calls:
            fields["side_calls"] = [
                {
                    "purpose": call.purpose,
                    "model": call.model,
                    "tokens_in": call.tokens_in,
                    "tokens_out": call.tokens_out,
                    "cost_usd": call.cost_usd,
                }
                for call in self.side_calls
            ]
        if self.grounded is not None:
            fields["grounded"] = self.grounded
            fields["unsupported_claims"] = [
                f"{kind}: {text}" for kind, text in self.unsupported_claims
            ]
        if self.question is not None:
            fields["question"] = self.question
        if self.answer is not None:
            fields["answer"] = self.answer
        return fields


class Accountant:
    """Turns a finished request's ``AskOutcome`` into its log line and metric increments."""

    def __init__(self, *, metrics: Metrics, pricing: Pricing) -> None:
        self.metrics = metrics
        self.pricing = pricing

    def cost_of(self, model: str, *, tokens_in: int, tokens_out: int) -> float:
        if model in ("none", "faq"):
            return 0.0
        cost = self.pricing.cost_usd(model, tokens_in=tokens_in, tokens_out=tokens_out)
        return round(cost, 8)

    def side_call(self, purpose: str, usage: Usage) -> ModelCall:
        """The cost record of a side call its provider filled ``usage`` in for."""
        tokens_in, tokens_out = usage.tokens_in, usage.tokens_out
        cost = self.cost_of(usage.model, tokens_in=tokens_in, tokens_out=tokens_out)
        return ModelCall(purpose, usage.model, tokens_in, tokens_out, cost)

    def background_call(self, purpose: str, usage: Usage) -> None:
        """Price, count and log a model call no request owns (a summary refreshed later)."""
        call = self.side_call(purpose, usage)
        self._count(call)
        log.info(
            "model_call_completed",
            purpose=call.purpose,
            model=call.model,
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
            cost_usd=call.cost_usd,
        )

    def _count(self, call: ModelCall) -> None:
        self.metrics.tokens.labels(call.model, "input").inc(call.tokens_in)
        self.metrics.tokens.labels(call.model, "output").inc(call.tokens_out)
        self.metrics.cost.labels(call.model).inc(call.cost_usd)

    def finish(self, outcome: AskOutcome) -> None:
        self._observe(outcome)
        log.info("ask_completed", **outcome.log_fields())

    def _observe(self, outcome: AskOutcome) -> None:
        m = self.metrics
        exemplar = {"trace_id": outcome.trace_id}
        m.requests.labels(outcome.route, outcome.outcome).inc()
        m.requests_by_channel.labels(outcome.channel or "none").inc()
        m.request_duration.labels(outcome.route).observe(outcome.latency_ms / 1000, exemplar)
        if outcome.ttft_ms is not None:
            ttft_s = outcome.ttft_ms / 1000
            m.ttft.labels(outcome.route, outcome.model).observe(ttft_s, exemplar)
        if outcome.model != "none":
            m.tokens.labels(outcome.model, "input").inc(outcome.tokens_in)
            m.tokens.labels(outcome.model, "output").inc(outcome.tokens_out)
            m.cost.labels(outcome.model).inc(outcome.cost_usd)
        for call in outcome.side_calls:
            self._count(call)
        if outcome.error_code is not None and outcome.error_layer is not None:
            m.errors.labels(outcome.error_layer, outcome.error_code).inc()
        if outcome.outcome == "refused":
            m.refusals.inc()
        if outcome.handoff_reason is not None:
            m.handoffs.labels(outcome.handoff_reason).inc()
        for source, target in outcome.fallbacks:
            m.fallbacks.labels(source, target).inc()
        for kind, count in outcome.redactions:
            m.redactions.labels(kind).inc(count)
        if outcome.grounded is not None:
            m.grounded_answers.labels(outcome.grounded).inc()
        for kind, _ in outcome.unsupported_claims:
            m.ungrounded_claims.labels(kind).inc()
