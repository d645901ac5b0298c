"""``POST /feedback``: a thumbs up or down on one answer (by its trace_id), with a comment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from service.api.deps import CallerDep, ServicesDep, TraceDep
from service.feedback import Feedback, FeedbackStore
from service.feedback.recorder import record_answers
from service.pipeline.context import AskContext
from service.pipeline.events import Event
from service.pipeline.redact import redact_value
from service.schemas import ErrorBody

MAX_COMMENT_CHARS = 1000

router = APIRouter()


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The rated answer's trace_id.")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"
    )


class FeedbackAccepted(BaseModel):
    status: Literal["recorded"]
    trace_id: str


async def get_feedback_store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.state.feedback
    return store


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]


@router.post(
    "/feedback",
    status_code=202,
    response_model=FeedbackAccepted,
    responses={status: {"model": ErrorBody} for status in (401, 413, 422)},
)
async def post_feedback(
    body: FeedbackRequest,
    _caller: CallerDep,
    store: FeedbackStoreDep,
    services: ServicesDep,
    trace: TraceDep,
) -> JSONResponse:
    """Record the customer's rating; the latest rating of an answer wins."""
    comment = body.comment or None
    if comment is not None:  # customers paste card numbers and phone numbers into comments
        comment = str(redact_value(comment, services.policy, canaries=services.config.canaries))
    feedback = Feedback(body.trace_id, body.rating, comment, body.conversation_id)
    await store.add(feedback)
    services.metrics.feedback.labels(body.rating).inc()
    payload = {"status": "recorded", "trace_id": body.trace_id}
    return JSONResponse(payload, status_code=202, headers={"x-trace-id": trace.trace_id})


def answer_recorder(
    store: FeedbackStore, context: AskContext, question: str
) -> Callable[[AsyncIterator[Event]], AsyncIterator[Event]]:
    """A tap that records the answer (question redacted) when its stream ends with ``done``."""
    services = context.services

    def tap(events: AsyncIterator[Event]) -> AsyncIterator[Event]:
        return record_answers(
            events,
            store=store,
            trace_id=context.trace.trace_id,
            question=question,
            redact=lambda text: str(
                redact_value(text, services.policy, canaries=services.config.canaries)
            ),
        )

    return tap
