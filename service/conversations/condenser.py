"""With a model: the cheap model condenses a follow-up into a standalone question (LangChain's
condense-question pattern), under a deadline, falling back to the deterministic rewrite."""

from __future__ import annotations

import asyncio

import structlog

from prompts.loader import PromptSet
from rag.language import Lang
from service.conversations.contextualiser import MAX_SCAN_CHARS, Contextualised
from service.conversations.history import history_text
from service.conversations.turn import ConversationContext
from service.errors import ServiceError
from service.providers.base import ChatMessage, ChatProvider, GenerationRequest, Usage

log = structlog.get_logger("beacon.conversations")
MAX_CONDENSED_TOKENS = 80


class ModelCondenser:
    def __init__(
        self,
        *,
        provider: ChatProvider,
        model: str,
        prompts: PromptSet,
        timeout_s: float,
        budget_tokens: int,
    ) -> None:
        self.provider = provider
        self.model = model
        self.prompts = prompts
        self.timeout_s = timeout_s
        self.budget_tokens = budget_tokens

    async def condense(
        self,
        question: str,
        context: ConversationContext | None,
        *,
        lang: Lang,
        fallback: Contextualised,
        usage: Usage,
    ) -> Contextualised:
        """The model's standalone question, or ``fallback`` on a deadline, an error or nothing
        usable. ``usage`` is filled in for the request's accounting."""
        if context is None or not context.turns:
            return fallback
        history = history_text(context, budget_tokens=self.budget_tokens)
        prompt = self.prompts["contextualise"].render(lang, history=history, question=question)
        request = GenerationRequest(
            model=self.model,
            messages=(ChatMessage("user", prompt),),
            lang=lang,
            evidence=(),
            max_tokens=MAX_CONDENSED_TOKENS,
        )
        try:
            usage.model = self.model  # billed even when the deadline cuts the call short
            async with asyncio.timeout(self.timeout_s):
                parts = [chunk async for chunk in self.provider.stream(request, usage)]
        except (TimeoutError, ServiceError) as exc:
            log.info("condense_fell_back", error=type(exc).__name__)
            return fallback
        condensed = " ".join("".join(parts).split())[:MAX_SCAN_CHARS]
        if not condensed:
            return fallback
        return Contextualised(
            question=condensed,
            reason="model_condensed",
            active_entry=fallback.active_entry,
            entities=fallback.entities,
            rules=fallback,
        )
