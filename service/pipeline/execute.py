"""Stream: ``execute(plan, context)`` turns an ``AnswerPlan`` into typed events.

provider → resilience (one ``Generation`` generator: deadlines, retries, fallback chain) → text
filters (sync, composed in this one loop: the redactor first, then any other) → typed events.
The encoder and the ASGI ``send`` consume this generator directly, so a token crosses four
async-generator layers from the upstream socket: the connection's body reader, the provider,
the generation and this loop (``tests/pipeline/test_layers.py`` counts them).

Exactly one terminal event (``done`` or ``error``) ends every stream that is read to its end.
Whatever happens, ``on_end`` gets one ``StreamResult`` (a client that leaves included).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import structlog

from service.errors import InternalError, ServiceError
from service.pipeline.context import AskContext
from service.pipeline.events import (
    Citation,
    ErrorEvent,
    Event,
    EvidenceEvent,
    HandoffEvent,
    MetaEvent,
    QueuedEvent,
    Retrieved,
    TokenEvent,
)
from service.pipeline.plan import AnswerPlan
from service.pipeline.stream_run import StreamResult, StreamRun

log = structlog.get_logger("beacon.pipeline")


StreamEnded = Callable[[StreamResult], None]


async def execute(
    plan: AnswerPlan, context: AskContext, *, on_end: StreamEnded | None = None
) -> AsyncIterator[Event]:
    """The plan's events: opening events, tokens, then ``done`` or ``error``."""
    run = StreamRun(plan, context)
    outcome = "error"
    try:
        for event in opening_events(plan):
            yield event
        source = run.open()
        filters = run.filters
        async for chunk in source:
            for text_filter in filters:
                chunk = text_filter.feed(chunk)
            if chunk:
                run.sent(chunk)
                yield TokenEvent(chunk)
            if run.blocked():
                await run.stop(source)  # the model stops writing what nobody will read
                break
        tail = run.flush()
        if tail:
            run.sent(tail)
            yield TokenEvent(tail)
        for event in run.closing_events():
            yield event
        outcome = run.outcome
    except ServiceError as error:
        run.failed(error)
        yield ErrorEvent(error)
    except (asyncio.CancelledError, GeneratorExit):
        outcome = "client_disconnected"
        raise
    except Exception:
        log.exception("ask_failed", trace_id=context.trace.trace_id)
        run.failed(InternalError())
        yield ErrorEvent(InternalError())
    finally:
        result = run.finish(outcome)
        if on_end is not None:
            on_end(result)


def opening_events(plan: AnswerPlan) -> Iterator[Event]:
    """What the client learns before the answer: queue place, route, evidence, handoff."""
    if plan.admitted is not None and plan.admitted.queued_position is not None:
        yield QueuedEvent(plan.admitted.queued_position)
    yield MetaEvent(
        route=plan.route,
        reason=plan.reason,
        tier=plan.tier,
        model=plan.model,
        prompt_version=plan.prompt_version,
        kb_version=plan.kb_version,
        conversation_id=plan.conversation_id,
        lang=plan.lang,
        turn=plan.turn,
    )
    yield EvidenceEvent(
        citations=tuple(
            Citation(item.id, item.title, round(item.score, 4), item.source, item.version)
            for item in plan.citations
        ),
        retrieved=tuple(Retrieved(item.id, round(item.score, 4)) for item in plan.evidence),
    )
    if plan.handoff_reason is not None and plan.ticket_id is not None:
        yield HandoffEvent(plan.handoff_reason, plan.ticket_id)
