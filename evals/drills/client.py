"""The drills' customer: sends bursts of ``/ask`` requests, reads the SSE streams as they come,
and can walk away mid-answer (closing the connection) like an impatient user.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

TERMINAL = frozenset({"done", "error"})


@dataclass(frozen=True, slots=True)
class AskSpec:
    question: str
    headers: Mapping[str, str] = field(default_factory=dict)
    disconnect_after_tokens: int | None = None
    """Close the connection after this many ``token`` events (None: read to the end)."""
    body: bytes | None = None
    """A raw body instead of ``{"question": ...}`` (e.g. an oversized one)."""
    kind: str = ""
    """A label for reports and mixed bursts (``easy``, ``tool_timeout``, ...)."""


@dataclass(slots=True)
class AskResult:
    spec: AskSpec
    status: int = 0
    trace_id: str = ""
    retry_after: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    latency_ms: float = 0.0
    disconnected: bool = False
    """The client left before a terminal event."""
    disconnected_at: float | None = None
    body: dict[str, Any] | None = None
    """The JSON body of a refusal (non-200)."""
    transport_error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == 200

    @property
    def terminals(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, data) for name, data in self.events if name in TERMINAL]

    @property
    def terminal(self) -> tuple[str, dict[str, Any]] | None:
        terminals = self.terminals
        return terminals[-1] if terminals else None

    @property
    def text(self) -> str:
        return "".join(data.get("text", "") for name, data in self.events if name == "token")

    def named(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data in self.events if event == name]


async def send_burst(
    base_url: str,
    specs: Sequence[AskSpec],
    *,
    concurrency: int,
    timeout_s: float = 30.0,
    on_result: Callable[[AskResult], None] = lambda _: None,
) -> list[AskResult]:
    """Send every spec, ``concurrency`` at a time; results come back in the specs' order.
    ``on_result`` sees each result as it completes (to break something mid-burst)."""
    gate = asyncio.Semaphore(concurrency)
    async with _client(base_url, concurrency, timeout_s) as client:

        async def one(spec: AskSpec) -> AskResult:
            async with gate:
                result = await ask(client, spec)
            on_result(result)
            return result

        return list(await asyncio.gather(*(one(spec) for spec in specs)))


async def send_until(
    base_url: str,
    make_spec: Callable[[int], AskSpec],
    *,
    concurrency: int,
    until: Awaitable[None],
    timeout_s: float = 30.0,
) -> list[AskResult]:
    """Keep ``concurrency`` requests going (the n-th is ``make_spec(n)``) until ``until`` is
    done; the requests under way then finish. Results come back in the order they were sent."""
    numbers = itertools.count()
    results: dict[int, AskResult] = {}
    stop = asyncio.Event()
    async with _client(base_url, concurrency, timeout_s) as client:

        async def worker() -> None:
            while not stop.is_set():
                n = next(numbers)
                results[n] = await ask(client, make_spec(n))

        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        try:
            await until
        finally:
            stop.set()
            await asyncio.gather(*workers)
    return [results[n] for n in sorted(results)]


def _client(base_url: str, concurrency: int, timeout_s: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, timeout=timeout_s, limits=limits)


async def ask(client: httpx.AsyncClient, spec: AskSpec) -> AskResult:
    result = AskResult(spec=spec)
    body = spec.body if spec.body is not None else orjson.dumps({"question": spec.question})
    headers = {"content-type": "application/json", **spec.headers}
    started = time.perf_counter()
    try:
        async with client.stream("POST", "/ask", content=body, headers=headers) as response:
            result.status = response.status_code
            result.trace_id = response.headers.get("x-trace-id", "")
            result.retry_after = response.headers.get("retry-after")
            if response.status_code != 200:
                result.body = orjson.loads(await response.aread())
            else:
                await read_stream(response, result)
    except httpx.HTTPError as error:
        result.transport_error = type(error).__name__
    result.latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return result


async def read_stream(response: httpx.Response, result: AskResult) -> None:
    """Parse SSE frames as they arrive; leave early when the spec says so."""
    tokens = 0
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" not in fields:
            fields = {}
            continue
        event = fields.get("event", "message")
        result.events.append((event, orjson.loads(fields["data"])))
        fields = {}
        if event in TERMINAL:
            return
        tokens += event == "token"
        if spec_leaves(result.spec, tokens):
            result.disconnected = True
            result.disconnected_at = time.monotonic()
            return  # leaving the `stream` block closes the connection mid-body


def spec_leaves(spec: AskSpec, tokens: int) -> bool:
    return spec.disconnect_after_tokens is not None and tokens >= spec.disconnect_after_tokens
