"""Conversations through the real HTTP app: follow-ups, restarts, read, forget, owners,
serialised turns and a locked store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.knowledge import load_knowledge_base
from service.admission.keys import hash_api_key
from service.settings import DEFAULT_KB_DIR, AdmissionSettings, ConversationSettings
from tests.conftest import AppHandle
from tests.sse_client import ReceivedEvent, ask_sse, parse_sse

REFUND_ENTRIES = {
    entry.id for entry in load_knowledge_base(DEFAULT_KB_DIR) if entry.category == "refund"
}


def turn(
    beacon: AppHandle, question: str, conversation: str, **headers: str
) -> list[ReceivedEvent]:
    with httpx.Client(base_url=beacon.url, timeout=30, headers=headers) as client:
        response = client.post("/ask", json={"question": question, "conversation_id": conversation})
    return parse_sse(response.text)


def first_citation(events: list[ReceivedEvent]) -> str | None:
    citations = next(e.data["citations"] for e in events if e.event == "evidence")
    return citations[0]["id"] if citations else None


@pytest.mark.parametrize(
    ("first", "follow_up"),
    [
        ("I want to return the shoes I bought", "how long does that take?"),
        ("我想退货", "那要多久？"),
        ("How do I request a refund?", "how long does that take?"),
        ("怎么申请退款？", "那要多久？"),
    ],
)
def test_follow_up_is_answered_from_the_topic_in_play(
    beacon: AppHandle, first: str, follow_up: str
) -> None:
    """The second turn is resolved against the first: answered from a refund entry, with the
    rewrite's reason in meta, not from the delivery-time entry its words alone would match."""
    turn(beacon, first, "conv-follow")
    events = turn(beacon, follow_up, "conv-follow")
    meta = events[0].data
    assert meta["turn"] == 2 and meta["context"]["reason"] == "follow_up_active_entry"
    assert meta["route"] == "faq" and first_citation(events) in REFUND_ENTRIES


@pytest.mark.parametrize(
    ("first", "second", "entry", "reason"),
    [
        ("怎么查看订单物流？", "好的，那怎么取消订单？", "order-cancel", None),
        ("How do I track my order?", "ok, then how do I cancel my order?", "order-cancel", None),
        ("How do I use a gift card?", "do they expire?", "gift-cards", "follow_up_active_entry"),
    ],
)
def test_a_follow_up_is_answered_from_its_own_words_when_they_name_an_entry(
    beacon: AppHandle, first: str, second: str, entry: str, reason: str | None
) -> None:
    """ "那" and "then" point back in form only: when the customer's own words name an entry for
    sure, the answer comes from it, not from the topic in play. "do they expire?" names none,
    so it is resolved against the gift card it points back to."""
    conversation = f"conv-own-{len(first)}-{len(second)}"
    turn(beacon, first, conversation)
    events = turn(beacon, second, conversation)
    meta = events[0].data
    assert meta.get("context", {}).get("reason") == reason
    assert meta["route"] == "faq" and first_citation(events) == entry


def test_the_same_follow_up_alone_is_not_rewritten(beacon: AppHandle) -> None:
    """Without a conversation the question is asked as is (turn 1, no context)."""
    _, events = ask_sse(beacon.url, "how long does that take?")
    assert events[0].data["turn"] == 1 and "context" not in events[0].data


def test_history_survives_a_restart_and_can_be_read_then_forgotten(
    beacon_factory: Callable[..., AppHandle], tmp_path: Path
) -> None:
    """A second server on the same store continues the conversation; GET returns its turns
    (redacted); DELETE leaves nothing: 404 afterwards and no text in the store's files."""
    store = ConversationSettings(path=tmp_path / "shared" / "conversations.sqlite")
    first = beacon_factory(conversations=store)
    turn(first, "How do I request a refund? my email is jane.doe@example.com", "conv-restart")
    second = beacon_factory(conversations=store)  # a restarted server: same file, new process state
    events = turn(second, "那要多久？", "conv-restart")
    assert events[0].data["turn"] == 2 and first_citation(events) in REFUND_ENTRIES
    with httpx.Client(base_url=second.url, timeout=30) as client:
        body = client.get("/conversations/conv-restart").json()
        assert [t["route"] for t in body["turns"]] == ["faq", "faq"]
        assert "jane.doe@example.com" not in body["turns"][0]["question"]
        assert body["turns"][0]["citations"] == ["refund-request"]
        assert client.delete("/conversations/conv-restart").status_code == 204
        gone = client.get("/conversations/conv-restart")
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "conversation_not_found"
        assert client.delete("/conversations/conv-restart").status_code == 404
    for file in store.path.parent.iterdir():
        assert b"request a refund" not in file.read_bytes(), file.name


