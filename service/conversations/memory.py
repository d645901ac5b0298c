"""What the request pipeline asks of conversations: context before, the turn after, and the
customer's read and delete, all through one store, degrading to stateless answers.

``context`` and ``record`` never raise for the store: an unavailable store (file locked, server
down) yields ``degraded=True`` and the answer goes on without history; nothing else is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from rag.language import Lang
from service.conversations.condenser import ModelCondenser
from service.conversations.contextualiser import Contextualised, TitleOf, contextualise
from service.conversations.store import ConversationStore, ConversationStoreUnavailable
from service.conversations.summariser import SummaryRefresher
from service.conversations.summary import extend_summary
from service.conversations.turn import ConversationContext, Turn
from service.conversations.turn_lock import TurnLocks
from service.errors import ConversationNotFound, ConversationsUnavailable
from service.pipeline.redact import RedactionPolicy, redact_value
from service.providers.base import Usage
from service.tools.order_number import find_order_id

if TYPE_CHECKING:
    from service.pipeline.conversation import FinishedTurn

SETTLE_S = 1.0
STORED_OUTCOMES = frozenset({"ok", "refused", "handoff"})  # answers the customer saw in full

log = structlog.get_logger("beacon.conversations")


@dataclass(frozen=True, slots=True)
class LoadedContext:
    """A turn's view of its conversation: None for a new, anonymous or unreadable one."""

    context: ConversationContext | None
    degraded: bool = False


class ConversationMemory:
    def __init__(
        self,
        *,
        store: ConversationStore,
        title_of: TitleOf,
        policy: RedactionPolicy,
        locks: TurnLocks | None = None,
        condenser: ModelCondenser | None = None,
        refresher: SummaryRefresher | None = None,
        on_forget: Callable[[str], None] | None = None,
    ) -> None:
        """``on_forget``: called with a deleted conversation's id (to drop cached turns)."""
        self.store = store
        self.title_of = title_of
        self.policy = policy
        self.locks = locks or TurnLocks()
        self.condenser = condenser
        self.refresher = refresher
        self.on_forget = on_forget
        self._tasks: set[asyncio.Task[bool]] = set()
        # Per conversation, the turn being answered: resolved once that turn is stored. The
        # next turn reads the store only then (the accounting may call the hook after the
        # answer's lock is released); a turn that ended without an answer holds it SETTLE_S.
        self._settled: dict[str, asyncio.Future[None]] = {}

    async def load(self, conversation_id: str | None, *, owner: str) -> LoadedContext:
        """The conversation so far; another owner's conversation reads as a new one."""
        if conversation_id is None:
            return LoadedContext(None)
        previous = self._settled.get(conversation_id)
        if previous is not None and not previous.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(previous), SETTLE_S)
        self._settled[conversation_id] = asyncio.get_running_loop().create_future()
        try:
            context = await self.store.load(conversation_id)
        except ConversationStoreUnavailable as exc:
            log.warning("conversation_store_unavailable", operation="load", error=str(exc))
            return LoadedContext(None, degraded=True)
        if context is not None and context.owner not in (None, owner):
            return LoadedContext(None)
        return LoadedContext(context)

    async def contextualise(
        self, question: str, context: ConversationContext | None, *, lang: Lang, usage: Usage
    ) -> Contextualised:
        """The standalone question: the model's condensation when configured, else the rules."""
        rules = contextualise(question, context, lang=lang, title_of=self.title_of)
        if self.condenser is None:
            return rules
        return await self.condenser.condense(
            question, context, lang=lang, fallback=rules, usage=usage
        )

    async def record(
        self,
        conversation_id: str | None,
        context: ConversationContext | None,
        turn: Turn,
        *,
        owner: str,
    ) -> bool:
        """Store the (already redacted) turn; return False when the store was unavailable."""
        if conversation_id is None:
            return True
        base = context or ConversationContext(conversation_id)
        titles = {
            topic: self.title_of(topic, turn.lang) or topic
            for topic in (*base.summary.topics, *turn.citations[:1])
        }
        summary = extend_summary(base.summary, turn, titles=titles)
        try:
            await self.store.append(conversation_id, turn, summary=summary, owner=owner)
        except ConversationStoreUnavailable as exc:
            log.warning("conversation_store_unavailable", operation="append", error=str(exc))
            return False
        if self.refresher is not None:
            self.refresher.schedule(conversation_id, turn_count=base.turn_count + 1)
        return True

    def turn_finished(self, finished: FinishedTurn) -> None:
        """The accounting's hook: store the finished turn in the background (in order)."""
        if finished.conversation_id is None or finished.outcome not in STORED_OUTCOMES:
            return
        task = asyncio.get_running_loop().create_task(self._store_finished(finished))
        self._tasks.add(task)
        conversation_id = finished.conversation_id
        task.add_done_callback(lambda done: self._settle(done, conversation_id))

    async def _store_finished(self, finished: FinishedTurn) -> bool:
        assert finished.conversation_id is not None
        loaded = await self._load_for_append(finished.conversation_id, finished.owner)
        turn = Turn(
            question=str(redact_value(finished.question, self.policy)),
            answer=str(redact_value(finished.answer, self.policy)),
            citations=finished.citations,
            route=finished.route,
            trace_id=finished.trace_id,
            at=time.time(),
            lang=finished.lang,
            entities=_entities(finished.question),
            suggestions=finished.suggestions,
        )
        return await self.record(finished.conversation_id, loaded, turn, owner=finished.owner)

    async def _load_for_append(
        self, conversation_id: str, owner: str
    ) -> ConversationContext | None:
        try:
            context = await self.store.load(conversation_id)
        except ConversationStoreUnavailable:
            return None
        return context if context is not None and context.owner in (None, owner) else None

    def _settle(self, task: asyncio.Task[bool], conversation_id: str) -> None:
        self._tasks.discard(task)
        settled = self._settled.pop(conversation_id, None)
        if settled is not None and not settled.done():
            settled.set_result(None)

    async def wait(self) -> None:
        """Wait for the turns being stored now (shutdown, tests)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def read(self, conversation_id: str, *, owner: str) -> ConversationContext:
        """``GET /conversations/{id}``: its turns, or ConversationNotFound (also when the
        conversation belongs to another key: its existence is not revealed)."""
        try:
            context = await self.store.load(conversation_id)
        except ConversationStoreUnavailable:
            raise ConversationsUnavailable() from None
        if context is None or context.owner not in (None, owner):
            raise ConversationNotFound()
        return context

    async def forget(self, conversation_id: str, *, owner: str) -> None:
        """``DELETE /conversations/{id}``: history, summary and cached turns go; the log line
        names the conversation only."""
        await self.read(conversation_id, owner=owner)
        try:
            await self.store.delete(conversation_id)
        except ConversationStoreUnavailable:
            raise ConversationsUnavailable() from None
        if self.on_forget is not None:
            self.on_forget(conversation_id)
        log.info("conversation_deleted", conversation_id=conversation_id)

    async def aclose(self) -> None:
        """Finish storing turns, stop background summaries, then close the store."""
        await self.wait()
        if self.refresher is not None:
            await self.refresher.aclose()
        await self.store.aclose()


def _entities(question: str) -> dict[str, str]:
    order_id = find_order_id(question[:400])
    return {"order_id": order_id} if order_id else {}
