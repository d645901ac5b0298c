"""The retrieve step: hybrid FAQ search, remembered per question, within its deadline.

A search that fails (index down, too slow) is not an error for the customer: the plan hands the
request over to a person, and the step says so with its ``fallback``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.retriever import Evidence
from service.errors import DataError
from service.resilience.degrade import Fallback

if TYPE_CHECKING:
    from service.pipeline.context import AskContext


@dataclass(frozen=True, slots=True)
class Retrieval:
    evidence: tuple[Evidence, ...]
    """Ranked candidates; empty when nothing matched or the search failed."""
    fallback: Fallback | None = None
    """Set when the search failed: ``retrieval->handoff``."""

    @property
    def failed(self) -> bool:
        return self.fallback is not None


async def retrieve_evidence(question: str, context: AskContext) -> Retrieval:
    """Step: the evidence for ``question`` (the guard-normalised or standalone question)."""
    services = context.services
    cache, kb_version = services.cache, services.retriever.kb_version
    with context.span("beacon.retrieve") as span:
        started = time.perf_counter()
        found = cache.search(question, kb_version) if cache is not None else None
        if found is None:
            try:
                found = await services.retriever.search(question, k=services.config.top_k)
            except DataError as error:
                services.metrics.retrieval_duration.observe(time.perf_counter() - started)
                return Retrieval((), Fallback.after(error, source="retrieval", target="handoff"))
            if cache is not None:
                cache.remember_search(question, kb_version, found)
        services.metrics.retrieval_duration.observe(time.perf_counter() - started)
        span.set_attribute("beacon.retrieval.ids", [item.id for item in found])
        span.set_attribute("beacon.retrieval.scores", [round(item.score, 4) for item in found])
    if not found or found[0].score < services.config.thresholds.answer_min_score:
        services.metrics.retrieval_empty.inc()
    return Retrieval(tuple(found))
