"""The conversation step of a request: load the context and resolve a follow-up before
retrieval; afterwards, store what the customer was shown as the turn.

``prepare_conversation`` runs before retrieval and never fails for the store (an unavailable
store gives ``degraded``); ``TurnTranscript`` watches the events on their way out (a list
append per token); ``remember_turn`` stores the redacted turn once the answer is complete.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rag.language import Lang
from service.conversations.contextualiser import Contextualised
from service.conversations.memory import ConversationMemory
from service.conversations.turn import ConversationContext, Turn
from service.pipeline.events import EventName
from service.pipeline.redact import RedactionPolicy, redact_value
from service.providers.base import Usage

STORED_OUTCOMES = frozenset({"ok", "refused", "handoff"})  # answers the customer saw in full


@dataclass(frozen=True, slots=True)
class ConversationStep:
    """What retrieval and routing need to know about the conversation, and what to store."""

    conversation_id: str | None
    owner: str
    context: ConversationContext | None
    contextualised: Contextualised
    degraded: bool = False

    @property
    def turn(self) -> int:
        return self.context.next_turn if self.context is not None else 1

    @property
    def question(self) -> str:
        """The question retrieval should see (the standalone rewrite of a follow-up)."""
        return self.contextualised.question

    def meta(self) -> dict[str, Any]:
        """``meta`` fields: the turn number and, for a rewritten follow-up, why."""
        fields: dict[str, Any] = {"turn": self.turn}
        if self.contextualised.reason is not None:
            fields["context"] = self.contextualised.to_meta()
        return fields


async def prepare_conversation(
    memory: ConversationMemory,
    *,
    conversation_id: str | None,
    owner: str,
    question: str,
    lang: Lang,
    usage: Usage,
) -> ConversationStep:
    """Load the conversation and contextualise ``question`` (unchanged for a first turn)."""
    loaded = await memory.load(conversation_id, owner=owner)
    contextualised = await memory.contextualise(question, loaded.context, lang=lang, usage=usage)
    return ConversationStep(
        conversation_id=conversation_id,
        owner=owner,
        context=loaded.context,
        contextualised=contextualised,
        degraded=loaded.degraded,
    )


class TurnTranscript:
    """What the customer was shown: route, citations, clarify suggestions and answer text."""

    __slots__ = ("citations", "parts", "route", "suggestions")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.route = ""
        self.citations: tuple[str, ...] = ()
        self.suggestions: tuple[str, ...] = ()

    def observe(self, name: str, payload: Any) -> None:
        if name == EventName.TOKEN:
            self.parts.append(payload)
        elif name == EventName.META:
            self.route = payload["route"]
        elif name == EventName.EVIDENCE:
            self.citations = tuple(item["id"] for item in payload["citations"])
        elif name == EventName.CLARIFY:
            self.suggestions = tuple(item["id"] for item in payload["suggestions"])


async def remember_turn(
    memory: ConversationMemory,
    step: ConversationStep,
    transcript: TurnTranscript,
    *,
    question: str,
    trace_id: str,
    lang: Lang,
    outcome: str,
    policy: RedactionPolicy,
) -> bool:
    """Store the turn (question and answer redacted with the one policy); False when the store
    was unavailable. Turns that ended in an error or a disconnect are not stored."""
    if step.conversation_id is None or outcome not in STORED_OUTCOMES:
        return True
    turn = Turn(
        question=str(redact_value(question, policy)),
        answer=str(redact_value("".join(transcript.parts), policy)),
        citations=transcript.citations,
        route=transcript.route,
        trace_id=trace_id,
        at=time.time(),
        lang=lang,
        entities=step.contextualised.entities,
        suggestions=transcript.suggestions,
    )
    return await memory.record(step.conversation_id, step.context, turn, owner=step.owner)
