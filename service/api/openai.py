"""The OpenAI-compatible door: ``POST /v1/chat/completions`` (streaming or not), ``GET /v1/models``.

Existing OpenAI clients (the ``openai`` SDK, LangChain's ``ChatOpenAI``) work unmodified: their
last message is the question, the history names the conversation, and the answer comes from the
same pipeline as ``/ask`` (routing, redaction, admission and accounting included), re-shaped by
``service.chat_completions.chunks``. Citations travel in the ``beacon`` extension field. With an
``Idempotency-Key`` header a streamed answer is a resumable turn: the same key again replays it
from the buffer instead of asking the model twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from service.api.caller import CallerDep
from service.api.deps import AnswererDep, ResourcesDep, TraceDep
from service.api.feedback import FeedbackStoreDep
from service.api.turns import TurnBufferDep, resumable_response
from service.chat_completions.chunks import ChunkEncoder, completion_body
from service.chat_completions.schemas import (
    MODEL_ID,
    ChatCompletionRequest,
    conversation_of,
)
from service.errors import InputError, error_for_code, error_response
from service.feedback.recorder import record_answers
from service.pipeline.events import Event, collect_answer
from service.pipeline.redact import redact_value
from service.schemas import AskRequest, ErrorBody

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 404, 413, 422, 429, 502, 503, 504)
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
    answerer: AnswererDep,
    resources: ResourcesDep,
    trace: TraceDep,
    turns: TurnBufferDep,
    feedback: FeedbackStoreDep,
) -> Response:
    """A chat completion in OpenAI's format; ``beacon`` holds trace id, route and citations."""
    if body.model != MODEL_ID:
        raise ModelNotFound()
    conversation = conversation_of(body, caller=caller)
    ask = AskRequest(
        question=conversation.question,
        conversation_id=conversation.conversation_id,
        channel="api",
    )

    def start() -> AsyncIterator[Event]:
        ticket = resources.admission.admit(request.headers)  # 401/429 before any byte
        return record_answers(
            answerer.stream(ask, trace, ticket),
            store=feedback,
            trace_id=trace.trace_id,
            question=ask.question,
            redact=lambda text: str(redact_value(text, answerer.policy)),
        )

    if not body.stream:
        return await _complete(start(), trace.trace_id, model=body.model)
    encoder = ChunkEncoder(
        trace_id=trace.trace_id, model=body.model, include_usage=body.include_usage
    )
    turn_id = request.headers.get("idempotency-key")
    if turn_id is None:
        frames = _frames(start(), encoder)
        return StreamingResponse(
            frames, media_type="text/event-stream", headers=_headers(trace.trace_id)
        )
    return await resumable_response(
        turn_id=turn_id,
        request_key=f"chat:{body.model_dump_json()}",
        turns=turns,
        caller=caller,
        trace_id=trace.trace_id,
        start=start,
        codec=encoder,
        keepalive_s=resources.settings.limits.keepalive_s,
    )


async def _complete(events: AsyncIterator[Event], trace_id: str, *, model: str) -> Response:
    answer = await collect_answer(events, trace_id)
    if "error" in answer:
        return error_response(error_for_code(str(answer["error"].get("code"))), trace_id)
    return JSONResponse(completion_body(answer, model=model), headers=_headers(trace_id))


async def _frames(events: AsyncIterator[Event], encoder: ChunkEncoder) -> AsyncIterator[bytes]:
    try:
        async for name, payload in events:
            frame = encoder.encode(name, payload)
            if frame:
                yield frame
    finally:  # a client that left closes the answer (and its model call) now, not at GC
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def _headers(trace_id: str) -> dict[str, str]:
    return {"x-trace-id": trace_id, "cache-control": "no-cache", "x-accel-buffering": "no"}
