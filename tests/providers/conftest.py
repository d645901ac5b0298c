"""One real upstream simulator for the provider tests, and a factory for either OpenAI client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from evals.upstream import SimulatorProcess, start_simulator
from evals.upstream.config import SimulatorConfig
from service.providers.base import ChatProvider
from service.providers.langchain_openai import LangChainOpenAIProvider
from service.providers.openai_direct import OpenAIDirectProvider
from service.settings import LLMSettings

CLIENTS = ("direct", "langchain")


@pytest.fixture(scope="package")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=2000)) as process:
        yield process


@pytest.fixture(params=CLIENTS)
def client_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def make_provider(simulator: SimulatorProcess, client_kind: str) -> Callable[..., ChatProvider]:
    """Build the parametrised client against the simulator; ``LLMSettings`` fields override."""

    def make(**overrides: Any) -> ChatProvider:
        overrides.setdefault("base_url", simulator.openai_base_url)
        settings = LLMSettings(client=client_kind, **overrides)
        if client_kind == "direct":
            return OpenAIDirectProvider(settings)
        return LangChainOpenAIProvider(settings)

    return make
