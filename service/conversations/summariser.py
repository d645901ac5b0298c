"""With a model: after more than ``after_messages`` messages, the cheap model rewrites the
conversation's summary in the background, off the request's critical path. The text is
redacted with the one policy before it is stored; failures leave the extractive summary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import structlog

from prompts.loader import PromptSet
from service.conversations.history import history_text
from service.conversations.store import ConversationStore, ConversationStoreUnavailable
from service.conversations.turn import ConversationContext
from service.errors import ServiceError
from service.pipeline.redact import RedactionPolicy, redact_value
from service.providers.base import ChatMessage, ChatProvider, GenerationRequest, Usage

log = structlog.get_logger("beacon.conversations")
MAX_SUMMARY_TOKENS = 160
MAX_SUMMARY_CHARS = 800


class SummaryRefresher:
    def __init__(
        self,
        *,
        store: ConversationStore,
        provider: ChatProvider,
        model: str,
        prompts: PromptSet,
        policy: RedactionPolicy,
        after_messages: int = 6,
        timeout_s: float = 20.0,
        budget_tokens: int = 1500,
        on_usage: Callable[[str, Usage], None] | None = None,
    ) -> None:
        """``on_usage``: told each call's usage, so its tokens and cost are accounted."""
        self.store = store
        self.provider = provider
        self.model = model
        self.prompts = prompts
        self.policy = policy
        self.after_messages = after_messages
        self.timeout_s = timeout_s
        self.budget_tokens = budget_tokens
        self.on_usage = on_usage
        self._tasks: set[asyncio.Task[None]] = set()

    def due(self, turn_count: int) -> bool:
        """More than ``after_messages`` messages (a turn is two: question and answer)."""
        return 2 * turn_count > self.after_messages

    def schedule(self, conversation_id: str, *, turn_count: int) -> None:
        """Refresh the conversation's summary in the background when it is due."""
        if not self.due(turn_count):
            return
        task = asyncio.create_task(self.refresh(conversation_id))
        self._tasks.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def refresh(self, conversation_id: str) -> None:
        """Summarise what the store holds now, and store the redacted summary."""
        try:
            context = await self.store.load(conversation_id)
            if context is not None:
                await self._summarise(context)
        except (TimeoutError, ServiceError, ConversationStoreUnavailable) as exc:
            log.info("summary_refresh_failed", error=type(exc).__name__)

    async def _summarise(self, context: ConversationContext) -> None:
        lang = context.last.lang if context.last else "en"
        history = history_text(context, budget_tokens=self.budget_tokens)
        request = GenerationRequest(
            model=self.model,
            messages=(ChatMessage("user", self.prompts["summary"].render(lang, history=history)),),
            lang=lang,
            evidence=(),
            max_tokens=MAX_SUMMARY_TOKENS,
        )
        usage = Usage(model=self.model)  # billed even when the deadline cuts the call short
        try:
            async with asyncio.timeout(self.timeout_s):
                parts = [chunk async for chunk in self.provider.stream(request, usage)]
        finally:
            if self.on_usage is not None:
                self.on_usage("summary", usage)
        text = str(redact_value(" ".join("".join(parts).split())[:MAX_SUMMARY_CHARS], self.policy))
        if text:
            await self.store.set_summary(
                context.conversation_id, replace(context.summary, text=text)
            )

    async def wait(self) -> None:
        """Wait for the refreshes running now (a graceful shutdown, a test)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel refreshes still running (shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
