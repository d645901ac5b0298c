"""The conversation in a model's prompt: the summary, then as many recent turns as the token
budget allows (newest kept first), as alternating user/assistant messages."""

from __future__ import annotations

from service.conversations.turn import ConversationContext, Turn
from service.providers.base import ChatMessage
from service.resilience.token_estimate import TOKENS_PER_MESSAGE, estimate_text_tokens

_SUMMARY_LABEL = {"en": "Earlier in this conversation: ", "zh": "此前对话摘要："}


def history_messages(
    context: ConversationContext | None, *, budget_tokens: int
) -> list[ChatMessage]:
    """Messages to put between the system prompt and the new question, within the budget."""
    if context is None or budget_tokens <= 0:
        return []
    messages: list[ChatMessage] = []
    spent = 0
    lang = context.last.lang if context.last else "en"
    if context.summary.text:
        note = ChatMessage("system", _SUMMARY_LABEL[lang] + context.summary.text)
        spent = _cost(note)
        if spent > budget_tokens:
            return []
        messages.append(note)
    recent: list[ChatMessage] = []
    for turn in reversed(context.turns):
        pair = _pair(turn)
        cost = sum(_cost(message) for message in pair)
        if spent + cost > budget_tokens:
            break
        spent += cost
        recent[:0] = pair
    return messages + recent


def history_text(context: ConversationContext | None, *, budget_tokens: int) -> str:
    """The same history as plain lines ("customer: …" / "assistant: …") for a one-shot prompt."""
    lines = []
    for message in history_messages(context, budget_tokens=budget_tokens):
        who = {"user": "customer", "assistant": "assistant", "system": "summary"}[message.role]
        lines.append(f"{who}: {message.content}")
    return "\n".join(lines)


def _pair(turn: Turn) -> list[ChatMessage]:
    return [ChatMessage("user", turn.question), ChatMessage("assistant", turn.answer)]


def _cost(message: ChatMessage) -> int:
    return TOKENS_PER_MESSAGE + estimate_text_tokens(message.content)
