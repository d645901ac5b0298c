"""Remember what each answer was, so feedback on it can later become a regression case.

``record_answers`` taps an answer's event stream (it passes every event on unchanged) and, when
the stream ends with ``done``, stores the redacted question, the answer text and the cited
entries under the trace id. Per token it only appends the text to a list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog

from service.feedback.store import AnsweredTurn, Citation, FeedbackStore

log = structlog.get_logger("beacon.feedback")

Event = tuple[str, Any]


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
    meta: dict[str, Any] = {}
    finished = False
    try:
        async for name, payload in events:
            if name == "token":
                parts.append(payload)
            elif name == "meta":
                meta = payload
            elif name == "evidence":
                citations = tuple(_citation(item) for item in payload.get("citations", []))
            elif name == "done":
                finished = True
            yield name, payload
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
            route=meta.get("route"),
            lang=meta.get("lang"),
        )
        try:
            await store.record_answer(answer)
        except Exception:  # feedback bookkeeping must never break an answer
            log.exception("answer_record_failed", trace_id=trace_id)


def _citation(item: dict[str, Any]) -> Citation:
    return Citation(id=str(item["id"]), title=str(item["title"]), source=str(item["source"]))
