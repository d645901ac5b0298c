"""The documented event protocol: per-event schemas in /openapi.json that real streams obey."""

from __future__ import annotations

import httpx
import pytest

from service.api.protocol import EVENTS, stream_example
from tests.conftest import AppHandle
from tests.sse_client import ask_sse, parse_sse


def test_openapi_documents_one_schema_per_event(beacon: AppHandle) -> None:
    """/ask's text/event-stream response has an itemSchema branch and a component schema with
    an example for every event name, and an example stream."""
    document = httpx.get(f"{beacon.url}/openapi.json").json()
    content = document["paths"]["/ask"]["post"]["responses"]["200"]["content"]
    stream = content["text/event-stream"]
    names = [branch["properties"]["event"]["const"] for branch in stream["itemSchema"]["oneOf"]]
    assert names == list(EVENTS)
    components = document["components"]["schemas"]
    for model in EVENTS.values():
        assert components[model.__name__]["examples"], model.__name__
    assert "event: token" in stream["example"]
    resumed = document["paths"]["/ask/turns/{turn_id}/stream"]["get"]["responses"]["200"]
    assert resumed["content"]["text/event-stream"]["itemSchema"] == stream["itemSchema"]


def test_documented_examples_match_their_schemas() -> None:
    """Every example in the document validates against its own event schema."""
    for event in parse_sse(stream_example()):
        EVENTS[event.event].model_validate(event.data)


@pytest.mark.parametrize(
    "question",
    [
        "How do I request a refund?",
        "怎么申请退款？",
        "Someone used my credit card on your site without my permission!",
        "What is the capital of France?",
        "My email is jo@example.com, where is my parcel?",
    ],
)
def test_real_streams_match_the_documented_schemas(beacon: AppHandle, question: str) -> None:
    """Every event Beacon sends validates against the documented schema of its name."""
    response, events = ask_sse(beacon.url, question)
    assert response.status_code == 200 and events
    for event in events:
        assert event.event in EVENTS, f"undocumented event {event.event!r}"
        EVENTS[event.event].model_validate(event.data)
