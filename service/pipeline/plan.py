"""Decide: ``plan(ask, context) -> AnswerPlan``, everything a request settles before its first byte.

The steps run in this order, each a plain async function in the file named after it:

1. ``guard.screen_question``        refuse injection and abuse (400 ``input_rejected``)
2. ``admission.admit_request``      rate limit, concurrency slot or queue (429 + Retry-After)
3. ``conversation.load_conversation``  the turn, and the question standing alone
4. ``retrieve.retrieve_evidence``   hybrid FAQ search (a failure hands over to a person)
5. ``tool.call_tools``              order status for an order number (scoped to the caller)
6. ``route.route_question``         faq | easy | hard | risky | tool | clarify | out_of_scope
7. ``compose.compose_answer``       model, prompt messages and citations, or a template
8. ``cache.look_up_answer``         a first-turn question asked before is replayed

The result is one immutable ``AnswerPlan``, or a typed ``ServiceError`` raised before any
byte is sent (the same status, code and headers in SSE and JSON mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.language import Lang, detect_language
from rag.retriever import Evidence
from service.pipeline.admission import Admitted, admit_request
from service.pipeline.cache import CacheKey, look_up_answer
from service.pipeline.compose import Composition, compose_answer
from service.pipeline.context import AskContext
from service.pipeline.conversation import ConversationTurn, load_conversation
from service.pipeline.guard import GuardAction, GuardVerdict, screen_question
from service.pipeline.retrieve import Retrieval, retrieve_evidence
from service.pipeline.route import (
    Routing,
    by_part,
    extract_features,
    route_question,
    unsure_reason,
)
from service.pipeline.tool import ToolResult, call_tools
from service.providers.base import GenerationRequest
from service.providers.faq import FAQ_MODEL
from service.resilience.deadline import Deadlines
from service.resilience.degrade import Fallback
from service.schemas import AskRequest


@dataclass(frozen=True, slots=True)
class Clarification:
    """What a ``clarify`` route asks: which of up to three candidate questions was meant."""

    question: str
    suggestions: tuple[tuple[str, str], ...]
    """(entry id, title) of each candidate."""


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """How one request will be answered; ``execute`` streams it, nothing changes it."""

    tier: str
    model: str
    lang: Lang
    citations: Sequence[Evidence]
    request: GenerationRequest | None = None
    """The model call; None: serve ``text`` (a template or a cached answer) instead."""
    text: str = ""
    route: str = "none"
    reason: str = ""
    question: str = ""
    conversation_id: str | None = None
    channel: str | None = None
    turn: int = 1
    context_reason: str | None = None
    """Why the conversation step rewrote the question (None: answered as asked)."""
    evidence: Sequence[Evidence] = ()
    """Every retrieved candidate, ranked (cited or not)."""
    handoff_reason: str | None = None
    ticket_id: str | None = None
    """The ticket a handoff, planned or a fallback's, gives the customer."""
    outcome: str = "ok"
    finish_reason: str = "stop"
    deadlines: Deadlines | None = None
    """The first model call's deadlines (the fallback chain's later steps have their own)."""
    prompt_version: str = ""
    kb_version: str = ""
    guard_signals: tuple[str, ...] = ()
    tool_calls: tuple[str, ...] = ()
    fallbacks: tuple[Fallback, ...] = ()
    """Steps the plan already took around a failure (retrieval, tool, router)."""
    cache_key: CacheKey | None = None
    """Set on a cache miss: a clean answer is stored under it."""
    cache_hit: bool = False
    clarify: Clarification | None = None
    admitted: Admitted | None = None
    """The request's admission: its slot (released when the request ends) and queue place."""


async def plan(ask: AskRequest, context: AskContext) -> AnswerPlan:
    """Run the decide steps in order; raise a ``ServiceError`` to refuse before any byte."""
    verdict = await screen_question(ask, context)
    admitted = await admit_request(context)
    try:
        return await _plan_admitted(ask, context, verdict, admitted)
    except BaseException:
        admitted.release()
        raise


