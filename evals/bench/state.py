"""``state``: what shared state in Redis costs one request, against the in-process defaults.

One request's state work, as the pipeline does it: take a rate-limit token, take and give back a
concurrency slot, hold the conversation's turn lock, load the conversation, look the answer up
in the cache (a miss), store the answer and append the turn. Timed end to end per request, in
interleaved rounds of the two backends (in-process + SQLite, and Redis on a local
``redis-server``), with p50/p99 in microseconds and the Redis/in-process ratio of the medians.

A scenario of its own (no Beacon process): ``python -m evals.bench.state [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from evals.bench.profile import PROFILES, Profile
from evals.bench.summary import describe_machine, percentile
from evals.redis_server import start_redis_server
from service.admission.bucket import RateLimiter
from service.conversations.sqlite_store import SqliteConversationStore
from service.conversations.turn import Summary, Turn
from service.conversations.turn_lock import TurnLocks
from service.observability.metrics import Metrics
from service.pipeline.cache import ExpiringLRU
from service.settings import AdmissionSettings, Settings, StateSettings
from service.state.shared import SharedState, open_shared_state

REQUESTS = {"full": 2000, "smoke": 40}
ROUNDS = 4
FIELDS = ("how do i get a refund", "kb-1", "prompts-1", "faq", "en")
TURN = Turn(
    question="How do I get a refund?",
    answer="Go to Account > Orders and tap Return or refund; refunds take 5-10 business days.",
    citations=("refund-request",),
    route="faq",
    trace_id="0" * 32,
    at=0.0,
)

RequestOps = Callable[[int], Awaitable[None]]


def in_process_ops(directory: Path) -> RequestOps:
    limiter = RateLimiter(rate_per_s=1e9, burst=1_000_000)
    locks = TurnLocks()
    answers: ExpiringLRU[str] = ExpiringLRU(max_entries=10_000, ttl_s=300)
    conversations = SqliteConversationStore(directory / "conversations.sqlite")
    running = 0

    async def one_request(n: int) -> None:
        nonlocal running
        await limiter.try_take("key")
        running += 1  # the in-process gate is a counter and a deque
        conversation = f"c{n}"
        async with locks.hold(conversation):
            await conversations.load(conversation)
            answers.get((*FIELDS, str(n)))
            answers.put((*FIELDS, str(n)), TURN.answer)
            await conversations.append(conversation, TURN, summary=Summary(), owner=None)
        running -= 1

    return one_request


def redis_ops(shared: SharedState) -> RequestOps:
    async def one_request(n: int) -> None:
        await shared.rate_limiter.try_take("key")
        ticket = f"t{n}"
        await shared.slots.enter(ticket)
        conversation = f"c{n}"
        async with shared.turn_locks.hold(conversation):
            await shared.conversations.load(conversation)
            await shared.answers.get((*FIELDS, str(n)))
            await shared.answers.put((*FIELDS, str(n)), TURN.answer)
            await shared.conversations.append(conversation, TURN, summary=Summary(), owner=None)
        await shared.slots.release(ticket)

    return one_request


async def _time_requests(ops: RequestOps, count: int, offset: int) -> list[float]:
    timings: list[float] = []
    for n in range(offset, offset + count):
        started = time.perf_counter()
        await ops(n)
        timings.append((time.perf_counter() - started) * 1e6)
    return timings


async def _measure(url: str, directory: Path, requests: int) -> dict[str, list[float]]:
    settings = Settings(
        _env_file=None,
        state=StateSettings(backend="redis", url=SecretStr(url)),
        admission=AdmissionSettings(rate_per_s=1e9, burst=1_000_000),
    )
    shared = open_shared_state(settings, Metrics(CollectorRegistry()))
    backends = {"in_process": in_process_ops(directory), "redis": redis_ops(shared)}
    samples: dict[str, list[float]] = {name: [] for name in backends}
    per_round = max(1, requests // ROUNDS)
    try:
        for round_number in range(ROUNDS):  # interleaved: both see the same machine load
            for name, ops in backends.items():
                offset = round_number * per_round
                samples[name] += await _time_requests(ops, per_round, offset)
    finally:
        await shared.aclose()
    return samples


def run(profile: Profile) -> dict[str, Any]:
    requests = REQUESTS.get(profile.name, REQUESTS["smoke"])
    with start_redis_server() as server, tempfile.TemporaryDirectory() as tmp:
        samples = asyncio.run(_measure(server.url, Path(tmp), requests))
    summary: dict[str, Any] = {
        name: {
            "requests": len(values),
            "p50_us": round(percentile(values, 50), 1),
            "p99_us": round(percentile(values, 99), 1),
        }
        for name, values in samples.items()
    }
    base = summary["in_process"]["p50_us"]
    summary["redis_over_in_process_p50"] = round(summary["redis"]["p50_us"] / base, 2)
    summary["redis_added_p50_us"] = round(summary["redis"]["p50_us"] - base, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    args = parser.parse_args(argv)
    result = {"machine": describe_machine(), "state": run(PROFILES[args.profile])}
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
