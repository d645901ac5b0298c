"""Three Beacon processes on one Redis behave as one service (``state.backend=redis``)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from evals.drills.service_process import BeaconProcess, start_beacon, wait_until_ready
from evals.redis_server import RedisServer, start_redis_server
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, pick_free_port, start_simulator
from service.admission import hash_api_key
from tests.sse_client import parse_sse

pytestmark = pytest.mark.slow

KEYS = {
    "rate": "replica-key-rate-0001",
    "cache": "replica-key-cache-001",
    "breaker": "replica-key-brk-0001",
    "conv": "replica-key-conv-0001",
}
DIGESTS = json.dumps([hash_api_key(key) for key in KEYS.values()])
HARD_FAILING = "beacon-hard+server_error"  # the simulator answers this model with HTTP 500


@dataclass
class Fleet:
    redis: RedisServer
    simulator: SimulatorProcess
    replicas: list[BeaconProcess]

    def ask(self, replica: int, question: str, key: str, **body: Any) -> httpx.Response:
        headers = {"accept": "application/json", "authorization": f"Bearer {KEYS[key]}"}
        return httpx.post(
            f"{self.replicas[replica].url}/ask",
            json={"question": question, **body},
            headers=headers,
            timeout=30,
        )

    def headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {KEYS[key]}"}

    def upstream_requests(self, fault: str = "none") -> int:
        counts: dict[str, int] = self.simulator.stats()["requests_total"]
        return counts[fault]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, demo_index_dir: Path) -> Iterator[Fleet]:
    logs = tmp_path_factory.mktemp("replicas")
    config = SimulatorConfig(ttft_ms=5, tokens_per_second=2000)
    with start_redis_server() as redis, start_simulator(config=config) as simulator:
        settings = {
            "BEACON_PROVIDER": "openai",
            "BEACON_LLM__BASE_URL": simulator.openai_base_url,
            "BEACON_LLM__HARD_MODEL": HARD_FAILING,
            "BEACON_RETRIEVAL__INDEX_DIR": str(demo_index_dir),
            "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
            "BEACON_ADMISSION__API_KEY_SHA256": json.dumps(
                [hash_api_key(k) for k in KEYS.values()]
            ),
            "BEACON_ADMISSION__RATE_PER_S": "0.001",
            "BEACON_ADMISSION__BURST": "6",
            "BEACON_RESILIENCE__ATTEMPTS_PER_MODEL": "1",
            "BEACON_RESILIENCE__BREAKER_FAILURES": "2",
            "BEACON_STATE__BACKEND": "redis",
            "BEACON_STATE__URL": redis.url,
            "BEACON_CONVERSATIONS__PATH": str(logs / "unused.sqlite"),
        }
        with contextlib.ExitStack() as stack:
            replicas = [
                stack.enter_context(replica(settings, logs / f"{name}.log")) for name in "abc"
            ]
            for each in replicas:
                wait_until_ready(each)
            yield Fleet(redis, simulator, replicas)


def replica(settings: dict[str, str], log_path: Path) -> Any:
    """``beacon serve`` itself (no drill harness) on a free port."""
    port = pick_free_port("127.0.0.1")
    return start_beacon(settings, port=port, log_path=log_path, faults=False)


def test_one_key_s_rate_limit_holds_across_replicas(fleet: Fleet) -> None:
    """A key with a burst of 6 gets 6 answers from three replicas together, not 18."""
    statuses = [fleet.ask(n % 3, "How do I track my order?", "rate").status_code for n in range(9)]
    assert statuses.count(200) == 6
    assert statuses.count(429) == 3


def test_an_answer_cached_by_one_replica_is_a_hit_on_another(fleet: Fleet) -> None:
    """The second replica replays the first one's answer without calling the model again."""
    question = "How can I change the delivery address of my order?"
    first = fleet.ask(0, question, "cache").json()
    calls_before = fleet.upstream_requests()
    second = fleet.ask(1, question, "cache").json()
    assert (first["cache_hit"], second["cache_hit"]) == (False, True)
    assert second["answer"] == first["answer"]
    assert fleet.upstream_requests() == calls_before


def test_a_breaker_tripped_on_one_replica_is_open_on_another(fleet: Fleet) -> None:
    """Two failures of the strong model on A open its circuit; B then skips that model at once
    (the simulator sees no new request for it) and answers with the cheap one."""
    hard = "How do I get a refund and also how long does delivery take?"
    for _ in range(2):
        assert fleet.ask(0, hard, "breaker").json()["tier"] == "hard"
    failed_before = fleet.upstream_requests("server_error")
    time.sleep(1.0)  # replicas read shared verdicts every 0.25 s
    answer = fleet.ask(1, hard, "breaker").json()
    assert fleet.upstream_requests("server_error") == failed_before
    assert answer["answered_by"] == "beacon-easy" and answer["finish_reason"] == "stop"
    assert answer["fallbacks"] == ["hard->easy"]


def test_a_conversation_started_on_one_replica_continues_on_another(fleet: Fleet) -> None:
    """B answers the second turn with A's first in its history (turn 2, the follow-up rewritten
    from it, nothing degraded), and C lists both turns."""
    conversation = "replica-conversation-1"
    first = fleet.ask(
        0, "I want to return the shoes I bought", "conv", conversation_id=conversation
    )
    second = fleet.ask(1, "how long does that take?", "conv", conversation_id=conversation)
    assert first.status_code == second.status_code == 200
    answer = second.json()
    assert answer["turn"] == 2 and answer["reason"] == "follow_up"
    assert answer["context"] is not None and answer["degraded"] is None
    turns = httpx.get(
        f"{fleet.replicas[2].url}/conversations/{conversation}",
        headers=fleet.headers("conv"),
        timeout=10,
    ).json()["turns"]
    assert [turn["question"] for turn in turns] == [
        "I want to return the shoes I bought",
        "how long does that take?",
    ]


def test_a_stream_started_on_one_replica_resumes_on_another(fleet: Fleet) -> None:
    """A client that read two events from A and lost the connection gets the rest from C,
    from event 3 to one ``done``, without a second model call."""
    turn_id = "replica-turn-0001"
    headers = {**fleet.headers("conv"), "idempotency-key": turn_id}
    body = {"question": "Can I pay with a gift card and also split the payment?"}
    calls_before = fleet.upstream_requests()
    with httpx.stream(
        "POST", f"{fleet.replicas[0].url}/ask", json=body, headers=headers, timeout=30
    ) as response:
        lines = response.iter_lines()
        seen = [next(lines) for _ in range(6)]  # two whole frames: id, event, data, blank
    assert seen[0] == "id: 1" and seen[4] == "id: 2"
    time.sleep(0.5)  # the turn runs on without its client; its frames reach Redis
    resumed = httpx.get(
        f"{fleet.replicas[2].url}/ask/turns/{turn_id}/stream",
        headers={**fleet.headers("conv"), "last-event-id": "2"},
        timeout=30,
    )
    events = parse_sse(resumed.text)
    assert resumed.status_code == 200
    assert events[0].id == "3"
    assert [event.event for event in events].count("done") == 1 and events[-1].event == "done"
    assert fleet.upstream_requests() == calls_before + 1
