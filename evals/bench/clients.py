"""``clients``: client CPU per streamed token, direct client versus langchain-openai.

The provider alone, no server: ``streams`` concurrent completions at 50 tokens/s from the
simulator (on the client core), read by one provider in a process pinned to the server core;
CPU per token is that process's user + system time over the tokens it yielded. At 50 tokens/s
each token is its own socket read, as from a real model.

``python -m evals.bench.clients`` runs one measurement from a JSON job on stdin.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any

import orjson

from evals.bench.fleet import CLIENT_CORE, SERVER_CORE, Fleet, pinned
from evals.bench.profile import Profile
from evals.bench.streams import long_answer
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import child_environment

TOKENS_PER_SECOND = 50.0
CLIENTS = ("direct", "langchain")


def run(fleet: Fleet, profile: Profile) -> dict[str, Any]:
    config = SimulatorConfig(
        ttft_ms=10.0, tokens_per_second=TOKENS_PER_SECOND, answer=long_answer(profile.stream_tokens)
    )
    simulator = fleet.simulator(config)
    cases = {}
    for client in CLIENTS:
        job = {
            "client": client,
            "base_url": f"{simulator.base_url}/v1",
            "streams": profile.client_streams,
        }
        done = subprocess.run(
            pinned([sys.executable, "-m", "evals.bench.clients"], SERVER_CORE),
            input=orjson.dumps(job),
            capture_output=True,
            env=child_environment(),
            check=True,
            timeout=600,
        )
        cases[client] = orjson.loads(done.stdout)
    return {"tokens_per_second": TOKENS_PER_SECOND, "simulator_core": CLIENT_CORE, "cases": cases}


async def measure(client: str, base_url: str, streams: int) -> dict[str, Any]:
    from service.providers.base import ChatMessage, ChatProvider, GenerationRequest, Usage
    from service.providers.langchain_openai import LangChainOpenAIProvider
    from service.providers.openai_direct import OpenAIDirectProvider
    from service.settings import LLMSettings

    settings = LLMSettings(base_url=base_url, client=client)
    provider: ChatProvider = (
        OpenAIDirectProvider(settings) if client == "direct" else LangChainOpenAIProvider(settings)
    )
    request = GenerationRequest(
        model="beacon-easy", messages=(ChatMessage("user", "Refund?"),), lang="en", evidence=()
    )

    async def one() -> int:
        return len([text async for text in provider.stream(request, Usage())])

    await one()  # warm-up: connections, first-call paths
    started = time.process_time()
    tokens = sum(await asyncio.gather(*(one() for _ in range(streams))))
    cpu = time.process_time() - started
    await provider.aclose()
    return {"streams": streams, "tokens": tokens, "cpu_per_token_us": round(cpu / tokens * 1e6, 2)}


def main() -> None:
    import uvloop

    job = orjson.loads(sys.stdin.buffer.read())
    result = uvloop.run(measure(job["client"], job["base_url"], int(job["streams"])))
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
