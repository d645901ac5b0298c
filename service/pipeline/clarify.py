"""The clarifying question: asked instead of answering when the router is unsure.

It carries up to three suggested questions, the candidate entries' titles in the customer's
language with their ids; picking one (or typing) is the next turn and resolves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prompts.loader import PromptSet
from rag.language import Lang
from rag.retriever import Evidence

MAX_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate entry the customer may have meant."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Clarification:
    """One short question and the candidates it offers."""

    question: str
    suggestions: tuple[Suggestion, ...]

    def to_payload(self) -> dict[str, Any]:
        """The ``clarify`` event's data (without the trace_id the encoder adds)."""
        return {
            "question": self.question,
            "suggestions": [{"id": item.id, "title": item.title} for item in self.suggestions],
        }

    def as_text(self) -> str:
        """The question and its suggestions as plain text, for clients reading tokens only."""
        lines = [self.question, *(f"- {item.title}" for item in self.suggestions)]
        return "\n".join(lines)


def build_clarification(
    plausible: Sequence[Evidence], *, lang: Lang, prompts: PromptSet
) -> Clarification:
    """Ask which of the ``plausible`` candidates (above the refusal threshold) is meant."""
    candidates = plausible[:MAX_SUGGESTIONS]
    suggestions = tuple(Suggestion(id=item.id, title=item.title) for item in candidates)
    return Clarification(question=prompts["clarify"].render(lang), suggestions=suggestions)
