"""Run cases against a target URL: a bounded pool of concurrent ``/ask`` calls, N repeats each.

Repeats run as rounds (every case once, then every case again), so that a repeat does not ride
on the previous attempt's warm caches more than the rest of the suite does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx

from evals.harness.cases import Case
from evals.harness.client import ask_case
from evals.harness.grading import CaseResult
from evals.harness.progress import Progress


async def run_cases(
    url: str,
    cases: Sequence[Case],
    *,
    repeats: int = 1,
    concurrency: int = 4,
    progress: Progress | None = None,
    timeout_s: float = 120.0,
    after_warm_up: Callable[[], None] | None = None,
) -> list[CaseResult]:
    """Ask every case ``repeats`` times with at most ``concurrency`` requests in flight;
    ``after_warm_up`` runs once the warm-up requests are answered (e.g. to zero counters)."""
    results = [CaseResult(case) for case in cases]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for _ in range(repeats):
        for position in range(len(cases)):
            queue.put_nowait(position)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:
        await _warm_up(client, concurrency)
        if after_warm_up is not None:
            after_warm_up()

        async def worker() -> None:
            while not queue.empty():
                position = queue.get_nowait()
                result = results[position]
                result.add(await ask_case(client, result.case))
                if progress is not None:
                    progress.advance(ok=all(result.checks[-1].values()))

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    if progress is not None:
        progress.close()
    return results


async def _warm_up(client: httpx.AsyncClient, connections: int) -> None:
    """Open the pool's connections and take the server's first-request costs off the clock."""
    warm_up = Case(id="warm-up", question="ping")
    await asyncio.gather(*(ask_case(client, warm_up) for _ in range(max(1, connections))))
