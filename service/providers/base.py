"""The provider contract: anything that can stream an answer's text for a generation request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rag.language import Lang
from rag.retriever import Evidence

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    model: str
    messages: Sequence[ChatMessage]
    lang: Lang
    evidence: Sequence[Evidence]
    max_tokens: int = 512
    # Forwarded to the upstream as HTTP headers (e.g. the simulator's fault controls in drills).
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Usage:
    """Filled in by the provider while it streams; read once when the request is accounted."""

    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    reported: bool = False


class ChatProvider(Protocol):
    name: str

    def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        """Yield the answer's text deltas; raise only ``service.errors.ProviderError``."""
        ...

    async def aclose(self) -> None: ...
