"""When the router is unsure, the embedded default asks which question was meant."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse


@pytest.mark.parametrize(
    ("question", "lang", "asks"),
    [("refund", "en", "Did you mean"), ("退款", "zh", "哪个问题")],
)
def test_unsure_match_is_clarified_not_answered(
    beacon: AppHandle, question: str, lang: str, asks: str
) -> None:
    """A question too close to call gets route clarify, no citation, and up to three suggested
    questions (entry ids and titles in the customer's language) in a clarify event."""
    _, events = ask_sse(beacon.url, question)
    names = [e.event for e in events]
    meta, evidence = events[0].data, events[1].data
    assert (meta["route"], meta["lang"]) == ("clarify", lang)
    assert evidence["citations"] == []
    clarify = next(e.data for e in events if e.event == "clarify")
    suggestions = clarify["suggestions"]
    assert 2 <= len(suggestions) <= 3
    retrieved = [item["id"] for item in evidence["retrieved"]]
    assert [s["id"] for s in suggestions] == retrieved[: len(suggestions)]
    assert all(s["id"].startswith("refund-") for s in suggestions)
    text = answer_text(events)
    assert asks in clarify["question"] and asks in text
    assert all(s["title"] in text for s in suggestions)
    assert names.index("clarify") < names.index("done")
    assert events[-1].data["finish_reason"] == "clarify"


def test_clarify_is_in_the_json_body(beacon: AppHandle) -> None:
    """``Accept: application/json`` carries the clarify question and suggestions too."""
    with httpx.Client(base_url=beacon.url, timeout=30) as client:
        body = client.post(
            "/ask", json={"question": "refund"}, headers={"accept": "application/json"}
        ).json()
    assert body["route"] == "clarify" and body["citations"] == []
    assert body["clarify"]["suggestions"][0]["id"] == body["retrieved"][0]["id"]
    assert beacon.metric("beacon_requests_total", route="clarify", outcome="ok") == 1
