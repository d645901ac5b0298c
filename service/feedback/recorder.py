"""Remember what each answer was, so feedback on it can later become a regression case.

``record_answers`` taps an answer's event stream (it passes every event on unchanged) and, when
the stream ends with ``done``, stores the redacted question, the answer text and the cited
entries under the trace id. Per token it only appends the text to a list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import structlog

from service.feedback.store import AnsweredTurn, Citation, FeedbackStore
from service.pipeline.events import DoneEvent, Event, EvidenceEvent, MetaEvent, TokenEvent

log = structlog.get_logger("beacon.feedback")


async def record_answers(
    events: AsyncIterator[Event],
    *,
    store: FeedbackStore,
    trace_id: str,
    question: str,
    redact: Callable[[str], str],
) -> AsyncIterator[Event]:
    parts: list[str] = []
    citations: tuple[Citation, ...] = ()
    meta: MetaEvent | None = None
    finished = False
    try:
        async for event in events:
            if type(event) is TokenEvent:
                parts.append(event.text)
            elif isinstance(event, MetaEvent):
                meta = event
            elif isinstance(event, EvidenceEvent):
                citations = tuple(Citation(c.id, c.title, c.source) for c in event.citations)
            elif isinstance(event, DoneEvent):
                finished = True
            yield event
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    if finished:  # after the terminal event has gone out: the customer never waits for this
        answer = AnsweredTurn(
            trace_id=trace_id,
            question=redact(question),
            answer="".join(parts),
            citations=citations,
            route=meta.route if meta is not None else None,
            lang=meta.lang if meta is not None else None,
        )
        try:
            await store.record_answer(answer)
        except Exception:  # feedback bookkeeping must never break an answer
            log.exception("answer_record_failed", trace_id=trace_id)
