"""The public request and response schemas of ``POST /ask``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUESTION_CHARS = 2000


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    conversation_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"
    )
    customer_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$"
    )
    channel: Literal["web", "app", "chat", "email", "api"] | None = None
    locale: str | None = Field(default=None, pattern=r"^(en|zh)([-_][A-Za-z]{2,4})?$")


class Citation(BaseModel):
    id: str
    title: str
    score: float
    source: str
    version: int


class RetrievedEntry(BaseModel):
    """A ranked retrieval candidate (cited or not), for clients and evals that check citations."""

    id: str
    score: float


class AskResponse(BaseModel):
    """The single JSON body served when the client sends ``Accept: application/json``."""

    trace_id: str
    answer: str
    citations: list[Citation]
    retrieved: list[RetrievedEntry] = []
    route: str
    tier: str
    model: str
    prompt_version: str
    kb_version: str
    conversation_id: str | None = None
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    cost_usd: float | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    handoff: dict[str, str] | None = None
    error: dict[str, object] | None = None


class ErrorBody(BaseModel):
    error: dict[str, object]
    trace_id: str
