"""The OpenAI-compatible door: ``POST /v1/chat/completions`` (streaming or not), ``GET /v1/models``.

Existing OpenAI clients (the ``openai`` SDK, LangChain's ``ChatOpenAI``) work unmodified: their
last message is the question, the history names the conversation, and the answer goes through
the same ``plan`` and ``execute`` as ``/ask`` (routing, redaction, admission and accounting
included), re-shaped by ``service.chat_completions.chunks``. Citations travel in the ``beacon``
extension field. With an ``Idempotency-Key`` header a streamed answer is a resumable turn: the
same key again replays it from the buffer instead of asking the model twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from service.api.deps import CallerDep, ServicesDep, TraceDep
from service.api.feedback import FeedbackStoreDep, answer_recorder
from service.api.turns import TurnBufferDep, answer_as_turn
from service.chat_completions.chunks import ChunkEncoder, completion_body
from service.chat_completions.schemas import MODEL_ID, ChatCompletionRequest, conversation_of
from service.errors import InputError, ServiceError, error_response
from service.pipeline.accounting import AccountedAsk
from service.pipeline.context import AskContext
from service.pipeline.encoder import collect_response
from service.pipeline.events import Event
from service.schemas import AskRequest, AskResponse, ErrorBody

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 404, 409, 413, 422, 429, 502, 503, 504)
}


class ModelNotFound(InputError):
    status = 404
    code = "model_not_found"
    default_message = f"Unknown model; this service answers as '{MODEL_ID}' (GET /v1/models)."


@router.get("/models")
async def list_models(_caller: CallerDep) -> dict[str, Any]:
    """The one model this door answers as; Beacon routes each question to its own models."""
    model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "beacon"}
    return {"object": "list", "data": [model]}


@router.post(
    "/chat/completions",
    responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS},
)
async def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    trace: TraceDep,
    turns: TurnBufferDep,
    feedback: FeedbackStoreDep,
) -> Response:
    """A chat completion in OpenAI's format; ``beacon`` holds trace id, route and citations."""
    if body.model != MODEL_ID:
        raise ModelNotFound()
    chat = conversation_of(body, caller=caller.identity)
    ask = AskRequest(question=chat.question, conversation_id=chat.conversation_id, channel="api")
    context = AskContext(services, trace, caller)
    tap = answer_recorder(feedback, context, ask.question)
    encoder = ChunkEncoder(
        trace_id=trace.trace_id, model=body.model, include_usage=body.include_usage
    )
    turn_id = request.headers.get("idempotency-key")
    if body.stream and turn_id is not None:
        return await answer_as_turn(
            ask=ask,
            context=context,
            turn_id=turn_id,
            request_key=f"chat:{body.model_dump_json()}",
            turns=turns,
            codec=encoder,
            tap=tap,
        )
    answer = AccountedAsk(ask, context)
    try:
        await answer.plan()
    except ServiceError as refused:  # accounted already: only the HTTP form is left to send
        return error_response(refused, trace.trace_id)
    if body.stream:
        frames = _frames(tap(answer.stream()), encoder, answer.close)
        return StreamingResponse(
            frames, media_type="text/event-stream", headers=_headers(trace.trace_id)
        )
    try:
        collected = await collect_response(tap(answer.stream()), trace.trace_id)
    finally:
        answer.close()
    if isinstance(collected, AskResponse):
        return JSONResponse(
            completion_body(collected, model=body.model), headers=_headers(trace.trace_id)
        )
    return error_response(collected, trace.trace_id)


async def _frames(
    events: AsyncIterator[Event], encoder: ChunkEncoder, close: Callable[[], None]
) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            frame = encoder.encode(event)
            if frame:
                yield frame
    finally:  # a client that left closes the answer (and its model call) now, not at GC
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
        close()


def _headers(trace_id: str) -> dict[str, str]:
    return {"x-trace-id": trace_id, "cache-control": "no-cache", "x-accel-buffering": "no"}
