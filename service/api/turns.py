"""Resumable turns over HTTP: reconnect to a turn's stream, or stop it.

``GET /ask/turns/{turn_id}/stream`` with ``Last-Event-ID`` replays the events after that id and
follows the live ones; ``POST /ask/turns/{turn_id}/cancel`` stops the generation. A turn is
started by ``POST /ask`` with an ``Idempotency-Key`` header (``answer_as_turn``): the same key
again replays the same turn instead of asking the model twice.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from service.api.deps import CallerDep, ServicesDep
from service.errors import InternalError, InvalidRequest, ServiceError, error_response
from service.pipeline.accounting import AccountedAsk
from service.pipeline.context import AskContext
from service.pipeline.encoder import KEEPALIVE_FRAME, SSEEncoder
from service.pipeline.events import DoneEvent, ErrorEvent, Event
from service.schemas import AskRequest, ErrorBody
from service.turns import TurnBuffer, TurnCodec, TurnConflict, fingerprint
from service.turns.buffer import TurnReader

TURN_ID_PATTERN = r"^[A-Za-z0-9._:\-]{8,128}$"
_TURN_ID = re.compile(TURN_ID_PATTERN)  # a bounded character class: linear time
TurnId = Annotated[str, Path(pattern=TURN_ID_PATTERN)]

router = APIRouter()


class CancelResult(BaseModel):
    status: Literal["cancelled", "finished"]
    turn_id: str


async def get_turn_buffer(request: Request) -> TurnBuffer:
    turns: TurnBuffer = request.state.turns
    return turns


TurnBufferDep = Annotated[TurnBuffer, Depends(get_turn_buffer)]


@router.get(
    "/ask/turns/{turn_id}/stream",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The rest of the turn."},
        **{status: {"model": ErrorBody} for status in (401, 404, 410, 422)},
    },
)
async def resume_turn(
    turn_id: TurnId,
    turns: TurnBufferDep,
    caller: CallerDep,
    services: ServicesDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The turn's events after ``Last-Event-ID`` (all of them without it), then live ones."""
    turn = await turns.get(turn_id, owner=caller.identity)
    after = _event_id(last_event_id)
    await turn.ensure_available(after)  # 410 now, before the first byte
    return turn_response(turn, after=after, keepalive_s=services.config.keepalive_s)


@router.post(
    "/ask/turns/{turn_id}/cancel",
    response_model=CancelResult,
    responses={status: {"model": ErrorBody} for status in (401, 404, 422)},
)
async def cancel_turn(turn_id: TurnId, turns: TurnBufferDep, caller: CallerDep) -> CancelResult:
    """Stop the turn's generation (its readers get a final ``done`` with ``cancelled``)."""
    stopped = await turns.cancel(turn_id, owner=caller.identity)
    return CancelResult(status="cancelled" if stopped else "finished", turn_id=turn_id)


async def answer_as_turn(
    *,
    ask: AskRequest,
    context: AskContext,
    turn_id: str,
    request_key: str,
    turns: TurnBuffer,
    codec: TurnCodec,
    tap: Callable[[AsyncIterator[Event]], AsyncIterator[Event]] = lambda events: events,
    release: Callable[[], None] = lambda: None,
) -> Response:
    """Answer ``ask`` as the resumable turn ``turn_id`` (an ``Idempotency-Key``).

    A key this caller already used for the same request replays that turn from its first event
    (no plan, no model call, no second bill); a new key is planned (a refusal is a plain HTTP
    error, as on ``/ask``) and its stream runs in the buffer, outliving this connection. ``tap``
    observes the events (feedback's answer record); ``release`` frees the conversation's turn
    once the turn is over (replayed, refused, or streamed to its end)."""
    if not _valid_turn_id(turn_id):
        raise InvalidRequest("The Idempotency-Key must be 8-128 letters, digits or ._:-")
    owner, key = context.caller.identity, fingerprint(request_key)
    keepalive_s = context.services.config.keepalive_s
    existing = await turns.find(turn_id, owner=owner)
    if existing is not None:
        release()
        if existing.fingerprint != key:
            raise TurnConflict()
        return turn_response(existing, after=0, keepalive_s=keepalive_s)
    answer = AccountedAsk(ask, context)

    def close() -> None:
        answer.close()
        release()

    try:
        await answer.plan()
    except ServiceError as refused:  # accounted already: only the HTTP form is left to send
        release()
        return error_response(refused, context.trace.trace_id)
    except BaseException:
        release()
        raise
    turn, started = await turns.start(
        turn_id,
        owner=owner,
        fingerprint=key,
        trace_id=context.trace.trace_id,
        events=lambda: _closing(tap(answer.stream()), close),
        codec=codec,
    )
    if not started:  # a concurrent request with this key won: this plan is never streamed
        close()
    return turn_response(turn, after=0, keepalive_s=keepalive_s)


async def _closing(events: AsyncIterator[Event], close: Callable[[], None]) -> AsyncIterator[Event]:
    try:
        async for event in events:
            yield event
    finally:
        close()


def turn_response(turn: TurnReader, *, after: int, keepalive_s: float) -> StreamingResponse:
    frames = turn.follow(after, keepalive_s=keepalive_s, keepalive=KEEPALIVE_FRAME)
    headers = {
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
        "x-trace-id": turn.trace_id,
        "x-turn-id": turn.turn_id,
    }
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)


def _event_id(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidRequest("Last-Event-ID must be an event id this turn sent.")
    return int(raw)


def _valid_turn_id(turn_id: str) -> bool:
    return _TURN_ID.fullmatch(turn_id) is not None


class SSETurnCodec:
    """Beacon's own event stream for a resumable ``/ask`` turn (ids are the buffer's)."""

    def __init__(self, trace_id: str) -> None:
        self.encoder = SSEEncoder(trace_id)

    def frame(self, event: Event, event_id: int) -> bytes:
        return self.encoder.frame(event, event_id)

    def cancelled(self, event_id: int) -> bytes:
        done = DoneEvent(
            finish_reason="cancelled",
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            ttft_ms=None,
            latency_ms=0.0,
        )
        return self.encoder.frame(done, event_id)

    def failed(self, event_id: int) -> bytes:
        return self.encoder.frame(ErrorEvent(InternalError()), event_id)
