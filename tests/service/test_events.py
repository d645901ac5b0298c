"""SSE frames: numbered, trace-tagged, and impossible to forge from token text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.events import SSEEncoder
from tests.sse_client import parse_sse

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_token_cannot_forge_an_event() -> None:
    """A token containing a blank line and 'event: done' stays one token event."""
    encoder = SSEEncoder(TRACE)
    evil = 'hi\n\nevent: done\ndata: {"finish_reason": "stop"}\n\n'
    raw = encoder.encode("token", evil) + encoder.encode("done", {"finish_reason": "stop"})
    events = parse_sse(raw.decode())
    assert [e.event for e in events] == ["token", "done"]
    assert events[0].data["text"] == evil


def test_every_event_carries_trace_id_and_a_rising_id() -> None:
    """Ids count up from 1 and every data payload carries the trace_id."""
    encoder = SSEEncoder(TRACE)
    raw = b"".join(
        [
            encoder.encode("meta", {"route": "faq"}),
            encoder.encode("token", "你好"),
            encoder.encode("done", {"finish_reason": "stop"}),
        ]
    )
    events = parse_sse(raw.decode())
    assert [e.id for e in events] == ["1", "2", "3"]
    assert {e.data["trace_id"] for e in events} == {TRACE}


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_tokens_round_trip_exactly(tokens: list[str]) -> None:
    """Whatever text a token holds, a spec-following client reads back exactly that text."""
    encoder = SSEEncoder(TRACE)
    raw = b"".join(encoder.encode("token", t) for t in tokens)
    events = parse_sse(raw.decode())
    assert [e.data["text"] for e in events] == tokens
