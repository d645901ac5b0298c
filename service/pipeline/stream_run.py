"""The private state of one ``execute`` stream: its source, filters, usage and closing events.

``execute`` reads top to bottom; what it needs per stream (which source to open, how filters
flush, which events close the answer, what the accounting is told) lives here, on one object
that never leaves the stream.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from opentelemetry.trace import Span

from service.errors import ServiceError
from service.pipeline.context import AskContext
from service.pipeline.events import (
    Degraded,
    DoneEvent,
    Event,
    HandoffEvent,
    RedactionEvent,
    TokenEvent,
)
from service.pipeline.plan import AnswerPlan
from service.pipeline.text_filter import DoneAnnotator
from service.providers.base import Usage
from service.providers.faq import split_into_chunks, split_into_pieces
from service.resilience.degrade import Fallback
from service.resilience.fallback import Generation

FALLBACK_HANDOFF = "fallback"


@dataclass(frozen=True, slots=True)
class StreamResult:
    """How the stream of one plan ended: what the accounting and the turn store are told."""

    outcome: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    first_token_at: float | None
    fallbacks: tuple[Fallback, ...]
    """The plan's steps around failures, then the generation's."""
    redactions: tuple[tuple[str, int], ...]
    handoff_reason: str | None
    error: ServiceError | None = None
    answer: str | None = None
    done: DoneEvent | None = None


class StreamRun:
    def __init__(self, plan: AnswerPlan, context: AskContext) -> None:
        services = context.services
        self.plan = plan
        self.context = context
        self.filters = tuple(make(plan) for make in services.filters)
        self.usage = Usage(model=plan.model)
        self.generation: Generation | None = None
        self.first_token_at: float | None = None
        keep_text = services.config.log_text or services.turn_finished or plan.cache_key
        self.parts: list[str] | None = [] if keep_text else None
        self.outcome = plan.outcome
        self.handoff_reason = plan.handoff_reason
        self.error: ServiceError | None = None
        self.done: DoneEvent | None = None
        self.span: Span | None = None
        self.result: StreamResult | None = None

    def open(self) -> AsyncIterator[str]:
        """The answer's text source: the generation (model, FAQ, handoff) or a fixed text."""
        plan, services = self.plan, self.context.services
        span = services.tracer.start_span("beacon.generate", context=self.context.parent)
        span.set_attribute("gen_ai.request.model", plan.model)
        span.set_attribute("gen_ai.operation.name", "chat")
        uses_model = plan.request is not None and plan.request.model != "faq"
        provider = services.generator.provider.name if uses_model else "faq"
        span.set_attribute("gen_ai.provider.name", provider)
        self.span = span
        if plan.request is None:
            return _fixed(plan.text)
        ticket_id = plan.ticket_id or f"HO-{self.context.trace.trace_id[:12]}"
        self.generation = services.generator.open(
            plan.request, ticket_id=ticket_id, with_faq=plan.handoff_reason is None
        )
        return self.generation.stream(self.usage)

    def sent(self, text: str) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        if self.parts is not None:
            self.parts.append(text)

    def blocked(self) -> bool:
        # Per chunk: a plain loop, not any() over a generator (a third of the cost).
        for text_filter in self.filters:  # noqa: SIM110
            if text_filter.blocked:
                return True
        return False

    @staticmethod
    async def stop(source: AsyncIterator[str]) -> None:
        """Close a stream now rather than when it is garbage: its upstream call ends at once."""
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()

    def flush(self) -> str:
        """What the filters still hold, each one's tail passed through the filters after it."""
        text = ""
        for text_filter in self.filters:
            text = (text_filter.feed(text) if text else "") + text_filter.flush()
        return text

    def closing_events(self) -> Iterator[Event]:
        """Redactions, a fallback handoff, the block message, then ``done``."""
        plan, generation = self.plan, self.generation
        for kind, count in self.redactions():
            yield RedactionEvent(kind, count)
        finish_reason = plan.finish_reason
        if generation is not None and generation.handed_off and plan.handoff_reason is None:
            self.handoff_reason = FALLBACK_HANDOFF
            yield HandoffEvent(FALLBACK_HANDOFF, generation.ticket_id)
            finish_reason = self.outcome = "handoff"
        if self.blocked():
            yield TokenEvent(self.context.services.policy.block_message(plan.lang))
            finish_reason = "content_filter"
        self.done = self._done(finish_reason)
        self._store_in_cache()
        yield self.done

    def failed(self, error: ServiceError) -> None:
        self.error = error

    def finish(self, outcome: str) -> StreamResult:
        """The stream's result, once (spans ended on the first call)."""
        if self.result is not None:
            return self.result
        model, tokens_in, tokens_out = self._usage()
        self.result = StreamResult(
            outcome=outcome,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=self._cost(model, tokens_in, tokens_out),
            first_token_at=self.first_token_at,
            fallbacks=self.fallbacks(),
            redactions=self.redactions(),
            handoff_reason=self.handoff_reason,
            error=self.error,
            answer="".join(self.parts) if self.parts is not None else None,
            done=self.done,
        )
        self._end_spans(self.result)
        return self.result

    def fallbacks(self) -> tuple[Fallback, ...]:
        taken = tuple(self.generation.fallbacks) if self.generation is not None else ()
        return (*self.plan.fallbacks, *taken)

    def redactions(self) -> tuple[tuple[str, int], ...]:
        counts: Counter[str] = Counter()
        for text_filter in self.filters:
            for kind, count in text_filter.counts.items():
                counts[str(kind)] += count
        return tuple((kind, count) for kind, count in counts.items() if count)

    def _usage(self) -> tuple[str, int, int]:
        """Who answered (after any fallback) and the tokens it reported or we estimated."""
        if self.generation is None:
            return self.plan.model, 0, 0
        return self.usage.model, self.usage.tokens_in, self.usage.tokens_out

    def _cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        accountant = self.context.services.accountant
        return accountant.cost_of(model, tokens_in=tokens_in, tokens_out=tokens_out)

    def _side_cost(self) -> float:
        """What the plan's side calls (a follow-up condensed) cost, for ``done``'s total."""
        return sum(call.cost_usd for call in self.context.priced_side_calls())

    def _done(self, finish_reason: str) -> DoneEvent:
        model, tokens_in, tokens_out = self._usage()
        fallbacks = self.fallbacks()
        degraded = Degraded(fallbacks[0].code, fallbacks[0].layer) if fallbacks else None
        ttft_ms = None
        if self.first_token_at is not None:
            ttft_ms = self.context.elapsed_ms(self.first_token_at)
        done = DoneEvent(
            finish_reason=finish_reason,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=self._cost(model, tokens_in, tokens_out) + self._side_cost(),
            ttft_ms=ttft_ms,
            latency_ms=self.context.elapsed_ms(),
            cache_hit=self.plan.cache_hit,
            fallbacks=tuple(step.label for step in fallbacks),
            degraded=degraded,
            answered_by=model if degraded is not None else None,
        )
        for text_filter in self.filters:
            if isinstance(text_filter, DoneAnnotator):
                done = text_filter.annotate(done)
        return done

    def _store_in_cache(self) -> None:
        """A clean answer (stop, nothing redacted, no fallback) is stored for the next asker."""
        cache, key, done = self.context.services.cache, self.plan.cache_key, self.done
        if cache is None or key is None or done is None or self.parts is None:
            return
        clean = done.finish_reason == "stop" and self.outcome == "ok" and not done.fallbacks
        if clean and self.parts and not self.redactions():
            cache.store(key, "".join(self.parts))

    def _end_spans(self, result: StreamResult) -> None:
        span = self.span
        if span is not None:
            if self.generation is not None:
                span.set_attribute("beacon.fallbacks", [step.label for step in result.fallbacks])
                span.set_attribute("beacon.retries", self.generation.retries)
            span.set_attribute("gen_ai.usage.input_tokens", result.tokens_in)
            span.set_attribute("gen_ai.usage.output_tokens", result.tokens_out)
            span.end()
        tracer, parent = self.context.services.tracer, self.context.parent
        redact = tracer.start_span("beacon.redact", context=parent)
        redact.set_attribute("beacon.redactions.total", sum(n for _, n in result.redactions))
        for kind, count in result.redactions:
            redact.set_attribute(f"beacon.redactions.{kind}", count)
        redact.end()


async def _fixed(text: str) -> AsyncIterator[str]:
    """Serve a templated or cached answer through the same filters, in pieces."""
    for piece in split_into_pieces(split_into_chunks(text)):
        yield piece
