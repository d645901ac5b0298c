"""Build the conversation memory the settings describe (called by the app's lifespan)."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from prompts.loader import PromptSet
from rag.knowledge import KnowledgeBase
from rag.language import Lang
from service.conversations.condenser import ModelCondenser
from service.conversations.memory import ConversationMemory
from service.conversations.sqlite_store import SqliteConversationStore
from service.conversations.store import (
    ConversationStore,
    ConversationStoreUnavailable,
    UnavailableStore,
)
from service.conversations.summariser import SummaryRefresher
from service.conversations.turn_lock import TurnLocks
from service.pipeline.redact import RedactionPolicy
from service.providers.base import ChatProvider, Usage
from service.settings import ConversationSettings

log = structlog.get_logger("beacon.conversations")


def open_store(settings: ConversationSettings) -> SqliteConversationStore:
    """The embedded store; raises ConversationStoreUnavailable when its file cannot be opened."""
    return SqliteConversationStore(
        settings.path,
        max_turns=settings.max_turns,
        ttl_s=settings.ttl_s,
        busy_timeout_s=settings.busy_timeout_s,
    )


def build_conversation_memory(
    settings: ConversationSettings,
    *,
    kb: KnowledgeBase,
    prompts: PromptSet,
    policy: RedactionPolicy,
    model: tuple[ChatProvider, str] | None = None,
    on_forget: Callable[[str], None] | None = None,
    shared: tuple[ConversationStore, TurnLocks] | None = None,
    on_usage: Callable[[str, Usage], None] | None = None,
) -> ConversationMemory:
    """``model``: the cheap model (provider, name) when one is configured; None on the
    embedded default, which resolves follow-ups by rules and keeps an extractive summary.
    ``shared``: a store and turn locks all replicas share (Redis); None: SQLite, in process.
    ``on_usage``: told the usage of each background model call (summaries), for accounting."""
    store: ConversationStore
    locks = TurnLocks(wait_s=settings.turn_wait_s)
    if shared is not None:
        store, locks = shared
    else:
        try:
            store = open_store(settings)
        except ConversationStoreUnavailable as exc:
            log.error("conversation_store_unavailable", operation="open", error=str(exc))
            store = UnavailableStore()
    condenser = refresher = None
    if model is not None:
        provider, name = model
        condenser = ModelCondenser(
            provider=provider,
            model=name,
            prompts=prompts,
            timeout_s=settings.condense_timeout_s,
            budget_tokens=settings.history_tokens,
        )
        refresher = SummaryRefresher(
            store=store,
            provider=provider,
            model=name,
            prompts=prompts,
            policy=policy,
            after_messages=settings.summary_after_messages,
            budget_tokens=settings.history_tokens,
            on_usage=on_usage,
        )
    return ConversationMemory(
        store=store,
        title_of=entry_titles(kb),
        policy=policy,
        locks=locks,
        condenser=condenser,
        refresher=refresher,
        on_forget=on_forget,
    )


def entry_titles(kb: KnowledgeBase) -> Callable[[str, Lang], str | None]:
    """Look up an entry's canonical question in a language (None for an unknown id)."""
    titles = {(entry.id, lang): entry.title(lang) for entry in kb for lang in ("en", "zh")}

    def title_of(entry: str, lang: Lang) -> str | None:
        return titles.get((entry, lang))

    return title_of
