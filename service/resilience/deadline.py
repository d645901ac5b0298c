"""Deadlines on a model stream: time to first token, gap between chunks, and total.

On expiry the wait is cancelled inside the provider's generator, so its ``finally`` blocks run
and the upstream HTTP response is closed there and then: the model stops generating for us.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from service.errors import ProviderTimeout


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_token_s: float
    chunk_s: float
    total_s: float


async def stream_within(source: AsyncIterator[str], deadlines: Deadlines) -> AsyncIterator[str]:
    """Relay ``source`` and raise ``ProviderTimeout`` as soon as a deadline passes."""
    loop = asyncio.get_running_loop()
    total_at = loop.time() + deadlines.total_s
    wait_s = deadlines.first_token_s
    try:
        while True:
            try:
                async with asyncio.timeout_at(min(loop.time() + wait_s, total_at)):
                    chunk = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ProviderTimeout() from None
            wait_s = deadlines.chunk_s
            yield chunk
    finally:
        await _close(source)


async def _close(source: AsyncIterator[str]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
