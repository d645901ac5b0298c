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


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int


class Handoff(BaseModel):
    reason: str
    ticket_id: str


class Redaction(BaseModel):
    kind: str
    count: int


class Degraded(BaseModel):
    code: str
    layer: str


class Suggestion(BaseModel):
    id: str
    title: str


class Clarify(BaseModel):
    question: str
    suggestions: list[Suggestion]


class AskResponse(BaseModel):
    """The single JSON body served when the client sends ``Accept: application/json``: the same
    events as the SSE stream, collected (``tests/service/test_ask_http.py`` holds it to this)."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str
    answer: str
    citations: list[Citation]
    retrieved: list[RetrievedEntry]
    route: str
    reason: str
    tier: str
    model: str
    prompt_version: str
    kb_version: str
    conversation_id: str | None
    lang: str
    turn: int
    finish_reason: str
    usage: Usage
    cost_usd: float
    ttft_ms: float | None
    latency_ms: float
    cache_hit: bool
    fallbacks: list[str]
    degraded: Degraded | None = None
    answered_by: str | None = None
    grounded: bool | None = None
    unsupported_claims: int | None = None
    handoff: Handoff | None = None
    redactions: list[Redaction] = []
    clarify: Clarify | None = None


class ErrorBody(BaseModel):
    error: dict[str, object]
    trace_id: str
