"""Resumable turns over real HTTP: Idempotency-Key on POST /ask, resume with Last-Event-ID,
cancel, and the refusals (another question, another caller, an unknown turn)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.admission.keys import hash_api_key
from service.settings import AdmissionSettings, FeedbackSettings, LLMSettings
from tests.conftest import AppHandle
from tests.sse_client import parse_sse

QUESTION = {"question": "How do I request a refund?"}


@pytest.fixture
def beacon(beacon_factory: Callable[..., AppHandle], tmp_path: Path) -> AppHandle:
    return beacon_factory(feedback=FeedbackSettings(db_path=tmp_path / "feedback.sqlite"))


def post_turn(
    beacon: AppHandle, key: str, body: dict[str, str] = QUESTION, **headers: str
) -> httpx.Response:
    return httpx.post(
        f"{beacon.url}/ask", json=body, headers={"idempotency-key": key, **headers}, timeout=30
    )


def accounted(beacon: AppHandle) -> float:
    return sum(
        sample.value
        for metric in beacon.registry.collect()
        if metric.name == "beacon_requests"
        for sample in metric.samples
        if sample.name == "beacon_requests_total"
    )


def test_same_key_twice_answers_once(beacon: AppHandle) -> None:
    """The second POST with the key replays the first answer (same events, same trace id) and
    the pipeline accounted one request."""
    first, second = post_turn(beacon, "turn-http-0001"), post_turn(beacon, "turn-http-0001")
    assert first.status_code == second.status_code == 200
    assert parse_sse(first.text) == parse_sse(second.text)
    assert first.headers["x-trace-id"] == second.headers["x-trace-id"]
    assert parse_sse(first.text)[-1].event == "done"
    assert accounted(beacon) == 1


def test_resume_after_last_event_id_gets_exactly_the_rest(beacon: AppHandle) -> None:
    """GET /ask/turns/{id}/stream with Last-Event-ID N returns the events after N."""
    events = parse_sse(post_turn(beacon, "turn-http-0002").text)
    resumed = httpx.get(
        f"{beacon.url}/ask/turns/turn-http-0002/stream", headers={"last-event-id": "3"}
    )
    assert resumed.status_code == 200
    assert parse_sse(resumed.text) == events[3:]
    assert [e.id for e in events] == [str(n) for n in range(1, len(events) + 1)]


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/ask/turns/turn-never-seen/stream", {}, 404),
        ("POST", "/ask/turns/turn-never-seen/cancel", {}, 404),
        ("GET", "/ask/turns/turn-http-0003/stream", {"last-event-id": "abc"}, 422),
        ("GET", "/ask/turns/x/stream", {}, 422),
    ],
)
def test_unknown_turns_and_bad_ids_are_refused(
    beacon: AppHandle, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    """Unknown turns are 404; a malformed Last-Event-ID or turn id is 422."""
    post_turn(beacon, "turn-http-0003")
    response = httpx.request(method, f"{beacon.url}{path}", headers=headers)
    assert response.status_code == status
    assert response.json()["trace_id"]


def test_reused_key_with_another_question_is_a_conflict(beacon: AppHandle) -> None:
    """A key already used for one question gets 409 for another, before any stream."""
    post_turn(beacon, "turn-http-0004")
    other = post_turn(beacon, "turn-http-0004", {"question": "How long does delivery take?"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "turn_conflict"


def test_another_key_cannot_read_a_turn(beacon_factory: Callable[..., AppHandle]) -> None:
    """With API keys on, a turn started with one key is 404 for another key."""
    keys = ("sk-first-key-123", "sk-second-key-456")
    beacon = beacon_factory(
        admission=AdmissionSettings(api_key_sha256=tuple(hash_api_key(k) for k in keys))
    )
    first = post_turn(beacon, "turn-http-0005", authorization=f"Bearer {keys[0]}")
    assert first.status_code == 200
    path = f"{beacon.url}/ask/turns/turn-http-0005/stream"
    assert httpx.get(path, headers={"authorization": f"Bearer {keys[0]}"}).status_code == 200
    assert httpx.get(path, headers={"authorization": f"Bearer {keys[1]}"}).status_code == 404
    assert httpx.get(path).status_code == 401


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[SimulatorProcess]:
    with start_simulator(config=SimulatorConfig(ttft_ms=20, tokens_per_second=5)) as simulator:
        yield simulator


def test_cancel_stops_a_running_turn(
    beacon_factory: Callable[..., AppHandle], slow_upstream: SimulatorProcess
) -> None:
    """A client that dropped its stream cancels the turn: the model call is closed and the
    turn ends with one done event, finish_reason cancelled."""
    slow_upstream.reset_stats()
    beacon = beacon_factory(
        provider="openai", llm=LLMSettings(base_url=slow_upstream.openai_base_url)
    )
    headers = {"idempotency-key": "turn-http-0006"}
    with httpx.stream("POST", f"{beacon.url}/ask", json=QUESTION, headers=headers) as response:
        next(response.iter_bytes())  # the first events, then the connection is dropped
    cancel = httpx.post(f"{beacon.url}/ask/turns/turn-http-0006/cancel")
    assert cancel.json() == {"status": "cancelled", "turn_id": "turn-http-0006"}
    events = parse_sse(httpx.get(f"{beacon.url}/ask/turns/turn-http-0006/stream").text)
    terminal = [e for e in events if e.event in ("done", "error")]
    assert [e.data["finish_reason"] for e in terminal] == ["cancelled"]
    assert slow_upstream.stats()["requests_total"]["none"] == 1
    again = httpx.post(f"{beacon.url}/ask/turns/turn-http-0006/cancel")
    assert again.json()["status"] == "finished"
