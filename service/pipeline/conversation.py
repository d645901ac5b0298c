"""The conversation step: which turn this is, and the question to answer standing alone.

Today turns are counted in-process and a question stands as asked; a conversation store with
a contextualiser replaces ``ConversationStore`` (same ``turn_for`` contract) and records each
finished turn through the ``TurnFinished`` hook the accounting calls.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.schemas import AskRequest


@dataclass(frozen=True, slots=True)
class ConversationTurn:
    number: int
    """1 for a new or anonymous conversation."""
    standalone_question: str
    """The question to retrieve and route on (a follow-up rewritten to stand alone)."""
    reason: str
    """Why the question reads as it does: ``first_turn``, ``as_asked``, ``contextualised``."""


@dataclass(frozen=True, slots=True)
class FinishedTurn:
    """What a conversation store keeps of an answered turn."""

    conversation_id: str | None
    turn: int
    question: str
    answer: str
    citations: tuple[str, ...]
    route: str
    outcome: str
    trace_id: str


TurnFinished = Callable[[FinishedTurn], None]


class ConversationStore:
    """In-process turn counts (a shared store replaces it when replicas share state)."""

    def __init__(self, *, max_conversations: int = 10_000) -> None:
        self._turns: OrderedDict[str, int] = OrderedDict()
        self._max = max_conversations

    def next_turn(self, conversation_id: str | None) -> int:
        """Count this message and return its turn number (1 for a new or anonymous chat)."""
        if conversation_id is None:
            return 1
        turn = self._turns.pop(conversation_id, 0) + 1
        self._turns[conversation_id] = turn
        if len(self._turns) > self._max:
            self._turns.popitem(last=False)
        return turn

    async def turn_for(self, conversation_id: str | None, question: str) -> ConversationTurn:
        number = self.next_turn(conversation_id)
        reason = "first_turn" if number == 1 else "as_asked"
        return ConversationTurn(number=number, standalone_question=question, reason=reason)


async def load_conversation(ask: AskRequest, context: AskContext) -> ConversationTurn:
    """Step: the turn's context from the conversation store."""
    store = context.services.conversations
    return await store.turn_for(ask.conversation_id, ask.question)
