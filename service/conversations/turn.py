"""What a conversation remembers: its turns (redacted), a summary, and who owns it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rag.language import Lang


@dataclass(frozen=True, slots=True)
class Turn:
    """One question and its answer, both redacted before they are stored."""

    question: str
    answer: str
    citations: tuple[str, ...]  # entry ids, first = the entry the answer came from
    route: str
    trace_id: str
    at: float  # unix seconds
    lang: Lang = "en"
    entities: Mapping[str, str] = field(default_factory=dict)  # e.g. {"order_id": "BC-100231"}
    suggestions: tuple[str, ...] = ()  # entry ids a clarifying question offered

    def to_json(self) -> dict[str, Any]:
        """The turn as ``GET /conversations/{id}`` returns it."""
        return {
            "question": self.question,
            "answer": self.answer,
            "citations": list(self.citations),
            "route": self.route,
            "trace_id": self.trace_id,
            "at": self.at,
            "lang": self.lang,
            "suggestions": list(self.suggestions),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Turn:
        """A stored turn (``to_json`` plus its ``entities``)."""
        return cls(
            question=raw["question"],
            answer=raw["answer"],
            citations=tuple(raw["citations"]),
            route=raw["route"],
            trace_id=raw["trace_id"],
            at=raw["at"],
            lang="zh" if raw.get("lang") == "zh" else "en",
            entities=dict(raw.get("entities", {})),
            suggestions=tuple(raw.get("suggestions", ())),
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """What older turns were about: topics cited (entry ids), entities, and a short text."""

    topics: tuple[str, ...] = ()
    entities: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"topics": list(self.topics), "entities": dict(self.entities), "text": self.text}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Summary:
        return cls(
            topics=tuple(str(t) for t in raw.get("topics", ())),
            entities={str(k): str(v) for k, v in dict(raw.get("entities", {})).items()},
            text=str(raw.get("text", "")),
        )


@dataclass(frozen=True, slots=True)
class ConversationContext:
    """What a new turn is told about its conversation (empty for a new one)."""

    conversation_id: str
    turns: tuple[Turn, ...] = ()  # the most recent turns kept verbatim, oldest first
    summary: Summary = Summary()
    turn_count: int = 0  # every turn ever appended, including the ones no longer kept
    owner: str | None = None  # the API key (its id) that created the conversation

    @property
    def next_turn(self) -> int:
        return self.turn_count + 1

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None
