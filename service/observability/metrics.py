"""Prometheus metrics over an injected registry; label values come from closed sets only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from service.errors import (
    BodyTooLarge,
    IndexUnavailable,
    InputRejected,
    InternalError,
    InvalidRequest,
    Overloaded,
    ProviderBadResponse,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RetrievalFailed,
    ServiceError,
    ToolFailed,
    ToolTimeout,
    Unauthorized,
)

ROUTES = ("faq", "easy", "hard", "risky", "out_of_scope", "tool", "clarify", "none")
CHANNELS = ("web", "app", "chat", "email", "api", "none")
OUTCOMES = ("ok", "refused", "handoff", "error", "client_disconnected", "shed")
KNOWN_ERRORS: tuple[type[ServiceError], ...] = (
    InvalidRequest, BodyTooLarge, Unauthorized, InputRejected, RateLimited, Overloaded,
    ProviderTimeout, ProviderRateLimited, ProviderUnavailable, ProviderBadResponse,
    ToolTimeout, ToolFailed, IndexUnavailable, RetrievalFailed, InternalError,
)  # fmt: skip
SHED_REASONS = ("rate_limited", "queue_full", "queue_timeout", "body_too_large", "unauthorized")
HANDOFF_REASONS = ("risk_terms", "guard_conservative", "fallback", "customer_request")
REDACTION_KINDS = (
    "email", "phone", "card", "cn_id", "iban", "ssn", "ip_address", "secret", "canary", "markup",
)  # fmt: skip
CACHE_RESULTS = ("hit", "miss", "error")
TOOLS = ("get_order_status",)
STATE_FEATURES = ("cache", "rate_limit", "slots", "breaker", "conversations", "turns", "feedback")
STATE_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5)
# Grounding: the verdict on an answer's claims, and the kinds of claims found unsupported.
GROUNDED_VERDICTS = ("verbatim", "supported", "unsupported")
CLAIM_KINDS = (
    *("amount", "duration", "percent", "date", "time", "phone", "url", "email"),
    *("identifier", "term", "number"),
)
FEEDBACK_RATINGS = ("up", "down")

TTFT_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0)
RETRIEVAL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """Every Beacon metric, registered on one registry (a fresh one per app in tests)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        models: Iterable[str] = ("faq",),
        enabled: bool = True,
    ) -> None:
        self.registry = registry
        self.enabled = enabled
        r = registry
        self.requests = Counter(
            "beacon_requests",
            "Accepted /ask requests by route and outcome.",
            ["route", "outcome"],
            registry=r,
        )
        self.requests_by_channel = Counter(
            "beacon_requests_by_channel",
            "Accepted /ask requests by the channel the customer asked from.",
            ["channel"],
            registry=r,
        )
        self.request_duration = Histogram(
            "beacon_request_duration_seconds",
            "Time from request to terminal event.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "beacon_time_to_first_token_seconds",
            "Time from request to the first answer token.",
            ["route", "model"],
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "beacon_tokens", "Model tokens by direction.", ["model", "direction"], registry=r
        )
        self.cost = Counter(
            "beacon_cost_usd", "Estimated model cost in US dollars.", ["model"], registry=r
        )
        self.errors = Counter(
            "beacon_errors", "Errors by layer and code.", ["layer", "code"], registry=r
        )
        self.fallbacks = Counter(
            "beacon_fallbacks",
            "Fallbacks taken between answer sources.",
            ["from", "to"],
            registry=r,
        )
        self.in_flight = Gauge(
            "beacon_in_flight_requests", "Requests being answered now.", registry=r
        )
        self.queue_depth = Gauge(
            "beacon_queue_depth", "Requests waiting for admission.", registry=r
        )
        self.shed = Counter(
            "beacon_shed", "Requests refused by admission control.", ["reason"], registry=r
        )
        self.retrieval_duration = Histogram(
            "beacon_retrieval_duration_seconds",
            "FAQ search time.",
            buckets=RETRIEVAL_BUCKETS,
            registry=r,
        )
        self.retrieval_empty = Counter(
            "beacon_retrieval_empty", "Searches that found no usable evidence.", registry=r
        )
        self.redactions = Counter(
            "beacon_redactions", "Redacted spans by kind.", ["kind"], registry=r
        )
        self.refusals = Counter(
            "beacon_refusals", "Questions refused (out of scope or rejected).", registry=r
        )
        self.handoffs = Counter(
            "beacon_handoffs", "Conversations handed to a human.", ["reason"], registry=r
        )
        self.cache_requests = Counter(
            "beacon_cache_requests", "Answer cache lookups.", ["result"], registry=r
        )
        self.tool_denied = Counter(
            "beacon_tool_denied",
            "Tool calls refused because the caller does not own the record (answered as missing).",
            ["tool"],
            registry=r,
        )
        self.grounded_answers = Counter(
            "beacon_grounded_answers",
            "Answers by grounding verdict (verbatim: FAQ text, not checked).",
            ["grounded"],
            registry=r,
        )
        self.ungrounded_claims = Counter(
            "beacon_ungrounded_claims",
            "Claims the cited evidence did not support, by kind (held back from the client).",
            ["kind"],
            registry=r,
        )
        self.circuit_open = Gauge(
            "beacon_circuit_open",
            "1 while a model's circuit breaker is open.",
            ["model"],
            registry=r,
        )
        self.state_duration = Histogram(
            "beacon_state_duration_seconds",
            "Shared-state (Redis) call time by feature.",
            ["feature"],
            buckets=STATE_BUCKETS,
            registry=r,
        )
        self.state_errors = Counter(
            "beacon_state_errors",
            "Shared-state calls that failed or were skipped while Redis was unavailable.",
            ["feature"],
            registry=r,
        )
        self.state_up = Gauge(
            "beacon_state_up",
            "1 while the shared-state store answers (always 1 for in-process state).",
            registry=r,
        )
        self.state_up.set(1)
        self.feedback = Counter(
            "beacon_feedback", "Customer ratings of answers.", ["rating"], registry=r
        )
        self._preinitialise(models)
        if not enabled:
            self._disable()

    def _preinitialise(self, models: Iterable[str]) -> None:
        """Create every closed label combination so dashboards and alerts see zeros, not gaps."""
        for route in ROUTES:
            self.request_duration.labels(route)
            for outcome in OUTCOMES:
                self.requests.labels(route, outcome)
        for channel in CHANNELS:
            self.requests_by_channel.labels(channel)
        for model in models:
            self.add_model(model)
        for error in KNOWN_ERRORS:
            self.errors.labels(error.layer, error.code)
        for reason in SHED_REASONS:
            self.shed.labels(reason)
        for reason in HANDOFF_REASONS:
            self.handoffs.labels(reason)
        for kind in REDACTION_KINDS:
            self.redactions.labels(kind)
        for result in CACHE_RESULTS:
            self.cache_requests.labels(result)
        for tool in TOOLS:
            self.tool_denied.labels(tool)
        for feature in STATE_FEATURES:
            self.state_duration.labels(feature)
            self.state_errors.labels(feature)
        for verdict in GROUNDED_VERDICTS:
            self.grounded_answers.labels(verdict)
        for kind in CLAIM_KINDS:
            self.ungrounded_claims.labels(kind)
        for rating in FEEDBACK_RATINGS:
            self.feedback.labels(rating)

    def _disable(self) -> None:
        """Swap every metric for a no-op and empty the registry (overhead measurements only).

        Generic over the attributes, so a metric added to ``__init__`` is covered too."""
        for name, metric in list(vars(self).items()):
            if isinstance(metric, MetricWrapperBase):
                self.registry.unregister(metric)
                setattr(self, name, _NULL_METRIC)

    def add_model(self, model: str) -> None:
        for route in ROUTES:
            self.ttft.labels(route, model)
        self.tokens.labels(model, "input")
        self.tokens.labels(model, "output")
        self.cost.labels(model)
        self.circuit_open.labels(model)


class _NullMetric:
    """Accepts every call a Counter, Gauge or Histogram does, and records nothing."""

    def labels(self, *_: Any, **__: Any) -> _NullMetric:
        return self

    def inc(self, *_: Any, **__: Any) -> None:
        return None

    dec = set = observe = inc


_NULL_METRIC = _NullMetric()
