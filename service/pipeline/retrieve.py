"""The retrieve step: hybrid FAQ search, remembered per question, within its deadline.

A message that asks several things ("how do I change my address? and how long is delivery?")
is also searched one question at a time (``parts``): each part is then matched like a question
of its own, and two parts one entry answers are one question. A remark after the last question
that matches nothing is left out of the search. A search that fails (index down, too slow) is
not an error for the customer: the plan hands the request over to a person, and the step says
so with its ``fallback``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.language import detect_language
from rag.retriever import Evidence
from service.errors import DataError
from service.pipeline.parts import MAX_PARTS, count_parts, split_parts, split_remark
from service.resilience.degrade import Fallback

if TYPE_CHECKING:
    from service.pipeline.context import AskContext


@dataclass(frozen=True, slots=True)
class Retrieval:
    evidence: tuple[Evidence, ...]
    """Ranked candidates; empty when nothing matched or the search failed."""
    fallback: Fallback | None = None
    """Set when the search failed: ``retrieval->handoff``."""
    parts: tuple[tuple[Evidence, ...], ...] = ()
    """Each question's own candidates when the message asks several (else empty)."""

    @property
    def failed(self) -> bool:
        return self.fallback is not None


async def retrieve_evidence(question: str, context: AskContext) -> Retrieval:
    """Step: the evidence for ``question`` (the guard-normalised or standalone question)."""
    services = context.services
    floor = services.config.thresholds.refusal_score(detect_language(question))
    with context.span("beacon.retrieve") as span:
        started = time.perf_counter()
        try:
            found, question = await _without_remark(question, floor, context)
            pieces = split_parts(question) if count_parts(question) >= 2 else []
            parts = [await _search(piece, context) for piece in pieces[:MAX_PARTS]]
        except DataError as error:
            services.metrics.retrieval_duration.observe(time.perf_counter() - started)
            return Retrieval((), Fallback.after(error, source="retrieval", target="handoff"))
        services.metrics.retrieval_duration.observe(time.perf_counter() - started)
        span.set_attribute("beacon.retrieval.ids", [item.id for item in found])
        span.set_attribute("beacon.retrieval.scores", [round(item.score, 4) for item in found])
        if len(parts) >= 2:
            span.set_attribute("beacon.retrieval.parts", [p[0].id if p else "" for p in parts])
    if not found or found[0].score < floor:
        services.metrics.retrieval_empty.inc()
    if len(parts) < 2:
        return Retrieval(found)
    return Retrieval(_parts_first(found, parts, floor), parts=tuple(parts))


async def _without_remark(
    question: str, floor: float, context: AskContext
) -> tuple[tuple[Evidence, ...], str]:
    """The candidates for ``question``, and the text they are for: a remark after the last
    question that matches no entry on its own ("How do I request a refund? my email is …") is
    left out, as a part of a message that matches nothing is (its words only dilute the match)."""
    asked, remark = split_remark(question)
    if remark:
        aside = await _search(remark, context)
        if not aside or aside[0].score < floor:
            return await _search(asked, context), asked
    return await _search(question, context), question


async def _search(question: str, context: AskContext) -> tuple[Evidence, ...]:
    services = context.services
    cache, kb_version = services.cache, services.retriever.kb_version
    found = cache.search(question, kb_version) if cache is not None else None
    if found is None:
        found = await services.retriever.search(question, k=services.config.top_k)
        if cache is not None:
            cache.remember_search(question, kb_version, found)
    return tuple(found)


def _parts_first(
    found: tuple[Evidence, ...], parts: list[tuple[Evidence, ...]], floor: float
) -> tuple[Evidence, ...]:
    """Each part's best entry (when it matches at all: "ok, and how do I…" has a part that does
    not), in the order asked, then the whole message's other candidates."""
    ranked: dict[str, Evidence] = {}
    for candidates in parts:
        if candidates and candidates[0].score >= floor and candidates[0].id not in ranked:
            ranked[candidates[0].id] = candidates[0]
    for item in found:
        ranked.setdefault(item.id, item)
    return tuple(ranked.values())
