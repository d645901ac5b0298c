"""The simulator speaks OpenAI's chat-completions protocol, streaming and not."""

from __future__ import annotations

import httpx
import orjson
import pytest

from evals.upstream.tokens import estimate_prompt_tokens, split_tokens
from tests.upstream.chat import CHAT_PATH, chat_body, stream_body, stream_chat

pytestmark = pytest.mark.slow  # every test here talks to a real simulator process


def test_stream_has_openai_chunk_shape(client: httpx.Client) -> None:
    """A stream is a role chunk, content chunks, a stop chunk, a usage chunk, then [DONE]."""
    result = stream_chat(client, stream_body("How do I reset my password?"))
    assert result.status == 200
    assert result.headers["content-type"].startswith("text/event-stream")
    assert result.payloads[-1] == "[DONE]"
    chunks = result.chunks
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    finish = chunks[-2]["choices"][0]
    assert (finish["delta"], finish["finish_reason"]) == ({}, "stop")
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert all(c["choices"][0]["finish_reason"] is None for c in result.content_chunks)


def test_usage_chunk_counts_content_chunks(client: httpx.Client) -> None:
    """The last chunk has empty choices and usage whose completion_tokens is the chunk count."""
    body = stream_body("How do I reset my password?")
    result = stream_chat(client, body)
    usage_chunk = result.chunks[-1]
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["completion_tokens"] == len(result.content_chunks)
    texts = [message["content"] for message in body["messages"]]
    assert usage["prompt_tokens"] == estimate_prompt_tokens(texts)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_stream_without_include_usage_has_no_usage(client: httpx.Client) -> None:
    """Without stream_options.include_usage no chunk carries a usage field."""
    result = stream_chat(client, chat_body("Hello?", stream=True))
    assert result.payloads[-1] == "[DONE]"
    assert all("usage" not in chunk for chunk in result.chunks)


def test_content_chunks_are_model_sized_pieces(client: httpx.Client) -> None:
    """Each content chunk carries one short piece, as a tokenizer would cut the answer."""
    result = stream_chat(client, stream_body("How do I reset my password?"))
    pieces = [c["choices"][0]["delta"]["content"] for c in result.content_chunks]
    assert pieces == split_tokens(result.content)
    assert max(len(piece.strip()) for piece in pieces) <= 6


def test_non_streaming_returns_one_completion_with_usage(client: httpx.Client) -> None:
    """Without stream=true the answer comes as one chat.completion body with usage."""
    response = client.post(CHAT_PATH, json=chat_body("How do I reset my password?"))
    assert response.status_code == 200
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "beacon-easy"
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    usage = completion["usage"]
    assert usage["completion_tokens"] == len(split_tokens(choice["message"]["content"]))


def test_streamed_and_whole_answers_match(client: httpx.Client) -> None:
    """Streaming and non-streaming requests for the same messages give the same text."""
    streamed = stream_chat(client, stream_body("Where is my parcel?")).content
    whole = client.post(CHAT_PATH, json=chat_body("Where is my parcel?")).json()
    assert whole["choices"][0]["message"]["content"] == streamed


def test_max_tokens_truncates_with_length_finish(client: httpx.Client) -> None:
    """max_tokens caps the content chunks and ends the stream with finish_reason "length"."""
    result = stream_chat(client, stream_body("Where is my parcel?", max_tokens=3))
    assert len(result.content_chunks) == 3
    assert result.chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert result.chunks[-1]["usage"]["completion_tokens"] == 3


def test_model_suffix_is_stripped_from_echoed_model(client: httpx.Client) -> None:
    """A control suffix selects behaviour but the response names the base model."""
    body = chat_body("Hi", model="beacon-hard+slow_first_token")
    response = client.post(CHAT_PATH, json=body, headers={"x-sim-ttft-ms": "0"})
    assert response.json()["model"] == "beacon-hard"


def test_models_endpoint_lists_beacon_models(client: httpx.Client) -> None:
    """GET /v1/models lists the easy and hard model names."""
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert {model["id"] for model in models["data"]} >= {"beacon-easy", "beacon-hard"}


def test_healthz_reports_ok(client: httpx.Client) -> None:
    """GET /healthz answers 200 while the simulator runs."""
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_invalid_body_is_openai_style_400(client: httpx.Client) -> None:
    """A body without messages is refused with 400 and an invalid_request_error."""
    response = client.post(CHAT_PATH, content=orjson.dumps({"model": "beacon-easy"}))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "messages")


def test_unknown_route_is_404(client: httpx.Client) -> None:
    """A path the simulator does not serve is a 404 with an error body."""
    response = client.get("/v1/embeddings")
    assert response.status_code == 404
    assert "error" in response.json()
