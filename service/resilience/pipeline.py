"""The pipeline's degradation steps: each failure becomes the next-best answer, recorded once.

=============================  ==========================================  ==================
failure                        what the customer gets                      fallback label
=============================  ==========================================  ==================
index down, search too slow    a handoff to a person, with a ticket        retrieval->handoff
no evidence at all             the polite refusal (the router's own rule)  -
router output unparseable      the strong model (it can answer anything)   router->hard
order lookup fails twice       a handoff to a person, with a ticket        tool->handoff
model fails before 1st token   cheap model, FAQ answer, then handoff       hard->easy, ...
model fails after 1st token    one ``error`` event, nothing spliced on     -
=============================  ==========================================  ==================
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.language import Lang
from rag.retriever import Evidence
from service.errors import DataError, ProviderBadResponse, ServiceError, ToolError
from service.faults import FaultPoint, fault_active
from service.observability.ask_record import AskRecord
from service.observability.metrics import Metrics
from service.pipeline.generation import AnswerPlan
from service.pipeline.route import (
    Route,
    RouteDecision,
    RouteFeatures,
    RouteThresholds,
    choose_route,
)
from service.resilience.degrade import record_fallback
from service.resilience.fallback import ResilientGenerator
from service.resilience.retrieval import GuardedRetriever
from service.tools.order_status import OrderStatusTool, order_evidence

FALLBACK_HANDOFF_REASON = "fallback"


class Resilience:
    def __init__(
        self,
        *,
        retriever: GuardedRetriever,
        orders: OrderStatusTool,
        generator: ResilientGenerator,
        metrics: Metrics,
    ) -> None:
        self.retriever = retriever
        self.orders = orders
        self.generator = generator
        self.metrics = metrics

    async def search(self, question: str, *, k: int, record: AskRecord) -> list[Evidence] | None:
        """The evidence, or None when retrieval failed (the request is then handed off)."""
        try:
            return await self.retriever.search(question, k=k)
        except DataError as error:
            self._fallback(record, "retrieval", "handoff", error)
            return None

    def route(
        self,
        features: RouteFeatures,
        thresholds: RouteThresholds,
        record: AskRecord,
        *,
        retrieved: bool,
    ) -> RouteDecision:
        if not retrieved:
            return RouteDecision(Route.RISKY, "retrieval_failed", features)
        if fault_active(FaultPoint.ROUTER_PARSE):
            # An unparseable routing decision: the strong model can answer whatever the cheap
            # one could, and the generation fallback chain still stands behind it.
            self._fallback(record, "router", "hard", ProviderBadResponse())
            return RouteDecision(Route.HARD, "router_fallback", features)
        return choose_route(features, thresholds)

    async def with_order_status(
        self, order_id: str, evidence: Sequence[Evidence], lang: Lang, record: AskRecord
    ) -> list[Evidence] | None:
        """The order's status cited first, or None when the lookup failed (then: handoff)."""
        try:
            status = await self.orders.get_order_status(order_id, record.tool_calls)
        except ToolError as error:
            self._fallback(record, "tool", "handoff", error)
            return None
        return [order_evidence(status, lang), *evidence]

    def handoff_plan(self, lang: Lang, ticket_id: str) -> AnswerPlan:
        """A person takes over when Beacon cannot answer reliably (a failed step upstream)."""
        return AnswerPlan(
            tier="none",
            model="none",
            lang=lang,
            citations=(),
            text=self.generator.handoff_text(lang, ticket_id),
            handoff_reason=FALLBACK_HANDOFF_REASON,
            ticket_id=ticket_id,
            outcome="handoff",
            finish_reason="handoff",
        )

    def _fallback(self, record: AskRecord, source: str, target: str, cause: ServiceError) -> None:
        record_fallback(record, self.metrics, source=source, target=target, cause=cause)
