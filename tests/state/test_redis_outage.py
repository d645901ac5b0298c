"""Redis cut mid-load under a real ``beacon serve``: nothing accepted is lost, then it recovers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from evals.drills.client import TERMINAL, AskResult, AskSpec, send_burst
from evals.drills.prometheus import scrape
from evals.drills.redis_stage import after_results, redis_state_settings
from evals.drills.service_process import BeaconProcess, start_beacon, wait_until_ready
from evals.drills.tcp_proxy import TcpProxy, run_tcp_proxy
from evals.redis_server import RedisServer
from evals.upstream.process import pick_free_port
from tests.sse_client import parse_sse

pytestmark = pytest.mark.slow

REQUESTS = 60
QUESTIONS = ("How do I track my order?", "退款要多久？", "How do I reset my password?")


@pytest.fixture
def served(
    redis_server: RedisServer, demo_index_dir: Path, tmp_path: Path
) -> Iterator[tuple[BeaconProcess, TcpProxy]]:
    with run_tcp_proxy(redis_server.host, redis_server.port) as proxy:
        settings = {
            "BEACON_RETRIEVAL__INDEX_DIR": str(demo_index_dir),
            "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
            **redis_state_settings(proxy.url("redis"), timeout_s=0.2),
        }
        port = pick_free_port("127.0.0.1")
        with start_beacon(
            settings, port=port, log_path=tmp_path / "beacon.log", faults=False
        ) as beacon:
            wait_until_ready(beacon)
            yield beacon, proxy


def _turn(n: int) -> AskSpec:
    body = {"question": QUESTIONS[n % 3], "conversation_id": f"outage-{n % 7}"}
    return AskSpec(QUESTIONS[n % 3], body=orjson.dumps(body))


async def _load(url: str, proxy: TcpProxy) -> list[AskResult]:
    gone = asyncio.Event()

    def cut() -> None:  # Redis gone while requests are in flight
        proxy.cut()
        gone.set()

    specs = [_turn(n) for n in range(REQUESTS)]
    on_result = after_results(REQUESTS // 6, cut)
    load = asyncio.create_task(send_burst(url, specs, concurrency=REQUESTS, on_result=on_result))
    await gone.wait()
    await asyncio.sleep(1.0)
    proxy.restore()
    return await load


def test_redis_cut_mid_load_loses_no_accepted_request(
    served: tuple[BeaconProcess, TcpProxy],
) -> None:
    """Every request ends with one terminal event or a plain HTTP refusal; accepted requests =
    ask_completed lines = beacon_requests_total; Redis is counted down, then up again."""
    beacon, proxy = served
    results = asyncio.run(_load(beacon.url, proxy))
    streamed = [result for result in results if result.status == 200]
    assert all(len(result.terminals) == 1 for result in streamed)
    assert all(result.events[-1][0] in TERMINAL for result in streamed)
    assert all(result.status in (200, 409, 429) for result in results)
    lines = [line for line in beacon.log_records() if line.get("event") == "ask_completed"]
    assert len(lines) == REQUESTS == scrape(beacon.url).value("beacon_requests_total")
    stateless = [line for line in lines if "conversation->stateless" in line["fallbacks"]]
    assert stateless  # turns that could not read their history were answered without it
    after = httpx.post(f"{beacon.url}/ask", json={"question": QUESTIONS[0]}, timeout=30)
    assert after.status_code == 200 and parse_sse(after.text)[-1].event == "done"
    metrics = scrape(beacon.url)
    assert metrics.value("beacon_state_up") == 1
    assert metrics.value("beacon_state_errors_total", feature="conversations") > 0
