"""The subset of OpenAI's chat-completions request that Beacon honours, and how it maps to /ask.

Clients send many optional fields (``temperature``, ``top_p``, ``user``, ``seed``...); unknown
ones are accepted and ignored so that existing clients work unmodified, but every text field
is size-capped before Beacon reads it. Beacon chooses the model itself (routing), so ``model``
names the door (``GET /v1/models``), not an upstream model.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.errors import InvalidRequest
from service.schemas import MAX_QUESTION_CHARS

MODEL_ID = "beacon"
MAX_MESSAGES = 64
MAX_MESSAGE_CHARS = 8000


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: (
        Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]
        | Annotated[list[ContentPart], Field(max_length=MAX_MESSAGES)]
        | None
    ) = None

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(max_length=128)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1, description="Beacon gives one answer per question.")

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


class Conversation(BaseModel):
    """What Beacon asks: the customer's last message, in the conversation the history names."""

    model_config = ConfigDict(frozen=True)

    question: str
    conversation_id: str
    history: tuple[tuple[str, str], ...]  # (role, text) of the earlier user/assistant turns


def conversation_of(request: ChatCompletionRequest, *, caller: str) -> Conversation:
    """The last message must be the customer's; earlier turns become the conversation.

    The conversation id is derived from the caller and the chat's first customer message, so
    every request of one chat (which resends the whole history) lands in the same conversation.
    """
    last = request.messages[-1]
    question = last.text.strip()
    if last.role != "user" or not question:
        raise InvalidRequest("The last message must be a non-empty 'user' message.")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidRequest(f"The last message is longer than {MAX_QUESTION_CHARS} characters.")
    turns = tuple(
        (m.role, m.text) for m in request.messages[:-1] if m.role in ("user", "assistant")
    )
    first = next((text for role, text in (*turns, ("user", question)) if role == "user"), "")
    digest = hashlib.sha256(f"{caller}\x1f{first}".encode()).hexdigest()[:24]
    return Conversation(question=question, conversation_id=f"oa-{digest}", history=turns)
