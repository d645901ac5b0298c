"""The compose step: how a routed question will be answered (model, prompt, evidence).

``compose_answer`` is pure: it turns a route decision into a ``Composition`` (the answer's
source: a model request or a template text), so the mapping from route to answer source is
readable in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prompts.loader import PromptSet
from rag.language import Lang
from rag.retriever import Evidence
from service.pipeline.clarify import Clarification, build_clarification
from service.pipeline.route import Route, RouteDecision
from service.pipeline.services import PipelineConfig
from service.providers.base import ChatMessage, GenerationRequest
from service.providers.faq import FAQ_MODEL

HANDOFF_PROMPT = "handoff_fallback"
FALLBACK_HANDOFF_REASON = "fallback"


@dataclass(frozen=True, slots=True)
class Composition:
    tier: str
    model: str
    lang: Lang
    citations: Sequence[Evidence]
    request: GenerationRequest | None = None  # None: serve ``text`` (a template) instead
    text: str = ""
    handoff_reason: str | None = None
    ticket_id: str | None = None
    outcome: str = "ok"
    finish_reason: str = "stop"
    clarification: Clarification | None = None  # route `clarify`: the question to ask


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """Evidence goes to the model as delimited data, never as instructions."""
    blocks = [
        f"<evidence>\n{item.answer}\n(source: {item.id}, {item.source}, version {item.version})\n"
        "</evidence>"
        for item in evidence
    ]
    return "\n".join(blocks) if blocks else "<evidence>\n(none)\n</evidence>"


def compose_answer(
    *,
    decision: RouteDecision,
    evidence: Sequence[Evidence] | None,
    question: str,
    lang: Lang,
    prompts: PromptSet,
    config: PipelineConfig,
    ticket_id: str,
) -> Composition:
    """``evidence`` None: a step before failed (search, tool) and a person takes over."""
    if evidence is None:
        return handoff_composition(prompts, lang, ticket_id)
    use_model = config.uses_model
    thresholds = config.thresholds
    usable = [item for item in evidence if item.score >= thresholds.refusal_score(item.lang)]
    route = decision.route
    if route is Route.OUT_OF_SCOPE:
        return Composition(
            tier="none",
            model="none",
            lang=lang,
            citations=(),
            text=prompts["refusal"].render(lang),
            outcome="refused",
            finish_reason="refused",
        )
    if route is Route.CLARIFY:  # unsure: ask, and cite nothing (no entry is answered from)
        clarification = build_clarification(usable, lang=lang, prompts=prompts)
        return Composition(
            tier="clarify",
            model="none",
            lang=lang,
            citations=(),
            text=clarification.as_text(),
            finish_reason="clarify",
            clarification=clarification,
        )
    if route is Route.RISKY:
        return _plan_handoff(
            decision, usable, question, lang, prompts, config, ticket_id, use_model
        )
    if route is Route.FAQ or not use_model:
        cited = usable[:2] if route is Route.HARD else usable[:1]
        cited = cited or list(evidence[:1])
        return Composition(
            tier=route.value,
            model=FAQ_MODEL,
            lang=lang,
            citations=cited,
            request=GenerationRequest(model=FAQ_MODEL, messages=(), lang=lang, evidence=cited),
        )
    model = config.hard_model if route is Route.HARD else config.easy_model
    prompt = "answer_hard" if route is Route.HARD else "answer_easy"
    cited = usable[:3] if route is Route.HARD else usable[:2]
    return Composition(
        tier=route.value,
        model=model,
        lang=lang,
        citations=cited,
        request=_model_request(model, prompt, question, cited, lang, prompts, config),
    )


def _plan_handoff(
    decision: RouteDecision,
    usable: Sequence[Evidence],
    question: str,
    lang: Lang,
    prompts: PromptSet,
    config: PipelineConfig,
    ticket_id: str,
    use_model: bool,
) -> Composition:
    cited = list(usable[:1])
    request: GenerationRequest | None = None
    model, text = "none", ""
    if use_model:
        model = config.hard_model
        request = _model_request(
            model, "answer_conservative", question, cited, lang, prompts, config
        )
    else:
        text = prompts["handoff"].render(lang, ticket_id=ticket_id)
        if cited:
            text = f"{text}\n\n{cited[0].answer}"
    return Composition(
        tier="risky",
        model=model,
        lang=lang,
        citations=cited,
        request=request,
        text=text,
        handoff_reason=decision.reason,
        ticket_id=ticket_id,
        outcome="handoff",
        finish_reason="handoff",
    )


def _model_request(
    model: str,
    prompt: str,
    question: str,
    evidence: Sequence[Evidence],
    lang: Lang,
    prompts: PromptSet,
    config: PipelineConfig,
) -> GenerationRequest:
    system = prompts["system"].render(lang, canary=config.canary)
    user = prompts[prompt].render(lang, evidence=format_evidence(evidence), question=question)
    return GenerationRequest(
        model=model,
        messages=(ChatMessage("system", system), ChatMessage("user", user)),
        lang=lang,
        evidence=tuple(evidence),
        max_tokens=config.max_tokens,
    )


def handoff_composition(prompts: PromptSet, lang: Lang, ticket_id: str) -> Composition:
    """A person takes over when Beacon cannot answer reliably (a failed step upstream)."""
    return Composition(
        tier="none",
        model="none",
        lang=lang,
        citations=(),
        text=prompts[HANDOFF_PROMPT].render(lang, ticket_id=ticket_id),
        handoff_reason=FALLBACK_HANDOFF_REASON,
        ticket_id=ticket_id,
        outcome="handoff",
        finish_reason="handoff",
    )
