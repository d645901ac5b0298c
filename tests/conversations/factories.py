"""Small builders for conversation tests."""

from __future__ import annotations

from typing import Any

from rag.language import Lang
from service.conversations.turn import ConversationContext, Summary, Turn

TITLES = {
    ("refund-request", "en"): "How do I request a refund?",
    ("refund-request", "zh"): "怎么申请退款？",
    ("return-shipping-label", "en"): "How do I get a return shipping label?",
    ("return-shipping-label", "zh"): "退货面单怎么获取？",
    ("order-track", "en"): "How can I track my order?",
}


def title_of(entry: str, lang: Lang) -> str | None:
    return TITLES.get((entry, lang))


def turn(question: str = "How do I request a refund?", **fields: Any) -> Turn:
    values: dict[str, Any] = {
        "question": question,
        "answer": "Go to Account > Orders and tap Return or refund.",
        "citations": ("refund-request",),
        "route": "faq",
        "trace_id": "0" * 32,
        "at": 1_000.0,
        "lang": "en",
    }
    values.update(fields)
    return Turn(**values)


def context(*turns: Turn, summary: Summary | None = None) -> ConversationContext:
    return ConversationContext(
        "c-1", turns=turns, summary=summary or Summary(), turn_count=len(turns)
    )
