"""Deadlines on a stream: first token, gap between chunks, total; expiry closes the source."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from service.errors import ProviderTimeout
from service.resilience.deadline import Deadlines, stream_within

GENEROUS = Deadlines(first_token_s=5, chunk_s=5, total_s=10)


class Script:
    """An async source that sleeps before each chunk and records whether it was closed."""

    def __init__(self, *gaps: float) -> None:
        self.gaps = gaps
        self.closed = False

    async def stream(self) -> AsyncIterator[str]:
        try:
            for index, gap in enumerate(self.gaps):
                await asyncio.sleep(gap)
                yield f"t{index}"
        finally:
            self.closed = True


async def drain(source: AsyncIterator[str]) -> list[str]:
    return [chunk async for chunk in source]


def test_a_timely_stream_passes_through_unchanged() -> None:
    """Chunks that arrive within every deadline are relayed as they are, in order."""
    script = Script(0, 0, 0)
    assert asyncio.run(drain(stream_within(script.stream(), GENEROUS))) == ["t0", "t1", "t2"]
    assert script.closed


@pytest.mark.parametrize(
    ("gaps", "deadlines", "received"),
    [
        ((3600,), Deadlines(first_token_s=0.05, chunk_s=5, total_s=10), []),
        ((0, 3600), Deadlines(first_token_s=5, chunk_s=0.05, total_s=10), ["t0"]),
        ((0,) + (0.01,) * 1000, Deadlines(first_token_s=5, chunk_s=5, total_s=0.1), None),
    ],
    ids=["first_token", "between_chunks", "total"],
)
def test_an_expired_deadline_raises_and_closes_the_source(
    gaps: tuple[float, ...], deadlines: Deadlines, received: list[str] | None
) -> None:
    """Each deadline ends the stream with ProviderTimeout and runs the source's cleanup."""
    script = Script(*gaps)
    seen: list[str] = []

    async def consume() -> None:
        async for chunk in stream_within(script.stream(), deadlines):
            seen.append(chunk)

    with pytest.raises(ProviderTimeout):
        asyncio.run(consume())
    assert script.closed
    if received is not None:
        assert seen == received
    else:
        assert 0 < len(seen) < len(gaps)
