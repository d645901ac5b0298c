"""The conversation step: which turn this is, and the question to answer standing alone.

``load_conversation`` (a plan step) loads the conversation from the store and resolves a
follow-up ("how long does that take?") into a standalone question; a store that cannot be read
answers statelessly, recorded as the plan's ``conversation->stateless`` fallback. Each finished
turn reaches the store through the ``TurnFinished`` hook the accounting calls
(``ConversationMemory.turn_finished``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.language import Lang, detect_language
from service.errors import ConversationsUnavailable
from service.resilience.degrade import Fallback

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
    """Why the question reads as it does: ``first_turn``, ``as_asked``, or the rewrite's reason
    (``follow_up_active_entry``, ``carried_order_id``, ``model_condensed``)."""
    active_entry: str | None = None
    rules_question: str | None = None
    """The deterministic rewrite, when a model condensed the question into something else."""
    rules_reason: str | None = None
    fallback: Fallback | None = None
    """``conversation->stateless`` when the store could not be read."""


@dataclass(frozen=True, slots=True)
class FinishedTurn:
    """What a conversation store keeps of an answered turn (before redaction)."""

    conversation_id: str | None
    turn: int
    question: str
    answer: str
    citations: tuple[str, ...]
    route: str
    outcome: str
    trace_id: str
    owner: str = "anonymous"
    lang: Lang = "en"
    suggestions: tuple[str, ...] = ()


TurnFinished = Callable[[FinishedTurn], None]


async def load_conversation(ask: AskRequest, context: AskContext) -> ConversationTurn:
    """Step: the turn's context from the conversation store, and the standalone question."""
    memory = context.services.conversations
    lang = _language(ask.question, ask.locale)
    loaded = await memory.load(ask.conversation_id, owner=context.caller.identity)
    usage = context.side_call("condense")  # filled in only when a model condenses the question
    resolved = await memory.contextualise(ask.question, loaded.context, lang=lang, usage=usage)
    number = loaded.context.next_turn if loaded.context is not None else 1
    rules = (
        resolved.rules if resolved.rules and resolved.rules.question != resolved.question else None
    )
    fallback = None
    if loaded.degraded:
        fallback = Fallback.after(
            ConversationsUnavailable(), source="conversation", target="stateless"
        )
    return ConversationTurn(
        number=number,
        standalone_question=resolved.question,
        reason=resolved.reason or ("first_turn" if number == 1 else "as_asked"),
        active_entry=resolved.active_entry,
        rules_question=rules.question if rules is not None else None,
        rules_reason=(rules.reason or "as_asked") if rules is not None else None,
        fallback=fallback,
    )


def _language(question: str, locale: str | None) -> Lang:
    if locale is not None:
        return "zh" if locale.lower().startswith("zh") else "en"
    return detect_language(question)
