"""The event protocol of ``/ask``: one small frozen class per event kind.

``execute`` yields these; ``service.pipeline.encoder`` is the one place that turns them into SSE
frames or the JSON body. A token is the hot path: ``TokenEvent`` holds just its text, and the
encoder writes it from precomputed bytes. Every other event is a handful per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from service.errors import ServiceError


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    title: str
    score: float
    source: str
    version: int


@dataclass(frozen=True, slots=True)
class Retrieved:
    """A ranked retrieval candidate, cited or not (evals check citations against these)."""

    id: str
    score: float


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One candidate question a ``clarify`` event offers (a KB entry id and its title)."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class MetaEvent:
    name: ClassVar[str] = "meta"
    route: str
    reason: str
    tier: str
    model: str
    prompt_version: str
    kb_version: str
    conversation_id: str | None
    lang: str
    turn: int = 1

    def payload(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "reason": self.reason,
            "tier": self.tier,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "kb_version": self.kb_version,
            "conversation_id": self.conversation_id,
            "lang": self.lang,
            "turn": self.turn,
        }


@dataclass(frozen=True, slots=True)
class EvidenceEvent:
    name: ClassVar[str] = "evidence"
    citations: tuple[Citation, ...]
    retrieved: tuple[Retrieved, ...]

    def payload(self) -> dict[str, Any]:
        return {
            "citations": [_citation(item) for item in self.citations],
            "retrieved": [{"id": item.id, "score": item.score} for item in self.retrieved],
        }


@dataclass(frozen=True, slots=True)
class TokenEvent:
    name: ClassVar[str] = "token"
    text: str

    def payload(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True, slots=True)
class RedactionEvent:
    name: ClassVar[str] = "redaction"
    kind: str
    count: int

    def payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count}


@dataclass(frozen=True, slots=True)
class HandoffEvent:
    name: ClassVar[str] = "handoff"
    reason: str
    ticket_id: str

    def payload(self) -> dict[str, Any]:
        return {"reason": self.reason, "ticket_id": self.ticket_id}


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """The request waited for admission at this place in the queue before it was let in."""

    name: ClassVar[str] = "queued"
    position: int

    def payload(self) -> dict[str, Any]:
        return {"position": self.position}


@dataclass(frozen=True, slots=True)
class ClarifyEvent:
    """Beacon is unsure what was meant: it asks which of up to three questions it is."""

    name: ClassVar[str] = "clarify"
    question: str
    suggestions: tuple[Suggestion, ...]

    def payload(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "suggestions": [{"id": s.id, "title": s.title} for s in self.suggestions],
        }


@dataclass(frozen=True, slots=True)
class Degraded:
    """The first failure that forced a fallback."""

    code: str
    layer: str


@dataclass(frozen=True, slots=True)
class DoneEvent:
    name: ClassVar[str] = "done"
    finish_reason: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    ttft_ms: float | None
    latency_ms: float
    cache_hit: bool = False
    fallbacks: tuple[str, ...] = ()
    degraded: Degraded | None = None
    answered_by: str | None = None
    grounded: bool | None = None
    """Set by a grounding filter: every claim of the answer is supported by its evidence."""
    unsupported_claims: int | None = None

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "finish_reason": self.finish_reason,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "cost_usd": self.cost_usd,
            "ttft_ms": self.ttft_ms,
            "latency_ms": self.latency_ms,
            "cache_hit": self.cache_hit,
            "fallbacks": list(self.fallbacks),
        }
        if self.degraded is not None:
            payload["degraded"] = {"code": self.degraded.code, "layer": self.degraded.layer}
            payload["answered_by"] = self.answered_by
        if self.grounded is not None:
            payload["grounded"] = self.grounded
            payload["unsupported_claims"] = self.unsupported_claims
        return payload


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """The terminal event of a stream that failed after it started; carries the typed error."""

    name: ClassVar[str] = "error"
    error: ServiceError

    def payload(self) -> dict[str, Any]:
        return self.error.to_payload()


Event: TypeAlias = (
    MetaEvent
    | EvidenceEvent
    | TokenEvent
    | RedactionEvent
    | HandoffEvent
    | QueuedEvent
    | ClarifyEvent
    | DoneEvent
    | ErrorEvent
)
TerminalEvent: TypeAlias = DoneEvent | ErrorEvent
EVENT_CLASSES: tuple[type[Event], ...] = (
    MetaEvent,
    EvidenceEvent,
    TokenEvent,
    RedactionEvent,
    HandoffEvent,
    QueuedEvent,
    ClarifyEvent,
    DoneEvent,
    ErrorEvent,
)


def _citation(item: Citation) -> Mapping[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "score": item.score,
        "source": item.source,
        "version": item.version,
    }
