"""The tool step: a question carrying an order number gets that order's status as evidence.

The lookup is scoped to the authenticated caller (``context.caller``). A lookup that fails
(after the tool's own retry) hands the request over to a person: ``tool->handoff``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.language import Lang
from rag.retriever import Evidence
from service.errors import ToolError
from service.resilience.degrade import Fallback
from service.tools.order_number import find_order_id
from service.tools.order_status import order_evidence

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.pipeline.retrieve import Retrieval


@dataclass(frozen=True, slots=True)
class ToolResult:
    evidence: Evidence | None = None
    calls: tuple[str, ...] = ()
    """Every call attempt and its result, as the log line's ``tool_calls`` lists them."""
    fallback: Fallback | None = None

    def evidence_with(self, retrieval: Retrieval) -> list[Evidence] | None:
        """The tool's result cited first, then the FAQ's; None when a step failed."""
        if retrieval.failed or self.fallback is not None:
            return None
        found = list(retrieval.evidence)
        return [self.evidence, *found] if self.evidence is not None else found


NO_TOOL = ToolResult()


async def call_tools(
    question: str, lang: Lang, retrieval: Retrieval, context: AskContext
) -> ToolResult:
    """Step: look the order up when the question names one (and retrieval worked)."""
    order_id = find_order_id(question)
    if order_id is None or retrieval.failed:
        return NO_TOOL
    calls: list[str] = []
    with context.span("beacon.tool"):
        try:
            status = await context.services.orders.get_order_status(order_id, calls)
        except ToolError as error:
            fallback = Fallback.after(error, source="tool", target="handoff")
            return ToolResult(calls=tuple(calls), fallback=fallback)
    return ToolResult(order_evidence(status, lang), tuple(calls))
