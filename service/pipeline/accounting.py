"""The one wrapper around both phases of a request: it plans, streams, and accounts exactly once.

``AccountedAsk`` runs ``plan`` (through the services' planner, so a harness can wrap it) and
hands out ``execute``'s stream. However the request ends (refused by the plan, answered, failed
mid-stream, or left by its client, even before its stream started), ``finish`` builds one
immutable ``AskOutcome`` and the ``Accountant`` writes the log line, metrics and cost from it;
then the admission slot is released and the turn-finished hooks are called.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import structlog

from service.errors import InputRejected, InternalError, ServiceError, Shed
from service.observability.ask_record import AskOutcome
from service.pipeline.context import AskContext
from service.pipeline.conversation import FinishedTurn
from service.pipeline.events import Event
from service.pipeline.execute import execute
from service.pipeline.plan import AnswerPlan
from service.pipeline.redact import redact_value
from service.pipeline.stream_run import StreamResult
from service.schemas import AskRequest

log = structlog.get_logger("beacon.pipeline")


class AccountedAsk:
    def __init__(self, ask: AskRequest, context: AskContext) -> None:
        self.ask = ask
        self.context = context
        self.answer_plan: AnswerPlan | None = None
        self.finished = False

    async def plan(self) -> AnswerPlan:
        """The request's plan; a refusal is accounted here, then raised for the HTTP error."""
        try:
            self.answer_plan = await self.context.services.planner(self.ask, self.context)
        except ServiceError as error:
            self.finish(outcome=outcome_of(error), error=error)
            raise
        except Exception:
            log.exception("ask_failed", trace_id=self.context.trace.trace_id)
            internal = InternalError()
            self.finish(outcome="error", error=internal)
            raise internal from None
        except BaseException:
            self.finish(outcome="client_disconnected")
            raise
        return self.answer_plan

    def stream(self) -> AsyncIterator[Event]:
        """The plan's events; the stream reports its end to ``finish`` itself."""
        assert self.answer_plan is not None, "plan() first"
        return execute(self.answer_plan, self.context, on_end=self._streamed)

    def close(self) -> None:
        """After the response: a stream that never started is a client that left first."""
        if not self.finished:
            self.finish(outcome="client_disconnected")

    def _streamed(self, result: StreamResult) -> None:
        outcome = result.outcome
        if result.error is not None:
            outcome = outcome_of(result.error)
        self.finish(outcome=outcome, result=result, error=result.error)

    def finish(
        self,
        *,
        outcome: str,
        result: StreamResult | None = None,
        error: ServiceError | None = None,
    ) -> None:
        if self.finished:
            return
        self.finished = True
        answer_plan = self.answer_plan
        try:
            self.context.services.accountant.finish(self._outcome(outcome, result, error))
        finally:
            if answer_plan is not None and answer_plan.admitted is not None:
                answer_plan.admitted.release()
        if answer_plan is not None and result is not None and result.done is not None:
            self._turn_finished(answer_plan, result)

    def _outcome(
        self, outcome: str, result: StreamResult | None, error: ServiceError | None
    ) -> AskOutcome:
        context, ask, plan = self.context, self.ask, self.answer_plan
        fallbacks = result.fallbacks if result is not None else ()
        cause = error if error is not None else (fallbacks[0] if fallbacks else None)
        log_text = context.services.config.log_text
        fields = plan_fields(plan) if plan is not None else {}
        if result is not None:
            fields.update(stream_fields(result, context, log_text=log_text))
        if isinstance(error, InputRejected):
            fields["guard_signals"] = error.signals
        outcome_base = AskOutcome(
            trace_id=context.trace.trace_id,
            span_id=context.trace.span_id,
            outcome=outcome,
            latency_ms=context.elapsed_ms(),
            conversation_id=ask.conversation_id,
            channel=ask.channel,
            customer_id=ask.customer_id,
            error_layer=cause.layer if cause is not None else None,
            error_code=cause.code if cause is not None else None,
            question=_redacted(ask.question, context) if log_text else None,
            side_calls=context.priced_side_calls(),
        )
        return dataclasses.replace(outcome_base, **fields)

    def _turn_finished(self, answer_plan: AnswerPlan, result: StreamResult) -> None:
        turn = FinishedTurn(
            conversation_id=answer_plan.conversation_id,
            turn=answer_plan.turn,
            question=answer_plan.question,
            answer=result.answer or "",
            citations=tuple(item.id for item in answer_plan.citations),
            route=answer_plan.route,
            outcome=result.outcome,
            trace_id=self.context.trace.trace_id,
            owner=self.context.caller.identity,
            lang=answer_plan.lang,
            suggestions=tuple(entry for entry, _ in answer_plan.clarify.suggestions)
            if answer_plan.clarify is not None
            else (),
        )
        for hook in self.context.services.turn_finished:
            try:
                hook(turn)
            except Exception:  # a store that fails must not fail an answer already sent
                log.exception("turn_store_failed", trace_id=turn.trace_id)


def outcome_of(error: ServiceError) -> str:
    if isinstance(error, InputRejected):
        return "refused"
    if isinstance(error, Shed):
        return "shed"
    return "error"


def plan_fields(plan: AnswerPlan) -> dict[str, Any]:
    return {
        "route": plan.route,
        "route_reason": plan.reason,
        "tier": plan.tier,
        "model": plan.model,
        "prompt_version": plan.prompt_version,
        "kb_version": plan.kb_version,
        "lang": plan.lang,
        "retrieval_ids": tuple(item.id for item in plan.evidence),
        "retrieval_scores": tuple(round(item.score, 4) for item in plan.evidence),
        "tool_calls": plan.tool_calls,
        "guard_signals": plan.guard_signals,
        "cache_hit": plan.cache_hit,
        "fallbacks": tuple((step.source, step.target) for step in plan.fallbacks),
        "handoff_reason": plan.handoff_reason,
    }


def stream_fields(result: StreamResult, context: AskContext, *, log_text: bool) -> dict[str, Any]:
    ttft_ms = None
    if result.first_token_at is not None:
        ttft_ms = context.elapsed_ms(result.first_token_at)
    done = result.done
    return {
        "model": result.model,
        "ttft_ms": ttft_ms,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
        "redactions": result.redactions,
        "fallbacks": tuple((step.source, step.target) for step in result.fallbacks),
        "handoff_reason": result.handoff_reason,
        "grounded": done.grounded if done is not None else None,
        "unsupported_claims": done.unsupported_claims if done is not None else (),
        "answer": result.answer if log_text else None,
    }


def _redacted(text: str, context: AskContext) -> str:
    return str(redact_value(text, context.services.policy))
