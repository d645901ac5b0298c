"""Run cases against a target URL: a bounded pool of concurrent ``/ask`` calls, N repeats each.

Repeats run as rounds (every case once, then every case again), so that a repeat does not ride
on the previous attempt's warm caches more than the rest of the suite does. The turns of a
conversation are one unit of work: asked in order, in a conversation id new to every round.
"""

from __future__ import annotations

import asyncio
import uuid
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
    queue: asyncio.Queue[tuple[str | None, list[int]]] = asyncio.Queue()
    run = uuid.uuid4().hex[:12]  # conversations are stored: never continue an earlier run's
    for round_number in range(repeats):
        for name, positions in _units(cases):
            conversation = f"eval-{run}-{round_number}-{name}" if name else None
            queue.put_nowait((conversation, positions))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:
        await _warm_up(client, concurrency)
        if after_warm_up is not None:
            after_warm_up()

        async def worker() -> None:
            while not queue.empty():
                conversation, positions = queue.get_nowait()
                for position in positions:
                    result = results[position]
                    seen = await ask_case(client, result.case, conversation_id=conversation)
                    result.add(seen)
                    if progress is not None:
                        progress.advance(ok=all(result.checks[-1].values()))

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    if progress is not None:
        progress.close()
    return results


def _units(cases: Sequence[Case]) -> list[tuple[str | None, list[int]]]:
    """Single cases alone; a conversation's turns together, in turn order."""
    units: list[tuple[str | None, list[int]]] = []
    turns: dict[str, list[int]] = {}
    for position, case in enumerate(cases):
        if case.conversation is None:
            units.append((None, [position]))
        elif case.conversation not in turns:
            turns[case.conversation] = [position]
            units.append((case.conversation, turns[case.conversation]))
        else:
            turns[case.conversation].append(position)
    for _, positions in units:
        positions.sort(key=lambda position: cases[position].turn)
    return units


async def _warm_up(client: httpx.AsyncClient, connections: int) -> None:
    """Open the pool's connections and take the server's first-request costs off the clock."""
    warm_up = Case(id="warm-up", question="ping")
    await asyncio.gather(*(ask_case(client, warm_up) for _ in range(max(1, connections))))
