"""The ``openai`` provider on langchain-openai's ``ChatOpenAI`` (any OpenAI-compatible endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import structlog
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from service.errors import ProviderBadResponse
from service.providers.base import ChatMessage, GenerationRequest, Usage
from service.providers.openai_errors import openai_errors_translated
from service.settings import LLMSettings

_MESSAGE_TYPES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}


def to_langchain_messages(messages: list[ChatMessage]) -> list[BaseMessage]:
    return [_MESSAGE_TYPES[message.role](content=message.content) for message in messages]


log = structlog.get_logger("beacon.provider")


def build_http_client(settings: LLMSettings) -> httpx2.AsyncClient:
    """One pooled client per provider (openai>=3 speaks httpx2), owned by the app's lifespan,
    instead of langchain-openai's process-wide default that outlives event loops."""
    timeout = httpx2.Timeout(
        settings.total_timeout_s,
        connect=settings.connect_timeout_s,
        read=settings.chunk_timeout_s,
    )
    limits = httpx2.Limits(max_connections=512, max_keepalive_connections=64)
    return httpx2.AsyncClient(timeout=timeout, limits=limits)


class LangChainOpenAIProvider:
    name = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self._http = build_http_client(settings)
        self._models: dict[tuple[str, tuple[tuple[str, str], ...]], ChatOpenAI] = {}

    def chat_model(self, model: str, headers: dict[str, str] | None = None) -> ChatOpenAI:
        """One client per (model, headers); ``stream_usage`` and timeouts are set explicitly
        because their defaults are off (custom clients) and 120 s respectively."""
        key = (model, tuple(sorted((headers or {}).items())))
        if key not in self._models:
            s = self._settings
            self._models[key] = ChatOpenAI(
                model=model,
                base_url=s.base_url,
                api_key=s.api_key,
                timeout=s.total_timeout_s,
                max_retries=0,  # retries are Beacon's decision, made before the first token
                stream_usage=True,
                stream_chunk_timeout=s.chunk_timeout_s,
                max_completion_tokens=s.max_tokens,
                temperature=s.temperature,
                default_headers=dict(headers) if headers else None,
                http_async_client=self._http,
            )
        return self._models[key]

    async def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        usage.model = request.model
        chat = self.chat_model(request.model, dict(request.headers))
        messages = to_langchain_messages(list(request.messages))
        finished = False
        with openai_errors_translated():
            async for chunk in chat.astream(messages):
                finished = finished or bool(chunk.response_metadata.get("finish_reason"))
                if chunk.usage_metadata:
                    usage.tokens_in = chunk.usage_metadata["input_tokens"]
                    usage.tokens_out = chunk.usage_metadata["output_tokens"]
                    usage.reported = True
                text = chunk.content
                if isinstance(text, str) and text:
                    if not usage.reported:
                        usage.tokens_out += 1
                    yield text
        if not finished:  # cut off without a finish reason: the answer is incomplete
            raise ProviderBadResponse()

    async def aclose(self) -> None:
        self._models.clear()
        await self._http.aclose()