async def _plan_admitted(
    ask: AskRequest,
    context: AskContext,
    verdict: GuardVerdict,
    admitted: Admitted,
) -> AnswerPlan:
    services = context.services
    normalized = verdict.normalized
    lang = _language(ask.question, ask.locale)
    turn = await load_conversation(ask, context)
    query = normalized if turn.standalone_question == ask.question else turn.standalone_question
    retrieval = await retrieve_evidence(query, context)
    if turn.rules_question is not None and _unsure(query, retrieval, context):
        # The model's condensation matched no entry for sure: the rules' rewrite may.
        rules = await retrieve_evidence(turn.rules_question, context)
        if not rules.failed and not _unsure(turn.rules_question, rules, context):
            query, retrieval = turn.rules_question, rules
            reason = turn.rules_reason or "as_asked"
            turn = replace(turn, standalone_question=query, reason=reason)
    if query != normalized and turn.reason != "carried_order_id":
        # "好的，那怎么取消订单？" points back in form only: its own words may be enough. (An
        # order number carried in stands for "my order": the rewrite keeps it.)
        own = await retrieve_evidence(normalized, context)
        if _own_words_win(ask.question, own, query, retrieval, context):
            retrieval, turn = (
                own,
                replace(turn, standalone_question=ask.question, reason="as_asked"),
            )
    tools = await call_tools(turn.standalone_question, lang, retrieval, context)
    routing = await route_question(
        turn,
        retrieval=retrieval,
        tools=tools,
        conservative=verdict.action is GuardAction.CONSERVATIVE,
        context=context,
    )
    ticket_id = f"HO-{context.trace.trace_id[:12]}"
    composition = compose_answer(
        decision=routing.decision,
        evidence=tools.evidence_with(retrieval),
        question=turn.standalone_question,
        lang=lang,
        prompts=services.prompts,
        config=services.config,
        ticket_id=ticket_id,
    )
    answer_plan = _assemble(
        ask,
        context,
        composition,
        turn=turn,
        routing=routing,
        retrieval=retrieval,
        tools=tools,
        signals=verdict.signals,
        admitted=admitted,
        ticket_id=ticket_id,
    )
    return await look_up_answer(answer_plan, context)


def _assemble(
    ask: AskRequest,
    context: AskContext,
    composition: Composition,
    *,
    turn: ConversationTurn,
    routing: Routing,
    retrieval: Retrieval,
    tools: ToolResult,
    signals: tuple[str, ...],
    admitted: Admitted,
    ticket_id: str,
) -> AnswerPlan:
    services = context.services
    request = composition.request
    deadlines = None
    if request is not None and request.model != FAQ_MODEL:
        deadlines = services.config.deadlines[services.generator.tier_of(request.model)]
    steps = (turn.fallback, retrieval.fallback, tools.fallback, routing.fallback)
    asked = composition.clarification
    return AnswerPlan(
        tier=composition.tier,
        model=composition.model,
        lang=composition.lang,
        citations=tuple(composition.citations),
        request=request,
        text=composition.text,
        route=routing.decision.route.value,
        reason=routing.decision.reason,
        question=ask.question,
        conversation_id=ask.conversation_id,
        channel=ask.channel,
        turn=turn.number,
        context_reason=None if turn.reason in ("first_turn", "as_asked") else turn.reason,
        evidence=retrieval.evidence,
        handoff_reason=composition.handoff_reason,
        ticket_id=composition.ticket_id or ticket_id,
        outcome=composition.outcome,
        finish_reason=composition.finish_reason,
        deadlines=deadlines,
        prompt_version=services.prompts.version,
        kb_version=services.retriever.kb_version,
        guard_signals=signals,
        tool_calls=tools.calls,
        fallbacks=tuple(step for step in steps if step is not None),
        admitted=admitted,
        clarify=None
        if asked is None
        else Clarification(asked.question, tuple((s.id, s.title) for s in asked.suggestions)),
    )


def _unsure(question: str, retrieval: Retrieval, context: AskContext) -> bool:
    """The best entry is not a confident match for ``question`` (see ``unsure_reason``)."""
    thresholds = context.services.config.thresholds
    features = extract_features(question, retrieval.evidence, parts=retrieval.parts)
    return unsure_reason(by_part(features, thresholds), thresholds) is not None


def _own_words_win(
    question: str, own: Retrieval, rewrite: str, rewritten: Retrieval, context: AskContext
) -> bool:
    """The customer's own words name an entry for sure, and the rewrite does not clearly point
    elsewhere: it is unsure, or it prefers the entry in play by less than twice the margin that
    makes a match confident ("好的，那怎么取消订单 — 怎么查订单物流": tracking 0.74, cancelling
    0.53; "how long does that take — refund" ranks delivery, the own words' entry, 0.45 below)."""
    if own.failed or not own.evidence or _unsure(question, own, context):
        return False
    if rewritten.failed or _unsure(rewrite, rewritten, context):
        return True
    named = own.evidence[0].id
    scores = {item.id: item.score for item in rewritten.evidence}
    lead = rewritten.evidence[0].score - scores.get(named, 0.0)
    return lead < 2 * context.services.config.thresholds.faq_min_margin


def _language(question: str, locale: str | None) -> Lang:
    if locale is not None:
        return "zh" if locale.lower().startswith("zh") else "en"
    return detect_language(question)


__all__ = ["AnswerPlan", "Clarification", "plan"]
