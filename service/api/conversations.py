"""``GET`` and ``DELETE /conversations/{id}``: restore a chat after a reload; forget it.

With API keys configured a key reads and deletes only the conversations it created; any other
id is 404, like an unknown, expired or deleted one (existence is not revealed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.responses import Response

from service.api.deps import CallerDep, ServicesDep
from service.schemas import ErrorBody

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (401, 404, 422, 503)
}


class TurnBody(BaseModel):
    """One stored turn: question and answer as redacted when stored."""

    question: str
    answer: str
    citations: list[str]
    route: str
    trace_id: str
    at: float
    lang: str
    suggestions: list[str]


class ConversationBody(BaseModel):
    conversation_id: str
    turn_count: int  # every turn so far; ``turns`` holds the most recent ones verbatim
    turns: list[TurnBody]
    summary: dict[str, Any]


@router.get("/{conversation_id}", response_model=ConversationBody, responses=_ERRORS)
async def get_conversation(
    conversation_id: ConversationId, services: ServicesDep, caller: CallerDep
) -> ConversationBody:
    context = await services.conversations.read(conversation_id, owner=caller.identity)
    return ConversationBody(
        conversation_id=conversation_id,
        turn_count=context.turn_count,
        turns=[TurnBody(**turn.to_json()) for turn in context.turns],
        summary=context.summary.to_json(),
    )


@router.delete("/{conversation_id}", status_code=204, responses=_ERRORS)
async def delete_conversation(
    conversation_id: ConversationId, services: ServicesDep, caller: CallerDep
) -> Response:
    await services.conversations.forget(conversation_id, owner=caller.identity)
    return Response(status_code=204)