def test_a_key_reads_and_deletes_only_its_own_conversations(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """Another key gets 404 for a conversation it did not create; no key gets 401."""
    keys = AdmissionSettings(api_key_sha256=(hash_api_key("key-a-123"), hash_api_key("key-b-456")))
    beacon = beacon_factory(admission=keys)
    turn(beacon, "How do I request a refund?", "conv-owned", authorization="Bearer key-a-123")
    with httpx.Client(base_url=beacon.url, timeout=30) as client:
        path = "/conversations/conv-owned"
        b_key, a_key = {"authorization": "Bearer key-b-456"}, {"authorization": "Bearer key-a-123"}
        assert client.get(path).status_code == 401
        assert client.get(path, headers=b_key).status_code == 404
        assert client.delete(path, headers=b_key).status_code == 404
        assert client.get(path, headers=a_key).status_code == 200
        assert client.delete(path, headers=a_key).status_code == 204


def test_an_unusable_store_answers_statelessly_and_says_degraded(
    beacon_factory: Callable[..., AppHandle], tmp_path: Path
) -> None:
    """A store that cannot be opened costs no answer: each turn is answered as a first turn,
    and done says degraded (conversations_unavailable)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    beacon = beacon_factory(conversations=ConversationSettings(path=blocker / "c.sqlite"))
    turn(beacon, "How do I request a refund?", "conv-down")
    events = turn(beacon, "How do I cancel my order?", "conv-down")
    done = events[-1]
    assert done.event == "done" and first_citation(events) == "order-cancel"
    assert done.data["degraded"] == {"code": "conversations_unavailable", "layer": "data"}
    assert events[0].data["turn"] == 1


def test_a_locked_store_still_answers(
    beacon_factory: Callable[..., AppHandle], tmp_path: Path
) -> None:
    """While another process holds the store's write lock, the turn is still answered."""
    store = ConversationSettings(path=tmp_path / "locked.sqlite", busy_timeout_s=0.05)
    beacon = beacon_factory(conversations=store)
    turn(beacon, "How do I request a refund?", "conv-locked")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        events = turn(beacon, "How do I cancel my order?", "conv-locked")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert events[-1].event == "done" and first_citation(events) == "order-cancel"


def test_turns_arriving_together_are_serialised(beacon: AppHandle) -> None:
    """Two turns of one conversation sent at once are answered one after the other: distinct
    turn numbers, and both are in the history."""
    turn(beacon, "How do I request a refund?", "conv-race")
    questions = ["How do I cancel my order?", "怎么查询退款进度？"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda q: turn(beacon, q, "conv-race"), questions))
    assert sorted(events[0].data["turn"] for events in answers) == [2, 3]
    with httpx.Client(base_url=beacon.url, timeout=30) as client:
        body = client.get("/conversations/conv-race").json()
    assert body["turn_count"] == 3
    assert sorted(t["question"] for t in body["turns"][1:]) == sorted(questions)


def test_a_follow_up_with_its_own_topic_keeps_its_own_words(beacon: AppHandle) -> None:
    """A question like "好的，那怎么取消订单？" starts like a follow-up, but when the rewrite
    is unsure and its own words are a confident match, they are answered as asked."""
    turn(beacon, "怎么查看订单物流？", "conv-own")
    events = turn(beacon, "好的，那怎么取消订单？", "conv-own")
    assert first_citation(events) == "order-cancel" and "context" not in events[0].data
