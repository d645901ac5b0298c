"""POST /ask over real HTTP on the embedded defaults: SSE, JSON, both languages, bad input."""

from __future__ import annotations

import httpx
import pytest

from rag.knowledge import load_knowledge_base
from service.settings import DEFAULT_KB_DIR
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse


def entry_for_intent(intent: str) -> str:
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    return next(entry.id for entry in kb.entries if intent in entry.intents)


def test_chinese_refund_question_streams_the_refund_answer(beacon: AppHandle) -> None:
    """A Chinese refund question streams meta, evidence, tokens and done under one trace_id."""
    response, events = ask_sse(beacon.url, "怎么申请退款？")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    names = [e.event for e in events]
    assert names[:2] == ["meta", "evidence"] and names[-1] == "done"
    assert set(names[2:-1]) == {"token"}
    assert {e.data["trace_id"] for e in events} == {response.headers["x-trace-id"]}
    refund = entry_for_intent("get_refund")
    assert events[1].data["citations"][0]["id"] == refund
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    assert answer_text(events) == kb.get(refund).answer["zh"]
    assert events[0].data["route"] == "faq" and events[0].data["lang"] == "zh"


def test_english_refund_question_answers_in_english(beacon: AppHandle) -> None:
    """The English question is answered from the same entry, in English, citing it."""
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    refund = entry_for_intent("get_refund")
    assert events[1].data["citations"][0]["id"] == refund
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    assert answer_text(events) == kb.get(refund).answer["en"]
    done = events[-1].data
    assert done["finish_reason"] == "stop" and done["cost_usd"] == 0
    assert done["usage"]["output_tokens"] > 5


@pytest.mark.parametrize(
    ("question", "refusal_word"),
    [("What is the capital of France?", "only help"), ("帮我写一首关于春天的诗", "只能")],
)
def test_out_of_scope_question_is_refused_politely(
    beacon: AppHandle, question: str, refusal_word: str
) -> None:
    """A question the KB does not cover gets route out_of_scope, no citation and a refusal."""
    _, events = ask_sse(beacon.url, question)
    assert events[0].data["route"] == "out_of_scope"
    assert events[1].data["citations"] == []
    assert refusal_word in answer_text(events)
    assert events[-1].event == "done" and events[-1].data["finish_reason"] == "refused"
    assert beacon.metric("beacon_refusals_total") == 1


def test_risky_question_hands_off_to_a_human(beacon: AppHandle) -> None:
    """A stolen-card question emits a handoff event with a ticket id before the answer."""
    _, events = ask_sse(beacon.url, "Someone stole my card and used it without my permission!")
    names = [e.event for e in events]
    assert events[0].data["route"] == "risky"
    assert "handoff" in names and names.index("handoff") < names.index("token")
    handoff = next(e for e in events if e.event == "handoff").data
    assert handoff["ticket_id"].startswith("HO-")
    assert handoff["ticket_id"] in answer_text(events)
    assert events[-1].data["finish_reason"] == "handoff"


def test_json_mode_returns_one_body(beacon: AppHandle) -> None:
    """Accept: application/json gets one JSON body with answer, citations, route and usage."""
    response = httpx.post(
        f"{beacon.url}/ask",
        json={"question": "How can I track my order?"},
        headers={"accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["citations"][0]["id"] == entry_for_intent("track_order")
    assert body["answer"] and body["route"] in ("faq", "easy")
    assert body["trace_id"] == response.headers["x-trace-id"]
    assert body["usage"]["output_tokens"] > 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "refund?", "colour": "red"}, "colour"),
        ({}, "question"),
        ({"question": 42}, "question"),
        ({"question": "refund?", "locale": "fr"}, "locale"),
        ({"question": "refund?", "conversation_id": "a b"}, "conversation_id"),
    ],
)
def test_bad_input_gets_422_with_trace_id(
    beacon: AppHandle, payload: dict[str, object], field: str
) -> None:
    """Invalid bodies are refused before any stream with a 422 naming the field."""
    response = httpx.post(f"{beacon.url}/ask", json=payload, timeout=10)
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "invalid_request" and body["error"]["layer"] == "input"
    assert body["trace_id"] == response.headers["x-trace-id"] and len(body["trace_id"]) == 32
    assert field in body["error"]["message"]


def test_malformed_json_gets_422(beacon: AppHandle) -> None:
    """A body that is not JSON is a 422, not a 500."""
    response = httpx.post(
        f"{beacon.url}/ask",
        content=b"{not json",
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_oversized_body_gets_413(beacon: AppHandle) -> None:
    """A body over the limit is refused with 413 before the app reads it."""
    response = httpx.post(f"{beacon.url}/ask", json={"question": "y" * 20_000}, timeout=10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_chunked_oversized_body_gets_413(beacon: AppHandle) -> None:
    """A chunked body with no Content-Length is counted and refused past the limit."""

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"question": "'
        for _ in range(40):
            yield b"z" * 1000
        yield b'"}'

    response = httpx.post(
        f"{beacon.url}/ask",
        content=chunks(),
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413


def test_incoming_traceparent_is_continued(beacon: AppHandle) -> None:
    """A W3C traceparent from the frontend becomes the trace_id of the events."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with httpx.Client(base_url=beacon.url, timeout=30) as client:
        response = client.post(
            "/ask",
            json={"question": "How do I reset my password?"},
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
    assert response.headers["x-trace-id"] == trace_id
    assert f'"trace_id":"{trace_id}"' in response.text


def test_health_and_readiness(beacon: AppHandle) -> None:
    """/healthz is alive and /readyz reports the loaded KB and prompt versions."""
    assert httpx.get(f"{beacon.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{beacon.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["kb_version"].startswith("kb-")
    assert ready.json()["prompt_version"].startswith("p-")
