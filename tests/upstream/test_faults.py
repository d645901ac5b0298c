"""Every fault is observable the way a client of a misbehaving model would see it."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from evals.upstream import Fault
from evals.upstream.responder import FAULT_AFTER_PIECES
from tests.upstream.chat import (
    CHAT_PATH,
    chat_body,
    is_content_payload,
    stream_body,
    stream_chat,
)

pytestmark = pytest.mark.slow  # every test here talks to a real simulator process

QUESTION = "How do I reset my password?"


def fault_request(fault: Fault, *, by: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Ask for ``fault`` by header or by model-name suffix."""
    if by == "header":
        return stream_body(QUESTION), {"x-sim-fault": fault.value}
    return stream_body(QUESTION, model=f"beacon-hard+{fault.value}"), {}


@pytest.mark.parametrize("by", ["header", "suffix"])
def test_rate_limited_is_429_with_retry_after(client: httpx.Client, by: str) -> None:
    """rate_limited answers 429 with Retry-After: 1 and an OpenAI rate-limit error."""
    body, headers = fault_request(Fault.RATE_LIMITED, by=by)
    response = client.post(CHAT_PATH, json=body, headers=headers)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("by", ["header", "suffix"])
def test_server_error_is_500_with_error_body(client: httpx.Client, by: str) -> None:
    """server_error answers 500 with an OpenAI server_error body."""
    body, headers = fault_request(Fault.SERVER_ERROR, by=by)
    response = client.post(CHAT_PATH, json=body, headers=headers)
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"


def test_no_first_token_sends_headers_then_nothing(client: httpx.Client) -> None:
    """no_first_token sends 200 headers and then no chunk until the client's read times out."""
    body, headers = fault_request(Fault.NO_FIRST_TOKEN, by="header")
    timeout = httpx.Timeout(10.0, read=0.5)
    with client.stream("POST", CHAT_PATH, json=body, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            response.read()


def test_reset_mid_stream_breaks_the_connection(client: httpx.Client) -> None:
    """reset_mid_stream delivers a few chunks and then the client sees a connection reset."""
    body, headers = fault_request(Fault.RESET_MID_STREAM, by="suffix")
    lines: list[str] = []
    with (
        client.stream("POST", CHAT_PATH, json=body, headers=headers) as response,
        pytest.raises(httpx.ReadError, match="reset"),
    ):
        lines.extend(line for line in response.iter_lines() if line)
    assert 2 <= len(lines) <= 1 + FAULT_AFTER_PIECES  # the role chunk and some content
    assert "data: [DONE]" not in lines


def test_malformed_chunk_follows_good_chunks(client: httpx.Client) -> None:
    """malformed_chunk sends good chunks, then a data line that is not JSON, then ends."""
    body, headers = fault_request(Fault.MALFORMED_CHUNK, by="header")
    result = stream_chat(client, body, headers)
    *good, bad = result.payloads
    assert [orjson.loads(payload)["object"] for payload in good] == ["chat.completion.chunk"] * (
        1 + FAULT_AFTER_PIECES
    )
    assert bad == "{not json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(bad)


def test_no_done_ends_cleanly_without_terminator(client: httpx.Client) -> None:
    """no_done streams the content and ends the body without finish_reason, usage or [DONE]."""
    body, headers = fault_request(Fault.NO_DONE, by="header")
    result = stream_chat(client, body, headers)
    assert result.content.startswith("According to our help centre")
    assert "[DONE]" not in result.payloads
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in result.chunks)
    assert all(chunk["usage"] is None for chunk in result.chunks)


def test_never_ends_keeps_streaming(client: httpx.Client) -> None:
    """never_ends keeps sending content chunks well past the end of the answer."""
    body, headers = fault_request(Fault.NEVER_ENDS, by="suffix")
    answer_pieces = len(stream_chat(client, stream_body(QUESTION)).content_chunks)
    content = 0
    with client.stream(
        "POST", CHAT_PATH, json=body, headers={**headers, "x-sim-tps": "2000"}
    ) as response:
        for line in response.iter_lines():
            content += is_content_payload(line)
            if content > 2 * answer_pieces:
                break
    assert content > 2 * answer_pieces


def test_slow_first_token_still_completes(client: httpx.Client) -> None:
    """slow_first_token delays the first token but the stream ends normally."""
    body, headers = fault_request(Fault.SLOW_FIRST_TOKEN, by="header")
    result = stream_chat(client, body, headers)
    assert result.payloads[-1] == "[DONE]"


@pytest.mark.parametrize("by", ["header", "suffix"])
def test_unknown_fault_is_400(client: httpx.Client, by: str) -> None:
    """A fault name outside the closed set is refused with 400 before anything streams."""
    if by == "header":
        response = client.post(
            CHAT_PATH, json=stream_body(QUESTION), headers={"x-sim-fault": "meteor_strike"}
        )
    else:
        response = client.post(CHAT_PATH, json=stream_body(QUESTION, model="beacon-easy+meteor"))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_non_streaming_malformed_body_is_not_json(client: httpx.Client) -> None:
    """malformed_chunk on a non-streaming request returns a 200 whose body is not JSON."""
    body = chat_body(QUESTION, model="beacon-easy+malformed_chunk")
    response = client.post(CHAT_PATH, json=body)
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_non_streaming_reset_breaks_the_connection(client: httpx.Client) -> None:
    """reset_mid_stream on a non-streaming request resets before any response arrives."""
    with pytest.raises(httpx.ReadError, match="reset"):
        client.post(CHAT_PATH, json=chat_body(QUESTION, model="beacon-easy+reset_mid_stream"))
