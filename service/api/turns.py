"""Resumable turns over HTTP: reconnect to a turn's stream, or stop it.

``GET /ask/turns/{turn_id}/stream`` with ``Last-Event-ID`` replays the events after that id and
follows the live ones; ``POST /ask/turns/{turn_id}/cancel`` stops the generation. A turn is
started by ``POST /ask`` with an ``Idempotency-Key`` header (``resumable_response``): the same key
again replays the same turn instead of asking the model twice.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel
from starlette.responses import StreamingResponse

from service.api.caller import CallerDep
from service.errors import InternalError, InvalidRequest
from service.pipeline.events import KEEPALIVE_FRAME, SSEEncoder
from service.schemas import ErrorBody
from service.turns import Turn, TurnBuffer, TurnCodec, fingerprint

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
    request: Request,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The turn's events after ``Last-Event-ID`` (all of them without it), then live ones."""
    turn = turns.get(turn_id, owner=caller)
    after = _event_id(last_event_id)
    turn.after(after)  # 410 now, before the first byte, when that part was dropped
    keepalive = request.state.resources.settings.limits.keepalive_s
    return turn_response(turn, after=after, keepalive_s=keepalive)


@router.post(
    "/ask/turns/{turn_id}/cancel",
    response_model=CancelResult,
    responses={status: {"model": ErrorBody} for status in (401, 404, 422)},
)
async def cancel_turn(turn_id: TurnId, turns: TurnBufferDep, caller: CallerDep) -> CancelResult:
    """Stop the turn's generation (its readers get a final ``done`` with ``cancelled``)."""
    stopped = await turns.cancel(turn_id, owner=caller)
    return CancelResult(status="cancelled" if stopped else "finished", turn_id=turn_id)


async def resumable_response(
    *,
    turn_id: str,
    request_key: str,
    turns: TurnBuffer,
    caller: str,
    trace_id: str,
    start: Callable[[], AsyncIterator[Any]],
    codec: TurnCodec,
    keepalive_s: float,
) -> StreamingResponse:
    """Start the turn ``turn_id`` (an ``Idempotency-Key``) or, when this caller already started
    it with the same ``request_key``, replay it from its first event: ``start`` (admission, then
    the answer stream) is called once per turn, whatever the number of requests. Either way the
    generation outlives this connection; ``codec`` turns each event into wire bytes."""
    if not _valid_turn_id(turn_id):
        raise InvalidRequest("The Idempotency-Key must be 8-128 letters, digits or ._:-")
    turn, _ = await turns.start(
        turn_id,
        owner=caller,
        fingerprint=fingerprint(request_key),
        trace_id=trace_id,
        events=start,
        codec=codec,
    )
    return turn_response(turn, after=0, keepalive_s=keepalive_s)


def turn_response(turn: Turn, *, after: int, keepalive_s: float) -> StreamingResponse:
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
    """Beacon's own event stream for a resumable ``/ask`` turn."""

    def __init__(self, trace_id: str) -> None:
        self.encoder = SSEEncoder(trace_id)

    def frame(self, event: tuple[str, Any], event_id: int) -> bytes:  # noqa: ARG002
        return self.encoder.encode(*event)  # numbers 1, 2, 3... in step with the buffer

    def cancelled(self, event_id: int) -> bytes:  # noqa: ARG002
        return self.encoder.encode("done", {"finish_reason": "cancelled"})

    def failed(self, event_id: int) -> bytes:  # noqa: ARG002
        payload = InternalError().to_payload(trace_id="")
        del payload["trace_id"]  # the encoder adds the request's own
        return self.encoder.encode("error", payload)
