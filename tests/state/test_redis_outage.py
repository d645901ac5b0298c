"""Redis cut mid-load under a real ``beacon serve``: nothing accepted is lost, then it recovers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

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
            "BEACON_STATE__BACKEND": "redis",
            "BEACON_STATE__URL": proxy.url,
            "BEACON_STATE__TIMEOUT_S": "0.2",
        }
        port = pick_free_port("127.0.0.1")
        with start_beacon(
            settings, port=port, log_path=tmp_path / "beacon.log", faults=False
        ) as beacon:
            wait_until_ready(beacon)
            yield beacon, proxy


async def _load(url: str, proxy: TcpProxy) -> list[tuple[int, list[str]]]:
    async def one(n: int, client: httpx.AsyncClient) -> tuple[int, list[str]]:
        body = {"question": QUESTIONS[n % 3], "conversation_id": f"outage-{n % 7}"}
        response = await client.post("/ask", json=body)
        return response.status_code, [event.event for event in parse_sse(response.text)]

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        tasks = [asyncio.create_task(one(n, client)) for n in range(REQUESTS)]
        while sum(task.done() for task in tasks) < REQUESTS // 6:
            await asyncio.sleep(0.005)
        proxy.cut()  # Redis gone while requests are in flight
        await asyncio.sleep(1.0)
        proxy.restore()
        return list(await asyncio.gather(*tasks))


def requests_counted(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "beacon_requests"
        for sample in family.samples
        if sample.name == "beacon_requests_total"
    )


def test_redis_cut_mid_load_loses_no_accepted_request(
    served: tuple[BeaconProcess, TcpProxy],
) -> None:
    """Every request ends with one terminal event or a plain HTTP refusal; accepted requests =
    ask_completed lines = beacon_requests_total; Redis is counted down, then up again."""
    beacon, proxy = served
    results = asyncio.run(_load(beacon.url, proxy))
    streamed = [events for status, events in results if status == 200]
    assert all(events.count("done") + events.count("error") == 1 for events in streamed)
    assert all(events[-1] in ("done", "error") for events in streamed)
    assert all(status in (200, 409, 429) for status, _ in results)
    lines = [line for line in beacon.log_records() if line.get("event") == "ask_completed"]
    assert len(lines) == REQUESTS == requests_counted(beacon.url)
    stateless = [line for line in lines if "conversation->stateless" in line["fallbacks"]]
    assert stateless  # turns that could not read their history were answered without it
    after = httpx.post(f"{beacon.url}/ask", json={"question": QUESTIONS[0]}, timeout=30)
    assert after.status_code == 200 and parse_sse(after.text)[-1].event == "done"
    metrics = httpx.get(f"{beacon.url}/metrics", timeout=10).text
    assert "beacon_state_up 1.0" in metrics
    assert 'beacon_state_errors_total{feature="conversations"}' in metrics
