"""``POST /ask``: stream an answer as Server-Sent Events, or return one JSON body.

Order at the door: the caller's key (401), then the body (422), then the plan (400, 429 with
``Retry-After``, ...). Whatever the plan refuses is a plain HTTP error in both modes; once it
has a plan, the answer streams (SSE) or is collected into ``AskResponse`` (JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from service.api.deps import CallerDep, ServicesDep, TraceDep
from service.api.feedback import FeedbackStoreDep, answer_recorder
from service.api.turns import SSETurnCodec, TurnBufferDep, answer_as_turn
from service.errors import ServiceError, error_response
from service.pipeline.accounting import AccountedAsk
from service.pipeline.context import AskContext
from service.pipeline.encoder import collect_response
from service.schemas import AskRequest, AskResponse, ErrorBody, question_limit
from service.sse import SSEResponse

router = APIRouter()

_ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 413, 422, 429, 502, 503, 504)}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AskRequest"}}},
}


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS},  # type: ignore[dict-item]
    openapi_extra={"requestBody": _BODY},
)
async def ask(
    request: Request,
    services: ServicesDep,
    trace: TraceDep,
    caller: CallerDep,
    turns: TurnBufferDep,
    feedback: FeedbackStoreDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    body = await read_ask(request, max_chars=services.config.max_question_chars)
    context = AskContext(services, trace, caller)
    # One turn of a conversation at a time, until its answer has been sent (409 after a wait).
    release = await services.conversations.locks.acquire(body.conversation_id)
    if idempotency_key is not None and "application/json" not in request.headers.get("accept", ""):
        return await answer_as_turn(  # a resumable turn: survives a dropped connection
            ask=body,
            context=context,
            turn_id=idempotency_key,
            request_key=f"ask:{body.model_dump_json()}",
            turns=turns,
            codec=SSETurnCodec(trace.trace_id),
            tap=answer_recorder(feedback, context, body.question),  # for feedback export
            release=release,
        )
    return await answer_now(request, AccountedAsk(body, context), release)


async def answer_now(
    request: Request, answer: AccountedAsk, release: Callable[[], None]
) -> Response:
    """Plan, then stream (SSE) or collect (JSON); ``release`` frees the conversation's turn."""
    trace_id = answer.context.trace.trace_id

    def close() -> None:
        answer.close()
        release()

    try:
        await answer.plan()
    except ServiceError as refused:  # accounted already: only the HTTP form is left to send
        release()
        return error_response(refused, trace_id)
    except BaseException:
        release()
        raise
    if "application/json" not in request.headers.get("accept", ""):
        keepalive = answer.context.services.config.keepalive_s
        return SSEResponse(
            answer.stream(), trace_id=trace_id, keepalive_s=keepalive, on_close=close
        )
    try:
        collected = await collect_response(answer.stream(), trace_id)
    finally:
        close()
    if isinstance(collected, AskResponse):
        headers = {"x-trace-id": trace_id}
        return Response(collected.model_dump_json(), media_type="application/json", headers=headers)
    return error_response(collected, trace_id)


async def read_ask(request: Request, *, max_chars: int) -> AskRequest:
    """The validated body (after authentication: a bad key never learns the schema)."""
    try:
        return AskRequest.model_validate_json(
            await request.body(), context=question_limit(max_chars)
        )
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors()]
        ) from None
