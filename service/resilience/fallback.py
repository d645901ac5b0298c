"""The fallback chain around any ``ChatProvider``: strong → cheap → FAQ answer → human handoff.

Each model step runs under its tier's deadlines and its circuit breaker, and is retried (before
its first token only) while the request's retry budget allows. A step that fails before sending
anything hands over to the next one, so the customer sees one answer from one source. Once a
token has been sent the answer is committed: a later failure propagates and ends the stream with
one ``error`` event, never with a second answer spliced onto the first.

It works on the provider protocol alone, so every provider (langchain-openai, a direct HTTP
client, the embedded ``faq``) gets the same behaviour, as long as it raises only the typed
``ProviderError`` family.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace

from rag.language import Lang
from service.errors import ProviderError, ProviderUnavailable
from service.faults import current_faults
from service.observability.ask_record import AskRecord
from service.observability.metrics import Metrics
from service.providers.base import ChatProvider, GenerationRequest, Usage
from service.providers.faq import FAQ_MODEL, split_into_chunks
from service.resilience.breaker import CircuitBoard
from service.resilience.deadline import Deadlines, stream_within
from service.resilience.degrade import record_fallback
from service.resilience.retry import RetryBudget, RetryPolicy
from service.resilience.token_estimate import estimate_prompt_tokens

HandoffText = Callable[[Lang, str], str]
Sleep = Callable[[float], Awaitable[None]]
SIM_FAULT_HEADER = "x-sim-fault"


class CircuitOpen(ProviderUnavailable):
    default_message = "The answer model is cooling down after repeated failures."


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    """``hard``, ``easy``, ``faq`` or ``handoff``: the closed set behind the fallback labels."""
    model: str
    deadlines: Deadlines | None = None


HANDOFF = Step("handoff", "none")
FAQ_STEP = Step("faq", FAQ_MODEL)


@dataclass(frozen=True, slots=True)
class TierModels:
    easy: str
    hard: str


class ResilientGenerator:
    """Builds one ``Generation`` per request; owns what outlives requests (the breakers)."""

    def __init__(
        self,
        *,
        provider: ChatProvider,
        faq_provider: ChatProvider,
        models: TierModels,
        deadlines: dict[str, Deadlines],
        retry: RetryPolicy,
        breakers: CircuitBoard,
        metrics: Metrics,
        handoff_text: HandoffText,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.faq_provider = faq_provider
        self.models = models
        self.deadlines = deadlines
        self.retry = retry
        self.breakers = breakers
        self.metrics = metrics
        self.handoff_text = handoff_text
        self.rng = rng or random.Random()
        self.sleep = sleep

    def chain_for(self, request: GenerationRequest, *, with_faq: bool) -> list[Step]:
        """The steps for ``request``: its model, the cheap model, the FAQ answer, a handoff."""
        if request.model == FAQ_MODEL:
            return [FAQ_STEP, HANDOFF]
        steps = [self._model_step(request.model)]
        if request.model != self.models.easy:
            steps.append(self._model_step(self.models.easy))
        if with_faq and request.evidence:
            steps.append(FAQ_STEP)
        return [*steps, HANDOFF]

    def _model_step(self, model: str) -> Step:
        name = "easy" if model == self.models.easy else "hard"
        return Step(name, model, self.deadlines[name])

    def open(
        self, request: GenerationRequest, record: AskRecord, *, ticket_id: str, with_faq: bool
    ) -> Generation:
        """``with_faq=False`` skips the FAQ step (risky questions go to a person instead)."""
        steps = self.chain_for(request, with_faq=with_faq)
        return Generation(self, request, record, steps=steps, ticket_id=ticket_id)


class Generation:
    """One request's walk down the chain; read ``handed_off`` and ``retries`` once it ends."""

    def __init__(
        self,
        owner: ResilientGenerator,
        request: GenerationRequest,
        record: AskRecord,
        *,
        steps: list[Step],
        ticket_id: str,
    ) -> None:
        self.owner = owner
        self.request = request
        self.record = record
        self.steps = steps
        self.ticket_id = ticket_id
        self.budget = RetryBudget(owner.retry, owner.rng)
        self.handed_off = False
        self.started = False
        self._model_fault = current_faults().model_fault

    @property
    def retries(self) -> int:
        return self.budget.retries

    async def stream(self, usage: Usage) -> AsyncIterator[str]:
        failed: tuple[Step, ProviderError] | None = None
        for step in self.steps:
            if failed is not None:
                source, cause = failed
                metrics = self.owner.metrics
                record_fallback(
                    self.record, metrics, source=source.name, target=step.name, cause=cause
                )
            try:
                async for chunk in self._run(step, usage):
                    self.started = True
                    yield chunk
                return
            except ProviderError as error:
                if self.started:
                    raise
                failed = (step, error)

    def _run(self, step: Step, usage: Usage) -> AsyncIterator[str]:
        _reset(usage, step.model)
        if step is HANDOFF:
            self.handed_off = True
            return _chunks(self.owner.handoff_text(self.request.lang, self.ticket_id))
        if step is FAQ_STEP:
            return self.owner.faq_provider.stream(replace(self.request, model=FAQ_MODEL), usage)
        return self._call_model(step, usage)

    async def _call_model(self, step: Step, usage: Usage) -> AsyncIterator[str]:
        breaker = self.owner.breakers[step.model]
        for attempt in range(1, self.owner.retry.attempts_per_model + 1):
            if not breaker.try_acquire():
                raise CircuitOpen()
            request = self._request_for(step.model)
            _reset(usage, step.model)
            usage.tokens_in = estimate_prompt_tokens(request.messages)  # until usage is reported
            settled = False
            try:
                assert step.deadlines is not None
                source = self.owner.provider.stream(request, usage)
                async for chunk in stream_within(source, step.deadlines):
                    yield chunk
                breaker.record_success()
                settled = True
                return
            except ProviderError as error:
                breaker.record_failure()
                settled = True
                delay = None if self.started else self.budget.next_delay(error, attempt=attempt)
                if delay is None:
                    raise
            finally:
                if not settled:
                    breaker.release()
            await self.owner.sleep(delay)

    def _request_for(self, model: str) -> GenerationRequest:
        """The request for ``model``; a drill's model fault applies to the first call only."""
        headers = dict(self.request.headers)
        if self._model_fault is not None:
            headers[SIM_FAULT_HEADER] = self._model_fault
            self._model_fault = None
        return replace(self.request, model=model, headers=headers)


def _reset(usage: Usage, model: str) -> None:
    usage.model, usage.tokens_in, usage.tokens_out, usage.reported = model, 0, 0, False


async def _chunks(text: str) -> AsyncIterator[str]:
    for chunk in split_into_chunks(text):
        yield chunk
