"""Deterministic follow-up resolution: "how long does that take?" becomes a question about the
topic in play.

A short question that points back ("that", "it", "那", "这") or only continues ("and for
express?", "还有呢") is joined with the title of the active entry: the entry the last answer
came from, or, when the last turn asked which question was meant, its best suggestion. An order
number mentioned earlier is carried into a question about "my order" that names none. Each
rewrite says why in ``reason``; a question that stands on its own is left alone.

Token sets, not patterns: the question is size-capped and scanned once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rag.language import Lang, is_han, normalize_text, tokenize
from service.conversations.turn import ConversationContext
from service.tools.order_number import find_order_id

MAX_SCAN_CHARS = 400  # a follow-up is short; longer text is never rewritten or scanned further
MAX_FOLLOW_UP_WORDS = 9
MAX_FOLLOW_UP_HAN = 16
_POINTERS_EN = frozenset(
    {"that", "it", "this", "those", "these", "they", "them", "there", "one", "ones", "then"}
)
_CONTINUERS_EN = frozenset({"and", "also", "what", "how", "then"})
_POINTERS_ZH = ("那", "这", "它", "呢", "还有", "还要", "还能", "还可以")
_ORDER_WORDS_EN = frozenset({"order", "package", "parcel", "delivery", "shipment"})
_ORDER_WORDS_ZH = ("订单", "包裹", "快递", "物流", "单子")

TitleOf = Callable[[str, Lang], str | None]  # entry id, language -> title (None: unknown id)


@dataclass(frozen=True, slots=True)
class Contextualised:
    """The question retrieval and routing should see, and why it differs from the customer's."""

    question: str
    reason: str | None = None  # None: asked as is
    active_entry: str | None = None
    entities: dict[str, str] = field(default_factory=dict)  # found in this question
    rules: Contextualised | None = None
    """The deterministic rewrite, when a model condensed the question instead."""

    def as_asked(self, question: str) -> Contextualised:
        """The customer's own question after all (its words were enough), entities kept."""
        return Contextualised(question, None, self.active_entry, self.entities)

    def to_meta(self) -> dict[str, object]:
        """The ``context`` field of ``meta`` (no question text: the client has it)."""
        return {"reason": self.reason, "active_entry": self.active_entry}


def contextualise(
    question: str, context: ConversationContext | None, *, lang: Lang, title_of: TitleOf
) -> Contextualised:
    """Rewrite a follow-up into a standalone question; leave anything else as it is."""
    scanned = question[:MAX_SCAN_CHARS]
    order_id = find_order_id(scanned)
    entities = {"order_id": order_id} if order_id else {}
    if context is None or not context.turns:
        return Contextualised(question=question, entities=entities)
    active = active_entry(context)
    if active is not None and is_follow_up(scanned, lang):
        title = title_of(active, lang)
        if title is not None:
            joined = f"{scanned.rstrip(' ?？。.!！')} — {title.rstrip('?？')}"
            return Contextualised(joined, "follow_up_active_entry", active, entities)
    known = context.summary.entities.get("order_id")
    if order_id is None and known is not None and _mentions_order(scanned, lang):
        return Contextualised(f"{question} ({known})", "carried_order_id", active, entities)
    return Contextualised(question=question, active_entry=active, entities=entities)


def active_entry(context: ConversationContext) -> str | None:
    """The entry in play: the last answer's source, or the last clarify's best suggestion."""
    for turn in reversed(context.turns):
        if turn.route == "clarify" and turn.suggestions:
            return turn.suggestions[0]
        if turn.citations and turn.route not in ("out_of_scope", "risky"):
            return turn.citations[0]
    return context.summary.topics[-1] if context.summary.topics else None


def is_follow_up(question: str, lang: Lang) -> bool:
    """A short question that points back to, or only continues, the previous one."""
    tokens = tokenize(normalize_text(question))
    if not tokens:
        return False
    han = sum(len(token) for token in tokens if is_han(token))
    if lang == "zh" or han:
        return han <= MAX_FOLLOW_UP_HAN and any(marker in question for marker in _POINTERS_ZH)
    if len(tokens) > MAX_FOLLOW_UP_WORDS:
        return False
    return bool(_POINTERS_EN.intersection(tokens)) or (
        tokens[0] in _CONTINUERS_EN and len(tokens) <= 4
    )


def _mentions_order(question: str, lang: Lang) -> bool:
    if lang == "zh" and any(word in question for word in _ORDER_WORDS_ZH):
        return True
    return bool(_ORDER_WORDS_EN.intersection(tokenize(normalize_text(question))))
