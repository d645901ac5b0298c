"""Real SDKs work against the simulator: langchain-openai over openai 3.x (httpx2)."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from evals.upstream import SimulatorProcess
from evals.upstream.tokens import split_tokens

pytestmark = pytest.mark.slow  # every test here talks to a real simulator process

MESSAGES: list[BaseMessage] = [
    SystemMessage("<evidence>\nOrders ship within two days. Tracking follows.\n</evidence>"),
    HumanMessage("When will my order ship?"),
]
EXPECTED = "According to our help centre: Orders ship within two days."


async def stream_and_invoke(base_url: str) -> tuple[AIMessageChunk, BaseMessage]:
    model = ChatOpenAI(
        base_url=base_url, api_key="x", model="beacon-easy", stream_usage=True, max_retries=0
    )
    streamed = AIMessageChunk(content="")
    async for chunk in model.astream(MESSAGES):
        streamed += chunk
    return streamed, await model.ainvoke(MESSAGES)


def test_langchain_openai_streams_and_invokes_with_usage(simulator: SimulatorProcess) -> None:
    """ChatOpenAI's astream and ainvoke return the answer text and usage_metadata."""
    streamed, invoked = asyncio.run(stream_and_invoke(simulator.openai_base_url))
    assert isinstance(streamed.content, str) and streamed.content.startswith(EXPECTED)
    assert invoked.content == streamed.content
    assert streamed.usage_metadata is not None
    assert streamed.usage_metadata["output_tokens"] == len(split_tokens(streamed.content))
    assert streamed.usage_metadata["input_tokens"] > 0
    assert getattr(invoked, "usage_metadata", None) == streamed.usage_metadata
