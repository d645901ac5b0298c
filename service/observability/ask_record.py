"""The per-request record: one canonical ``ask_completed`` log line, its metrics and its cost.

The pipeline fills an ``AskRecord`` as the request runs and hands it to ``Accountant.finish``
exactly once, in the stream's ``finally``: whatever failed, the request is accounted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from service.errors import ServiceError, Shed
from service.observability.cost import Pricing
from service.observability.metrics import Metrics

log = structlog.get_logger("beacon.ask")


@dataclass(slots=True)
class AskRecord:
    trace_id: str
    span_id: str
    conversation_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    route: str = "none"
    route_reason: str = ""
    tier: str = "none"
    model: str = "none"
    prompt_version: str = ""
    kb_version: str = ""
    lang: str = ""
    retrieval_ids: list[str] = field(default_factory=list)
    retrieval_scores: list[float] = field(default_factory=list)
    tool_calls: list[str] = field(default_factory=list)
    guard_signals: list[str] = field(default_factory=list)
    cache_hit: bool = False
    first_token_at: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    outcome: str = "error"
    error_layer: str | None = None
    error_code: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    fallbacks: list[str] = field(default_factory=list)
    degraded_parts: list[str] = field(default_factory=list)  # answered without them (no error)
    question: str | None = None
    answer: str | None = None

    @property
    def ttft_ms(self) -> float | None:
        if self.first_token_at is None:
            return None
        return round((self.first_token_at - self.started) * 1000, 3)

    def latency_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)

    def fail(self, error: ServiceError) -> None:
        self.outcome = "refused" if error.code == "input_rejected" else "error"
        if isinstance(error, Shed):  # admitted, then shed: the queue wait ran out
            self.outcome = "shed"
        self.error_layer = error.layer
        self.error_code = error.code

    def log_fields(self, latency_ms: float) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "conversation_id": self.conversation_id,
            "route": self.route,
            "route_reason": self.route_reason,
            "tier": self.tier,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "kb_version": self.kb_version,
            "lang": self.lang,
            "retrieval_ids": self.retrieval_ids,
            "retrieval_scores": self.retrieval_scores,
            "tool_calls": self.tool_calls,
            "guard_signals": self.guard_signals,
            "cache_hit": self.cache_hit,
            "ttft_ms": self.ttft_ms,
            "latency_ms": latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "outcome": self.outcome,
            "error_layer": self.error_layer,
            "error_code": self.error_code,
            "redactions": self.redactions,
            "fallbacks": self.fallbacks,
        }
        if self.degraded_parts:
            fields["degraded"] = True
            fields["degraded_parts"] = self.degraded_parts
        if self.question is not None:
            fields["question"] = self.question
        if self.answer is not None:
            fields["answer"] = self.answer
        return fields


class Accountant:
    """Turns a finished ``AskRecord`` into its log line, metric increments and cost."""

    def __init__(self, *, metrics: Metrics, pricing: Pricing) -> None:
        self.metrics = metrics
        self.pricing = pricing

    def cost_of(self, record: AskRecord) -> float:
        if record.model in ("none", "faq"):
            return 0.0
        return self.pricing.cost_usd(
            record.model, tokens_in=record.tokens_in, tokens_out=record.tokens_out
        )

    def finish(self, record: AskRecord) -> dict[str, Any]:
        latency_ms = record.latency_ms()
        record.cost_usd = round(self.cost_of(record), 8)
        self._observe(record, latency_ms)
        fields = record.log_fields(latency_ms)
        log.info("ask_completed", **fields)
        return fields

    def _observe(self, record: AskRecord, latency_ms: float) -> None:
        m = self.metrics
        exemplar = {"trace_id": record.trace_id}
        m.requests.labels(record.route, record.outcome).inc()
        m.request_duration.labels(record.route).observe(latency_ms / 1000, exemplar)
        if record.ttft_ms is not None:
            m.ttft.labels(record.route, record.model).observe(record.ttft_ms / 1000, exemplar)
        if record.model != "none":
            m.tokens.labels(record.model, "input").inc(record.tokens_in)
            m.tokens.labels(record.model, "output").inc(record.tokens_out)
            m.cost.labels(record.model).inc(record.cost_usd)
        if record.error_code is not None and record.error_layer is not None:
            m.errors.labels(record.error_layer, record.error_code).inc()
        if record.outcome == "refused":
            m.refusals.inc()
        _count_kinds(m, record.redactions)


def _count_kinds(metrics: Metrics, redactions: Mapping[str, int]) -> None:
    for kind, count in redactions.items():
        metrics.redactions.labels(kind).inc(count)
