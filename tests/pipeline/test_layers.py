"""A token's path from the upstream socket to the ASGI ``send``: at most four generator layers."""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from service.app import Harness
from service.pipeline.services import Services
from service.providers.base import GenerationRequest, Usage
from service.settings import LLMSettings
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse

MAX_LAYERS = 4


@dataclass
class LayerProbe:
    """A provider shaped like the direct OpenAI one: a body reader (the socket's generator)
    under the provider's generator. At each chunk the reader counts the async generators on
    the stack up to the response's send loop."""

    name: str = "openai"
    depths: list[int] = field(default_factory=list)

    async def _read_body(self) -> AsyncIterator[bytes]:
        for piece in (b"Refunds ", b"take five ", b"days."):
            self.depths.append(generator_layers(sys._getframe(0)))
            yield piece

    async def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        usage.model = request.model
        async for data in self._read_body():
            usage.tokens_out += 1
            yield data.decode()

    async def aclose(self) -> None:
        return None


def generator_layers(frame: object) -> int:
    """Async-generator frames from ``frame`` up to the SSE response's send loop."""
    count = 0
    current = frame
    while current is not None:
        code = current.f_code  # type: ignore[attr-defined]
        if code.co_name == "_send_events":
            return count
        if code.co_flags & inspect.CO_ASYNC_GENERATOR:
            count += 1
        current = current.f_back  # type: ignore[attr-defined]
    raise AssertionError("the send loop is not on the stack: the stream runs elsewhere")


def probe_installer(probe: LayerProbe) -> Callable[[Services], Services]:
    def install(services: Services) -> Services:
        services.generator.provider = probe
        return services

    return install


def test_a_token_crosses_at_most_four_generator_layers(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """Socket reader, provider, resilience and execute: nothing else stands between a model's
    token and the ASGI send (no per-token wrapper for deadlines, cache, filters or accounting)."""
    probe = LayerProbe()
    beacon = beacon_factory(
        provider="openai",
        llm=LLMSettings(base_url="http://127.0.0.1:9/v1"),
        harness=Harness(wrap_services=probe_installer(probe)),
    )
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    assert answer_text(events) == "Refunds take five days."
    assert probe.depths and max(probe.depths) <= MAX_LAYERS
    assert probe.depths == [MAX_LAYERS] * 3  # reader, provider, generation, execute
