"""The /ask orchestrator: guard -> retrieve -> route -> generate -> redact -> events -> account.

``Answerer.stream`` yields pipeline events; the API layer encodes them as SSE or collects them
into one JSON body. Exactly one terminal event (``done`` or ``error``) ends every stream, and
the request is accounted in ``finally`` whatever happened, client disconnects included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry.trace import Tracer

from prompts.loader import PromptSet
from rag.language import Lang, detect_language
from rag.retriever import Evidence, FaqRetriever
from service.admission.gate import Ticket
from service.conversations.memory import ConversationMemory
from service.errors import InputRejected, InternalError, ServiceError
from service.observability.ask_record import Accountant, AskRecord
from service.observability.metrics import Metrics
from service.observability.middleware import TraceContext
from service.pipeline.cache import AnswerCache, CacheKey
from service.pipeline.canaries import NO_EVAL_PROMPTS, EvalSystemPrompts, with_system_addition
from service.pipeline.conversation import (
    ConversationStep,
    TurnTranscript,
    prepare_conversation,
    remember_turn,
)
from service.pipeline.events import Event, EventName
from service.pipeline.generation import AnswerPlan, plan_answer
from service.pipeline.guard import GuardAction, inspect_question
from service.pipeline.redact import RedactionPolicy, StreamRedactor, redact_value
from service.pipeline.route import Route, RouteThresholds, extract_features, unsure_reason
from service.providers.base import ChatProvider, Usage
from service.resilience.degrade import fallback_fields
from service.resilience.pipeline import Resilience
from service.schemas import AskRequest
from service.tools.order_number import find_order_id

log = structlog.get_logger("beacon.pipeline")


@dataclass(frozen=True, slots=True)
class AnswererConfig:
    thresholds: RouteThresholds
    top_k: int
    max_question_chars: int
    easy_model: str
    hard_model: str
    max_tokens: int
    canary: str
    log_text: bool
    extra_canaries: tuple[str, ...] = ()  # more markers the redactor blocks, like the canary
    eval_prompts: EvalSystemPrompts = NO_EVAL_PROMPTS  # the injection eval's per-case prompts


class Answerer:
    def __init__(
        self,
        *,
        config: AnswererConfig,
        retriever: FaqRetriever,
        prompts: PromptSet,
        provider: ChatProvider,
        faq_provider: ChatProvider,
        policy: RedactionPolicy,
        metrics: Metrics,
        accountant: Accountant,
        tracer: Tracer,
        conversations: ConversationMemory,
        resilience: Resilience,
        cache: AnswerCache | None = None,
    ) -> None:
        self.config = config
        self.retriever = retriever
        self.prompts = prompts
        self.provider = provider
        self.faq_provider = faq_provider
        self.policy = policy
        self.metrics = metrics
        self.accountant = accountant
        self.tracer = tracer
        self.conversations = conversations
        self.resilience = resilience
        self.cache = cache

    def stream(
        self,
        ask: AskRequest,
        trace: TraceContext,
        ticket: Ticket | None = None,
        *,
        owner: str = "anonymous",
    ) -> AsyncIterator[Event]:
        """``ticket``: the request's admission, waited for first and released at the end;
        ``owner``: the authenticated caller, who may continue only its own conversations."""
        # Capture the server span's context now: the generator body runs later, lazily.
        return self._stream(ask, trace, otel_context.get_current(), ticket, owner)

    async def _stream(
        self,
        ask: AskRequest,
        trace: TraceContext,
        parent: otel_context.Context,
        ticket: Ticket | None,
        owner: str,
    ) -> AsyncIterator[Event]:
        record = AskRecord(trace_id=trace.trace_id, span_id=trace.span_id)
        record.conversation_id = ask.conversation_id
        admitted = False
        try:
            if ticket is not None:
                async for event in ticket.wait():  # `queued` events while the service is full
                    yield event
            self.metrics.in_flight.inc()
            admitted = True
            async with self.conversations.locks.hold(ask.conversation_id):  # one turn at a time
                async for event in self._converse(ask, record, parent, owner):
                    yield event
        except ServiceError as error:
            record.fail(error)
            yield EventName.ERROR, _error_payload(error)
        except (asyncio.CancelledError, GeneratorExit):
            record.outcome = "client_disconnected"
            raise
        except Exception:
            log.exception("ask_failed", trace_id=trace.trace_id)
            internal = InternalError()
            record.fail(internal)
            yield EventName.ERROR, _error_payload(internal)
        finally:
            if admitted:
                self.metrics.in_flight.dec()
            if ticket is not None:
                ticket.release()
            self.accountant.finish(record)

    async def _converse(
        self, ask: AskRequest, record: AskRecord, parent: otel_context.Context, owner: str
    ) -> AsyncIterator[Event]:
        """Answer in the conversation's context, then store the turn the customer saw."""
        lang = _language(ask.question, ask.locale)
        step = await prepare_conversation(
            self.conversations,
            conversation_id=ask.conversation_id,
            owner=owner,
            question=ask.question,
            lang=lang,
            usage=Usage(model=self.config.easy_model),
        )
        transcript = TurnTranscript()
        async for name, payload in self._answer(ask, record, parent, step):
            transcript.observe(name, payload)
            if name == EventName.DONE:  # the answer is complete: store it before saying so
                stored = await remember_turn(
                    self.conversations,
                    step,
                    transcript,
                    question=ask.question,
                    trace_id=record.trace_id,
                    lang=lang,
                    outcome=record.outcome,
                    policy=self.policy,
                )
                if step.degraded or not stored:  # answered without its history: say so
                    record.degraded_parts.append("conversations")
                    payload = {**payload, "degraded": payload.get("degraded") or True}
            yield name, payload

    async def _answer(
        self,
        ask: AskRequest,
        record: AskRecord,
        parent: otel_context.Context,
        step: ConversationStep,
    ) -> AsyncIterator[Event]:
        question = ask.question
        lang = _language(question, ask.locale)
        record.lang = lang
        record.kb_version = self.retriever.kb_version
        record.prompt_version = self.prompts.version
        if self.config.log_text:
            record.question = str(redact_value(question, self.policy))

        with self._span("beacon.guard", parent) as span:
            verdict = inspect_question(
                question, max_chars=self.config.max_question_chars, policy=self.policy
            )
            record.guard_signals = list(verdict.signals)
            span.set_attribute("beacon.guard.action", verdict.action.value)
            span.set_attribute("beacon.guard.signals", list(verdict.signals))
        if verdict.action is GuardAction.REFUSE:
            raise InputRejected()

        rewritten = step.contextualised.reason is not None
        searched = step.question if rewritten else verdict.normalized
        evidence = await self._retrieve(searched, record, parent)
        if rewritten and evidence is not None and self._unsure(question, evidence):
            # "好的，那怎么取消订单？" points back in form only: its own words may be enough.
            own = await self._retrieve(verdict.normalized, record, parent)
            if own is not None and not self._unsure(question, own):
                evidence, rewritten = own, False
                step = replace(step, contextualised=step.contextualised.as_asked(question))
        turn = step.turn
        with self._span("beacon.route", parent) as span:
            features = extract_features(
                question,
                evidence or [],
                turn=turn,
                conservative=verdict.action is GuardAction.CONSERVATIVE,
            )
            if features.order_id is None and rewritten:  # an order number named earlier
                features = replace(features, order_id=find_order_id(step.question))
            decision = self.resilience.route(
                features, self.config.thresholds, record, retrieved=evidence is not None
            )
            span.set_attribute("beacon.route", decision.route.value)
            span.set_attribute("beacon.route.reason", decision.reason)
            span.set_attribute("beacon.route.top_score", features.top_score)
            span.set_attribute("beacon.route.margin", features.margin)
        record.route = decision.route.value
        record.route_reason = decision.reason
        if decision.route is Route.TOOL and features.order_id and evidence is not None:
            with self._span("beacon.tool", parent):
                evidence = await self.resilience.with_order_status(
                    features.order_id, evidence, lang, record
                )

        ticket_id = f"HO-{record.trace_id[:12]}"
        plan = (
            plan_answer(
                decision=decision,
                evidence=evidence,
                question=question,
                lang=lang,
                prompts=self.prompts,
                config=self.config,
                ticket_id=ticket_id,
                use_model=self.provider is not self.faq_provider,
            )
            if evidence is not None  # None: retrieval or a tool failed, a person takes over
            else self.resilience.handoff_plan(lang, ticket_id)
        )
        addition = self.config.eval_prompts.for_conversation(ask.conversation_id)
        if addition is not None:  # eval only: this case's own system prompt, with its secret
            plan = with_system_addition(plan, addition)
        record.tier, record.model = plan.tier, plan.model
        yield (
            EventName.META,
            {
                "route": decision.route.value,
                "reason": decision.reason,
                "tier": plan.tier,
                "model": plan.model,
                "prompt_version": self.prompts.version,
                "kb_version": self.retriever.kb_version,
                "conversation_id": ask.conversation_id,
                "lang": lang,
                **step.meta(),
            },
        )
        yield (
            EventName.EVIDENCE,
            {
                "citations": [_citation(item) for item in plan.citations],
                # The ranked candidates behind the answer: evals check citations against them.
                "retrieved": [
                    {"id": item.id, "score": round(item.score, 4)} for item in evidence or []
                ],
            },
        )
        if plan.clarification is not None:
            yield EventName.CLARIFY, plan.clarification.to_payload()
        if plan.handoff_reason is not None:
            self.metrics.handoffs.labels(plan.handoff_reason).inc()
            yield (
                EventName.HANDOFF,
                {
                    "reason": plan.handoff_reason,
                    "ticket_id": plan.ticket_id,
                },
            )
        key: CacheKey | None = None
        if self.cache is not None:  # a hit replays the stored answer; a clean miss is stored
            plan, key = self.cache.serve(plan, CacheKey.single_turn(question, turn, record), record)
        events = self._generate(plan, record, parent)
        if self.cache is not None and key is not None:
            clean = lambda: record.outcome == "ok" and not record.fallbacks  # noqa: E731
            events = self.cache.recording(key, events, clean=clean)
        async for event in events:
            yield event

    async def _retrieve(
        self, question: str, record: AskRecord, parent: otel_context.Context
    ) -> list[Evidence] | None:
        with self._span("beacon.retrieve", parent) as span:
            started = time.perf_counter()
            kb_version = self.retriever.kb_version
            evidence = self.cache.search(question, kb_version) if self.cache else None
            if evidence is None:
                evidence = await self.resilience.search(
                    question, k=self.config.top_k, record=record
                )
                if self.cache is not None:
                    self.cache.remember_search(question, kb_version, evidence)
            self.metrics.retrieval_duration.observe(time.perf_counter() - started)
            if evidence is None:
                return None
            record.retrieval_ids = [item.id for item in evidence]
            record.retrieval_scores = [round(item.score, 4) for item in evidence]
            span.set_attribute("beacon.retrieval.ids", record.retrieval_ids)
            span.set_attribute("beacon.retrieval.scores", record.retrieval_scores)
        if not evidence or evidence[0].score < self.config.thresholds.answer_min_score:
            self.metrics.retrieval_empty.inc()
        return evidence

    async def _generate(
        self, plan: AnswerPlan, record: AskRecord, parent: otel_context.Context
    ) -> AsyncIterator[Event]:
        canaries = (self.config.canary, *self.config.extra_canaries)
        redactor = StreamRedactor(self.policy, canaries=canaries, lang=plan.lang)
        usage = Usage(model=plan.model)
        provider = (
            self.faq_provider if plan.request is None or plan.model == "faq" else self.provider
        )
        generation = None
        if plan.request is not None:
            generation = self.resilience.generator.open(
                plan.request,
                record,
                ticket_id=plan.ticket_id or f"HO-{record.trace_id[:12]}",
                with_faq=plan.handoff_reason is None,
            )
        answer_parts: list[str] | None = [] if self.config.log_text else None
        span = self.tracer.start_span("beacon.generate", context=parent)
        span.set_attribute("gen_ai.request.model", plan.model)
        span.set_attribute("gen_ai.operation.name", "chat")
        span.set_attribute("gen_ai.provider.name", provider.name)
        try:
            # Deadlines, retries before the first token, breakers and the fallback chain.
            source = generation.stream(usage) if generation else _fixed(plan.text)
            async for chunk in source:
                safe = redactor.feed(chunk)
                if safe:
                    if record.first_token_at is None:
                        record.first_token_at = time.perf_counter()
                    if answer_parts is not None:
                        answer_parts.append(safe)
                    yield EventName.TOKEN, safe
                if redactor.blocked:
                    await _stop(source)  # the model stops writing what nobody will read
                    break
            tail = redactor.flush()
            if tail:
                if record.first_token_at is None:
                    record.first_token_at = time.perf_counter()
                yield EventName.TOKEN, tail
        finally:
            record.tokens_in, record.tokens_out = usage.tokens_in, usage.tokens_out
            if plan.request is None:
                record.tokens_out = 0
            if generation is not None:
                record.model = usage.model  # who answered, after any fallback
                span.set_attribute("beacon.fallbacks", record.fallbacks)
                span.set_attribute("beacon.retries", generation.retries)
            record.redactions = {str(kind): n for kind, n in redactor.counts.items() if n}
            span.set_attribute("gen_ai.usage.input_tokens", record.tokens_in)
            span.set_attribute("gen_ai.usage.output_tokens", record.tokens_out)
            span.end()
            self._record_redaction_span(record, parent)
            if answer_parts is not None:
                record.answer = "".join(answer_parts)
        for kind, count in record.redactions.items():
            yield EventName.REDACTION, {"kind": kind, "count": count}
        finish_reason, record.outcome = plan.finish_reason, plan.outcome
        if generation is not None and generation.handed_off and plan.handoff_reason is None:
            self.metrics.handoffs.labels("fallback").inc()
            yield EventName.HANDOFF, {"reason": "fallback", "ticket_id": generation.ticket_id}
            finish_reason = record.outcome = "handoff"
        if redactor.blocked:
            yield EventName.TOKEN, self.policy.block_message(plan.lang)
            finish_reason = "content_filter"
        record.cost_usd = self.accountant.cost_of(record)
        yield (
            EventName.DONE,
            {
                "finish_reason": finish_reason,
                "usage": {"input_tokens": record.tokens_in, "output_tokens": record.tokens_out},
                "cost_usd": round(record.cost_usd, 8),
                "ttft_ms": record.ttft_ms,
                "latency_ms": record.latency_ms(),
                "cache_hit": record.cache_hit,
                **fallback_fields(record),
            },
        )

    def _unsure(self, question: str, evidence: list[Evidence]) -> bool:
        features = extract_features(question, evidence)
        return unsure_reason(features, self.config.thresholds) is not None

    def _record_redaction_span(self, record: AskRecord, parent: otel_context.Context) -> None:
        span = self.tracer.start_span("beacon.redact", context=parent)
        span.set_attribute("beacon.redactions.total", sum(record.redactions.values()))
        for kind, count in record.redactions.items():
            span.set_attribute(f"beacon.redactions.{kind}", count)
        span.end()

    def _span(self, name: str, parent: otel_context.Context) -> Any:
        return self.tracer.start_as_current_span(name, context=parent)


def _language(question: str, locale: str | None) -> Lang:
    if locale is not None:
        return "zh" if locale.lower().startswith("zh") else "en"
    return detect_language(question)


async def _stop(stream: AsyncIterator[str]) -> None:
    """Close a stream now rather than when it is garbage: its upstream call ends at once."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def _fixed(text: str) -> AsyncIterator[str]:
    """Serve a templated or cached answer through the same redaction path, in pieces."""
    from service.providers.faq import split_into_chunks, split_into_pieces

    for piece in split_into_pieces(split_into_chunks(text)):
        yield piece


def _citation(item: Evidence) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "score": round(item.score, 4),
        "source": item.source,
        "version": item.version,
    }


def _error_payload(error: ServiceError) -> dict[str, object]:
    payload = error.to_payload(trace_id="")
    del payload["trace_id"]  # the encoder adds the request's trace_id to every event
    return payload
