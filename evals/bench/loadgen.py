"""The load generator: a separate process that sends benchmark traffic and times what comes back.

``python -m evals.bench.loadgen`` reads one JSON job on stdin and writes one JSON result on
stdout. It runs on uvloop over the same asyncio + httptools connection pool as Beacon's direct
client, so a client-side token costs a few microseconds and the generator is not the
bottleneck. Times are taken when a body chunk is handed over by the parser.

Jobs (``kind``):

- ``sequential``: the requests one after another (concurrency 1), each timed: time to the first
  token frame, total time, token frames;
- ``streams``: ``count`` copies of one request at once; per stream, the largest gap between two
  token frames and the number of frames;
- ``saturate``: ``connections`` keep-alive connections each sending the requests in turn for
  ``duration_s``; completed requests, errors and latencies.

Each request names its ``base_url`` (one keep-alive pool per base URL) and its ``marker``: bytes
that occur once per token frame (``event: token`` for Beacon, a content delta for the simulator).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

import orjson

from service.providers.connection_pool import ConnectionPool, UpstreamError

READ_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Timing:
    status: int
    ttft_s: float | None
    total_s: float
    tokens: int
    gaps_max_s: float


async def timed_request(pool: ConnectionPool, wire: bytes, marker: bytes) -> Timing:
    """Send one request and time its token frames as they arrive."""
    started = time.perf_counter()
    response = await pool.send(wire)
    first: float | None = None
    last = started
    tokens, gap_max = 0, 0.0
    try:
        async for chunk in response.iter_body():
            count = chunk.count(marker)
            if not count:
                continue
            now = time.perf_counter()
            if first is None:
                first = now
            elif now - last > gap_max:
                gap_max = now - last
            last, tokens = now, tokens + count
    finally:
        response.release()
    total = time.perf_counter() - started
    ttft = None if first is None else first - started
    return Timing(response.status, ttft, total, tokens, gap_max)


class Pools:
    """One keep-alive pool per base URL; requests carry their own ``base_url``."""

    def __init__(self) -> None:
        self._pools: dict[str, ConnectionPool] = {}

    def get(self, base_url: str) -> ConnectionPool:
        if base_url not in self._pools:
            self._pools[base_url] = ConnectionPool(
                base_url, connect_timeout_s=10.0, read_timeout_s=READ_TIMEOUT_S, max_idle=4096
            )
        return self._pools[base_url]

    def wire(self, request: dict[str, Any]) -> tuple[ConnectionPool, bytes]:
        pool = self.get(request["base_url"])
        headers = [(k.encode(), v.encode()) for k, v in request.get("headers", {}).items()]
        body = orjson.dumps(request["json"]) if "json" in request else b""
        method = request.get("method", "POST").encode()
        return pool, pool.request_bytes(method, request["path"], headers, body)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


async def run_sequential(job: dict[str, Any]) -> dict[str, Any]:
    pools = Pools()
    results = []
    for request in job["requests"]:
        pool, wire = pools.wire(request)
        timing = await timed_request(pool, wire, request["marker"].encode())
        results.append(
            {
                "label": request.get("label", ""),
                "status": timing.status,
                "ttft_s": timing.ttft_s,
                "total_s": timing.total_s,
                "tokens": timing.tokens,
            }
        )
    pools.close()
    return {"results": results}


async def run_streams(job: dict[str, Any]) -> dict[str, Any]:
    pools = Pools()
    request = job["request"]
    pool, wire = pools.wire(request)
    marker = request["marker"].encode()
    ramp_s = float(job.get("ramp_s", 0.0))
    count = int(job["count"])

    async def one(index: int) -> Timing | None:
        await asyncio.sleep(ramp_s * index / max(count, 1))
        try:
            return await timed_request(pool, wire, marker)
        except UpstreamError:
            return None

    started = time.perf_counter()
    timings = await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    pools.close()
    done = [t for t in timings if t is not None and t.status == 200]
    return {
        "streams": count,
        "elapsed_s": elapsed,
        "failed": count - len(done),
        "gaps_max_s": [t.gaps_max_s for t in done],
        "tokens": [t.tokens for t in done],
        "ttft_s": [t.ttft_s for t in done if t.ttft_s is not None],
    }


async def run_saturate(job: dict[str, Any]) -> dict[str, Any]:
    pools = Pools()
    wires = [pools.wire(request) for request in job["requests"]]
    duration_s = float(job["duration_s"])
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration_s

    async def connection(offset: int) -> None:
        nonlocal errors
        index = offset
        while time.perf_counter() < stop_at:
            pool, wire = wires[index % len(wires)]
            started = time.perf_counter()
            try:
                response = await pool.send(wire)
                await response.read_body()
                response.release()
                ok = response.status == 200
            except UpstreamError:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
            index += 1

    started = time.perf_counter()
    await asyncio.gather(*(connection(i) for i in range(int(job["connections"]))))
    elapsed = time.perf_counter() - started
    pools.close()
    return {
        "completed": len(latencies),
        "errors": errors,
        "elapsed_s": elapsed,
        "latencies_s": latencies,
    }


JOBS = {"sequential": run_sequential, "streams": run_streams, "saturate": run_saturate}


def main() -> None:
    import uvloop

    job = orjson.loads(sys.stdin.buffer.read())
    result = uvloop.run(JOBS[job["kind"]](job))
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
