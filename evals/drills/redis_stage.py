"""A throwaway Redis behind a loopback proxy, for drills that break it while traffic flows.

``proxied_redis`` starts a ``redis-server`` and a ``TcpProxy`` in front of it before the
service starts; ``redis_state_settings`` points Beacon at the proxy. The drill's script then
sends its burst phase by phase through ``ProxiedRedis``, cutting, slowing or restoring Redis in
between (or mid-phase, once some answers are in), and records what ``/metrics`` said:
``beacon_state_up`` each time it should have changed (and how long that took, with no request
sent to provoke it), and per phase the Redis errors counted and the gauge at its end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from evals.drills.client import AskResult, AskSpec, send_burst, send_until
from evals.drills.prometheus import MetricSnapshot, scrape
from evals.drills.tcp_proxy import TcpProxy, run_tcp_proxy
from evals.redis_server import start_redis_server

STATE_UP = "beacon_state_up"
STATE_ERRORS = "beacon_state_errors_total"
STATE_WAIT_S = 10.0
POLL_S = 0.02


def redis_state_settings(
    url: str, *, timeout_s: float = 0.2, cooldown_s: float | None = None
) -> dict[str, str]:
    """``BEACON_*`` variables for a Beacon keeping its shared state in the Redis at ``url``."""
    settings = {
        "BEACON_STATE__BACKEND": "redis",
        "BEACON_STATE__URL": url,
        "BEACON_STATE__TIMEOUT_S": str(timeout_s),
    }
    if cooldown_s is not None:
        settings["BEACON_STATE__COOLDOWN_S"] = str(cooldown_s)
    return settings


def after_results(count: int, action: Callable[[], None]) -> Callable[[AskResult], None]:
    """An ``on_result`` callback for ``send_burst`` that runs ``action`` once, when ``count``
    answers are in: Redis breaks mid-traffic, with requests still under way."""
    seen = 0

    def on_result(_: AskResult) -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            action()

    return on_result


@dataclass(frozen=True, slots=True)
class Phase:
    """Requests sent together, at ``concurrency``; checks find them by their specs' ``kind``."""

    name: str
    specs: Sequence[AskSpec]
    concurrency: int = 4


Script = Callable[["ProxiedRedis"], Awaitable[None]]


class ProxiedRedis:
    """The drill's stage: Redis behind ``proxy``, the phases to send, the script sending them."""

    def __init__(
        self,
        proxy: TcpProxy,
        *,
        phases: Sequence[Phase],
        script: Script,
        settings: Mapping[str, str],
    ) -> None:
        self.proxy = proxy
        self.phases = {phase.name: phase for phase in phases}
        self.url = ""
        self.results: list[AskResult] = []
        self._script = script
        self._settings = {**redis_state_settings(proxy.url("redis")), **settings}
        self._state_up: dict[str, dict[str, float]] = {}
        self._phases: dict[str, dict[str, float]] = {}

    @property
    def settings(self) -> Mapping[str, str]:
        return self._settings

    @property
    def observed(self) -> Mapping[str, Any]:
        return {"state_up": self._state_up, "phases": self._phases}

    async def send(self, url: str) -> list[AskResult]:
        self.url = url
        await self._script(self)
        return self.results

    def cut(self) -> None:
        """Redis gone: open connections closed, new ones refused."""
        self.proxy.cut()

    def restore(self) -> None:
        """Redis back, at full speed."""
        self.proxy.delay_s = 0.0
        self.proxy.restore()

    def slow(self, delay_s: float) -> None:
        """Every chunk to and from Redis held ``delay_s`` (a round trip costs twice that)."""
        self.proxy.delay_s = delay_s

    async def burst(self, name: str, *, cut_after: int | None = None) -> None:
        """Send phase ``name``; with ``cut_after``, Redis is cut once that many answers are in."""
        phase = self.phases[name]
        on_result = after_results(cut_after, self.cut) if cut_after else lambda _: None
        before = await self._scrape()
        sent = send_burst(self.url, phase.specs, concurrency=phase.concurrency, on_result=on_result)
        await self._record(name, before, await sent)

    async def load_while(self, name: str, disturbance: Awaitable[None]) -> None:
        """Send phase ``name``'s requests, in order, until ``disturbance`` is over (round again
        from the first if it outlasts them)."""
        phase = self.phases[name]
        before = await self._scrape()
        sent = send_until(
            self.url,
            lambda n: phase.specs[n % len(phase.specs)],
            concurrency=phase.concurrency,
            until=disturbance,
        )
        await self._record(name, before, await sent)

    async def flap(self, cycles: int, *, hold_s: float) -> None:
        """Cut and restore Redis ``cycles`` times, each state held ``hold_s`` once the service
        has noticed it (``beacon_state_up`` 0, then 1 again)."""
        for cycle in range(cycles):
            self.cut()
            await self.wait_state_up(f"cut {cycle + 1}", 0)
            await asyncio.sleep(hold_s)
            self.restore()
            await self.wait_state_up(f"restored {cycle + 1}", 1)
            await asyncio.sleep(hold_s)

    async def wait_state_up(self, label: str, value: float) -> None:
        """Read ``/metrics`` until ``beacon_state_up`` is ``value`` (sending no request: this is
        what the service notices by itself); record the last reading and how long it took."""
        started = time.monotonic()
        deadline = started + STATE_WAIT_S
        reading = (await self._scrape()).value(STATE_UP)
        while reading != value and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            reading = (await self._scrape()).value(STATE_UP)
        after_ms = round((time.monotonic() - started) * 1000, 1)
        self._state_up[label] = {"value": reading, "after_ms": after_ms}

    async def _scrape(self) -> MetricSnapshot:
        return await asyncio.to_thread(scrape, self.url)

    async def _record(self, name: str, before: MetricSnapshot, results: list[AskResult]) -> None:
        self.results += results
        after = await self._scrape()
        self._phases[name] = {
            "requests": len(results),
            "state_errors": after.value(STATE_ERRORS) - before.value(STATE_ERRORS),
            "state_up_after": after.value(STATE_UP),
        }


def redis_stage(
    phases: Sequence[Phase], script: Script, settings: Mapping[str, str]
) -> Callable[[], AbstractContextManager[ProxiedRedis]]:
    """A ``Drill.stage``: a fresh redis-server and proxy per run of the drill; ``settings``
    (the call timeout and cooldown, API keys...) go on top of ``redis_state_settings``."""

    @contextmanager
    def stage() -> Iterator[ProxiedRedis]:
        with start_redis_server() as server, run_tcp_proxy(server.host, server.port) as proxy:
            yield ProxiedRedis(proxy, phases=phases, script=script, settings=settings)

    return stage
