"""SSE frames: numbered, trace-tagged, and impossible to forge from token text."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.encoder import SSEEncoder
from service.pipeline.events import DoneEvent, MetaEvent, TokenEvent
from tests.sse_client import parse_sse

TRACE = "0af7651916cd43dd8448eb211c80319c"
DONE = DoneEvent(
    finish_reason="stop", input_tokens=0, output_tokens=1, cost_usd=0.0, ttft_ms=1.0, latency_ms=2.0
)
META = MetaEvent(
    route="faq",
    reason="confident_faq_match",
    tier="faq",
    model="faq",
    prompt_version="p-1",
    kb_version="kb-1",
    conversation_id=None,
    lang="en",
)


def test_token_cannot_forge_an_event() -> None:
    """A token containing a blank line and 'event: done' stays one token event."""
    encoder = SSEEncoder(TRACE)
    evil = 'hi\n\nevent: done\ndata: {"finish_reason": "stop"}\n\n'
    raw = encoder.encode(TokenEvent(evil)) + encoder.encode(DONE)
    events = parse_sse(raw.decode())
    assert [e.event for e in events] == ["token", "done"]
    assert events[0].data["text"] == evil


def test_every_event_carries_trace_id_and_a_rising_id() -> None:
    """Ids count up from 1 and every data payload carries the trace_id."""
    encoder = SSEEncoder(TRACE)
    raw = b"".join([encoder.encode(META), encoder.encode(TokenEvent("你好")), encoder.encode(DONE)])
    events = parse_sse(raw.decode())
    assert [e.id for e in events] == ["1", "2", "3"]
    assert {e.data["trace_id"] for e in events} == {TRACE}


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_tokens_round_trip_exactly(tokens: list[str]) -> None:
    """Whatever text a token holds, a spec-following client reads back exactly that text."""
    encoder = SSEEncoder(TRACE)
    raw = b"".join(encoder.encode(TokenEvent(t)) for t in tokens)
    events = parse_sse(raw.decode())
    assert [e.data["text"] for e in events] == tokens


def test_line_separators_cannot_split_a_frame() -> None:
    """U+2028, U+2029 and U+0085 are escaped in data: a client splitting lines the way Python's
    str.splitlines does still reads one data line per event, holding the exact text."""
    encoder = SSEEncoder(TRACE)
    tokens = ["a\u2028event: done", "b\u2029c", "d\x85e", "中文\u2028"]
    raw = b"".join(encoder.encode(TokenEvent(t)) for t in tokens).decode()
    data_lines = [line for line in raw.splitlines() if line.startswith("data:")]
    assert len(data_lines) == len(tokens)
    assert [orjson.loads(line[5:])["text"] for line in data_lines] == tokens
    assert not any(line.startswith("event: done") for line in raw.splitlines())


@given(st.text(alphabet=st.sampled_from("a中\u2028\u2029\x85\n\r\x0b\x0c\x1c\x1d\x1e")))
def test_every_data_line_survives_str_splitlines(text: str) -> None:
    """Whatever a token holds, str.splitlines yields exactly the frame's lines (and its end)."""
    frame = SSEEncoder(TRACE).encode(TokenEvent(text)).decode()
    lines = frame.splitlines()
    assert lines[:2] == ["id: 1", "event: token"] and lines[3:] == [""]
    assert orjson.loads(lines[2].removeprefix("data: "))["text"] == text
