"""The fallback chain around any ``ChatProvider``: strong → cheap → FAQ answer → human handoff.

Each model step runs under its tier's deadlines and its circuit breaker, and is retried (before
its first token only) while the request's retry budget allows. A step that fails before sending
anything hands over to the next one, so the customer sees one answer from one source. Once a
token has been sent the answer is committed: a later failure propagates and ends the stream with
one ``error`` event, never with a second answer spliced onto the first.

``Generation.stream`` is ONE async generator around the provider's: the deadline timer, the
retries and the chain are plain loops inside it, so a token crosses one layer here, not three.
It works on the provider protocol alone, so every provider (langchain-openai, the direct HTTP
client, the embedded ``faq``) gets the same behaviour, as long as it raises only the typed
``ProviderError`` family.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

from rag.language import Lang
from service.errors import ProviderError, ProviderTimeout, ProviderUnavailable
from service.providers.base import ChatProvider, GenerationRequest, Usage
from service.providers.faq import FAQ_MODEL, split_into_chunks
from service.resilience.breaker import CircuitBoard, CircuitBreaker
from service.resilience.deadline import Deadlines, DeadlineTimer
from service.resilience.degrade import Fallback
from service.resilience.retry import RetryBudget, RetryPolicy
from service.resilience.token_estimate import estimate_prompt_tokens

HandoffText = Callable[[Lang, str], str]
Sleep = Callable[[float], Awaitable[None]]


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
        deadlines: Mapping[str, Deadlines],
        retry: RetryPolicy,
        breakers: CircuitBoard,
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
        self.handoff_text = handoff_text
        self.rng = rng or random.Random()
        self.sleep = sleep

    def tier_of(self, model: str) -> str:
        return "easy" if model == self.models.easy else "hard"

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
        tier = self.tier_of(model)
        return Step(tier, model, self.deadlines[tier])

    def open(self, request: GenerationRequest, *, ticket_id: str, with_faq: bool) -> Generation:
        """``with_faq=False`` skips the FAQ step (risky questions go to a person instead)."""
        steps = self.chain_for(request, with_faq=with_faq)
        return Generation(self, request, steps=steps, ticket_id=ticket_id)


@dataclass(slots=True)
class Attempt:
    """One call of one step: its source, and for a model its deadline timer and breaker."""

    step: Step
    index: int
    number: int
    source: AsyncIterator[str]
    timer: DeadlineTimer | None = None
    breaker: CircuitBreaker | None = None


class Generation:
    """One request's walk down the chain; read ``fallbacks``, ``handed_off`` and ``retries``
    once it ends."""

    def __init__(
        self,
        owner: ResilientGenerator,
        request: GenerationRequest,
        *,
        steps: list[Step],
        ticket_id: str,
    ) -> None:
        self.owner = owner
        self.request = request
        self.steps = steps
        self.ticket_id = ticket_id
        self.budget = RetryBudget(owner.retry, owner.rng)
        self.fallbacks: list[Fallback] = []
        self.handed_off = False
        self.started = False

    @property
    def retries(self) -> int:
        return self.budget.retries

    async def stream(self, usage: Usage) -> AsyncIterator[str]:
        """The answer's text from the first step that can give it; one generator layer."""
        attempt = self._begin(0, 1, usage, cause=None)
        while True:
            source, timer = attempt.source, attempt.timer
            gap_s = timer.deadlines.first_token_s if timer is not None else 0.0
            try:
                while True:
                    if timer is not None:
                        timer.wait(gap_s)
                    try:
                        chunk = await anext(source)
                    except StopAsyncIteration:
                        break
                    except asyncio.CancelledError:
                        if timer is not None and timer.timed_out():
                            raise ProviderTimeout() from None
                        raise
                    if timer is not None:
                        timer.received()
                        gap_s = timer.deadlines.chunk_s
                    self.started = True
                    yield chunk
            except ProviderError as error:
                if timer is not None:
                    timer.cancel()  # before any backoff sleep: it is not the upstream's wait
                attempt = await self._after_failure(attempt, error, usage)
                continue
            except BaseException:  # the client left, or the consumer closed us
                if attempt.breaker is not None:
                    attempt.breaker.release()
                await _close(source)
                raise
            finally:
                if timer is not None:
                    timer.cancel()
            if attempt.breaker is not None:
                attempt.breaker.record_success()
            return

    def _begin(
        self, index: int, number: int, usage: Usage, *, cause: tuple[Step, ProviderError] | None
    ) -> Attempt:
        """Start step ``index`` (call ``number``), or the first later step that can start."""
        while True:
            step = self.steps[index]
            if cause is not None:
                failed, error = cause
                self.fallbacks.append(Fallback.after(error, source=failed.name, target=step.name))
            _reset(usage, step.model)
            if step is HANDOFF:
                self.handed_off = True
                text = self.owner.handoff_text(self.request.lang, self.ticket_id)
                return Attempt(step, index, number, _chunks(text))
            if step is FAQ_STEP:
                faq = replace(self.request, model=FAQ_MODEL)
                return Attempt(step, index, number, self.owner.faq_provider.stream(faq, usage))
            breaker = self.owner.breakers[step.model]
            if breaker.try_acquire():
                assert step.deadlines is not None
                request = replace(self.request, model=step.model)
                usage.tokens_in = estimate_prompt_tokens(request.messages)  # until reported
                source = self.owner.provider.stream(request, usage)
                return Attempt(step, index, number, source, DeadlineTimer(step.deadlines), breaker)
            cause, index, number = (step, CircuitOpen()), index + 1, 1

    async def _after_failure(self, attempt: Attempt, error: ProviderError, usage: Usage) -> Attempt:
        """Retry the same model (before the first token, within budget) or fall back."""
        if attempt.breaker is not None:
            attempt.breaker.record_failure()
        if self.started or attempt.step is HANDOFF:
            raise error
        delay = None
        if attempt.breaker is not None:
            delay = self.budget.next_delay(error, attempt=attempt.number)
        if delay is not None:
            await self.owner.sleep(delay)
            return self._begin(attempt.index, attempt.number + 1, usage, cause=None)
        return self._begin(attempt.index + 1, 1, usage, cause=(attempt.step, error))


def _reset(usage: Usage, model: str) -> None:
    usage.model, usage.tokens_in, usage.tokens_out, usage.reported = model, 0, 0, False


async def _chunks(text: str) -> AsyncIterator[str]:
    for chunk in split_into_chunks(text):
        yield chunk


async def _close(source: AsyncIterator[str]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
