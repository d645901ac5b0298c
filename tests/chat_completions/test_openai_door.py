"""The OpenAI-compatible door, driven by the official `openai` SDK and LangChain's ChatOpenAI."""

from __future__ import annotations

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI

from tests.conftest import AppHandle


def client_for(beacon: AppHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{beacon.url}/v1", api_key="unused", max_retries=0)


def test_models_lists_the_beacon_model(beacon: AppHandle) -> None:
    """GET /v1/models lists `beacon`, the one model this door answers as."""
    assert [model.id for model in client_for(beacon).models.list()] == ["beacon"]


def test_sdk_non_streaming_completion_carries_answer_and_citations(beacon: AppHandle) -> None:
    """A plain completion holds the FAQ answer, usage, and citations in the `beacon` field."""
    completion = client_for(beacon).chat.completions.create(
        model="beacon", messages=[{"role": "user", "content": "How do I request a refund?"}]
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and "refund" in (choice.message.content or "")
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    extension = completion.model_extra["beacon"]  # type: ignore[index]
    assert extension["citations"][0]["source"].startswith("help-center/refunds")
    assert completion.id == f"chatcmpl-{extension['trace_id']}"


def test_sdk_stream_follows_the_chunk_format(beacon: AppHandle) -> None:
    """The SDK's stream: role delta first, content deltas, finish_reason, then a usage chunk."""
    stream = client_for(beacon).chat.completions.create(
        model="beacon",
        messages=[{"role": "user", "content": "怎么申请退款？"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].model_extra["beacon"]["citations"]  # type: ignore[index]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "退款" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.usage is None for c in chunks[:-1])


def test_raw_stream_ends_with_done(beacon: AppHandle) -> None:
    """On the wire every frame is `data: {json}` and the last one is `data: [DONE]`."""
    body = {"model": "beacon", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(f"{beacon.url}/v1/chat/completions", json=body, timeout=30)
    frames = [f for f in response.text.split("\n\n") if f]
    assert all(frame.startswith("data: ") for frame in frames)
    assert frames[-1] == "data: [DONE]"
    assert response.headers["content-type"].startswith("text/event-stream")


def test_history_becomes_the_conversation(beacon: AppHandle) -> None:
    """Two requests of one chat (the second resends the history) share a conversation id."""
    client = client_for(beacon)
    first = [{"role": "user", "content": "How do I request a refund?"}]
    one = client.chat.completions.create(model="beacon", messages=first)  # type: ignore[arg-type]
    history = [
        *first,
        {"role": "assistant", "content": one.choices[0].message.content},
        {"role": "user", "content": "How long does delivery take?"},
    ]
    two = client.chat.completions.create(model="beacon", messages=history)  # type: ignore[arg-type]
    ids = [c.model_extra["beacon"]["conversation_id"] for c in (one, two)]  # type: ignore[index]
    assert ids[0] == ids[1] and ids[0].startswith("oa-")


def test_langchain_chat_openai_streams_and_invokes(beacon: AppHandle) -> None:
    """ChatOpenAI pointed at the door invokes and streams with usage, unmodified."""
    chat = ChatOpenAI(
        model="beacon",
        base_url=f"{beacon.url}/v1",
        api_key="unused",  # type: ignore[arg-type]
        max_retries=0,
        stream_usage=True,
    )
    reply = chat.invoke([HumanMessage("How do I request a refund?")])
    assert isinstance(reply, AIMessage) and "refund" in str(reply.content)
    chunks = list(chat.stream([HumanMessage("怎么申请退款？")]))
    assert "退款" in "".join(str(c.content) for c in chunks)
    assert any(c.usage_metadata is not None for c in chunks)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404),
        ({"model": "beacon", "messages": [{"role": "assistant", "content": "hi"}]}, 422),
        ({"model": "beacon", "messages": []}, 422),
        ({"model": "beacon", "messages": [{"role": "user", "content": "x" * 2001}]}, 422),
    ],
)
def test_bad_requests_are_refused_before_the_stream(
    beacon: AppHandle, body: dict[str, object], status: int
) -> None:
    """Unknown models, a last message not from the user, no messages or an overlong question
    get an HTTP error with a message the SDK can show."""
    response = httpx.post(f"{beacon.url}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_same_idempotency_key_replays_the_stream(beacon: AppHandle) -> None:
    """A streamed request repeated with its Idempotency-Key replays the same answer (same
    trace id) instead of answering again."""
    body = {"model": "beacon", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"idempotency-key": "turn-openai-0001"}
    url = f"{beacon.url}/v1/chat/completions"
    first = httpx.post(url, json=body, headers=headers, timeout=30)
    second = httpx.post(url, json=body, headers=headers, timeout=30)
    assert first.text == second.text
    assert first.headers["x-trace-id"] == second.headers["x-trace-id"]
    assert answered(beacon) == 1


def answered(beacon: AppHandle) -> float:
    """Requests the pipeline accounted, whatever their route and outcome."""
    return sum(
        sample.value
        for metric in beacon.registry.collect()
        if metric.name == "beacon_requests"
        for sample in metric.samples
        if sample.name == "beacon_requests_total"
    )
