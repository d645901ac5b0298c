"""The in-process turn buffer: one generation per turn id, replay after any event id, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.api.turns import SSETurnCodec
from service.pipeline.encoder import KEEPALIVE_FRAME
from service.pipeline.events import DoneEvent, Event, HandoffEvent, TokenEvent
from service.turns import (
    InProcessTurnBuffer,
    Turn,
    TurnConflict,
    TurnHistoryLost,
    TurnLimits,
    TurnNotFound,
)
from tests.sse_client import parse_sse


class Generations:
    """Counts how many answer streams were opened, like the upstream simulator counts calls."""

    def __init__(self, tokens: list[str], *, gate: asyncio.Event | None = None) -> None:
        self.tokens = tokens
        self.opened = 0
        self.closed = 0
        self.gate = gate

    def __call__(self) -> AsyncIterator[Event]:
        self.opened += 1
        return self._stream()

    async def _stream(self) -> AsyncIterator[Event]:
        try:
            yield HandoffEvent(reason="risk_terms", ticket_id="HO-1")
            for index, token in enumerate(self.tokens):
                if self.gate is not None and index == len(self.tokens) // 2:
                    await self.gate.wait()
                yield TokenEvent(token)
            yield DoneEvent("stop", 1, len(self.tokens), 0.0, ttft_ms=1.0, latency_ms=2.0)
        finally:
            self.closed += 1


async def start(
    buffer: InProcessTurnBuffer,
    events: Callable[[], AsyncIterator[Event]],
    *,
    turn_id: str = "turn-0001",
    owner: str = "anonymous",
    asked: str = "q",
) -> Turn:
    turn, _ = await buffer.start(
        turn_id,
        owner=owner,
        fingerprint=asked,
        trace_id="0" * 32,
        events=events,
        codec=SSETurnCodec("0" * 32),
    )
    return turn


async def read(turn: Turn, after: int = 0) -> str:
    parts = [
        frame async for frame in turn.follow(after, keepalive_s=5.0, keepalive=KEEPALIVE_FRAME)
    ]
    return b"".join(parts).decode()


def test_same_turn_id_twice_opens_one_generation() -> None:
    """A repeated turn id replays the first turn's events and never opens a second stream."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        generations = Generations(["退", "款", " ok"])
        first = await start(buffer, generations)
        second = await start(buffer, generations)
        assert first is second
        assert await read(first) == await read(second)
        assert generations.opened == 1
        await buffer.aclose()

    asyncio.run(scenario())


def test_reader_resumes_after_its_last_event_id() -> None:
    """A reader that saw events up to id N gets exactly the events after N, the last one done."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        turn = await start(buffer, Generations(["a", "b", "c", "d"]))
        everything = parse_sse(await read(turn))
        rest = parse_sse(await read(turn, after=3))
        assert [e.id for e in rest] == [e.id for e in everything[3:]]
        assert rest[-1].event == "done"
        assert "".join(e.data["text"] for e in rest if e.event == "token") == "cd"
        await buffer.aclose()

    asyncio.run(scenario())


def test_dropped_reader_does_not_stop_the_generation() -> None:
    """Closing a reader mid-turn leaves the generation running to its done event."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        gate = asyncio.Event()
        generations = Generations(list("abcdef"), gate=gate)
        turn = await start(buffer, generations)
        reader = turn.follow(0, keepalive_s=5.0, keepalive=KEEPALIVE_FRAME)
        await anext(reader)
        await reader.aclose()  # the browser went away
        gate.set()
        assert turn.task is not None
        await turn.task
        events = parse_sse(await read(turn))
        assert events[-1].event == "done" and events[-1].data["finish_reason"] == "stop"
        assert generations.opened == 1 and generations.closed == 1
        await buffer.aclose()

    asyncio.run(scenario())


def test_cancel_stops_the_generation_with_one_terminal_event() -> None:
    """Cancel closes the answer stream, and readers end on a single cancelled done."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        generations = Generations(list("abcdef"), gate=asyncio.Event())
        turn = await start(buffer, generations)
        await asyncio.sleep(0)
        assert await buffer.cancel("turn-0001", owner="anonymous") is True
        events = parse_sse(await read(turn))
        terminal = [e for e in events if e.event in ("done", "error")]
        assert [e.data["finish_reason"] for e in terminal] == ["cancelled"]
        assert generations.closed == 1
        assert await buffer.cancel("turn-0001", owner="anonymous") is False
        await buffer.aclose()

    asyncio.run(scenario())


def test_turn_is_invisible_to_another_caller() -> None:
    """Another API key can neither read, cancel nor reuse a caller's turn id."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        await start(buffer, Generations(["a"]), owner="key-a")
        with pytest.raises(TurnNotFound):
            await buffer.get("turn-0001", owner="key-b")
        with pytest.raises(TurnNotFound):
            await buffer.cancel("turn-0001", owner="key-b")
        with pytest.raises(TurnConflict):
            await start(buffer, Generations(["a"]), owner="key-b")
        await buffer.aclose()

    asyncio.run(scenario())


def test_reused_turn_id_with_another_question_is_a_conflict() -> None:
    """An id already used for one question is refused for another, not replayed."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer()
        await start(buffer, Generations(["a"]), asked="refund")
        with pytest.raises(TurnConflict):
            await start(buffer, Generations(["a"]), asked="delivery")
        await buffer.aclose()

    asyncio.run(scenario())


def test_finished_turns_expire_after_their_ttl() -> None:
    """After the TTL a finished turn is gone: a reconnect gets 404, not stale events."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer(TurnLimits(ttl_s=0.01))
        turn = await start(buffer, Generations(["a"]))
        assert turn.task is not None
        await turn.task
        await asyncio.sleep(0.05)
        with pytest.raises(TurnNotFound):
            await buffer.get("turn-0001", owner="anonymous")
        await buffer.aclose()

    asyncio.run(scenario())


@given(
    tokens=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=60),
    max_events=st.integers(min_value=16, max_value=64),
    max_bytes=st.integers(min_value=4096, max_value=8192),
)
def test_buffer_stays_within_its_bounds(tokens: list[str], max_events: int, max_bytes: int) -> None:
    """Whatever is streamed, a turn holds at most max_events frames and max_bytes bytes, and a
    reader asking for dropped events gets TurnHistoryLost instead of a silent gap."""

    async def scenario() -> None:
        limits = TurnLimits(max_events=max_events, max_bytes=max_bytes)
        buffer = InProcessTurnBuffer(limits)
        turn = await start(buffer, Generations(tokens))
        assert turn.task is not None
        await turn.task
        assert len(turn.frames) <= max_events
        assert turn.bytes <= max_bytes or len(turn.frames) == 1
        assert turn.bytes == sum(len(frame) for _, frame in turn.frames)
        kept = [event_id for event_id, _ in turn.frames]
        assert kept == list(range(kept[0], kept[-1] + 1))
        if turn.dropped_through:
            with pytest.raises(TurnHistoryLost):
                turn.after(0)
        else:
            assert len(parse_sse(b"".join(turn.after(0)).decode())) == len(tokens) + 2
        await buffer.aclose()

    asyncio.run(scenario())


def test_buffer_caps_the_number_of_finished_turns() -> None:
    """Past max_turns the oldest finished turns are forgotten first."""

    async def scenario() -> None:
        buffer = InProcessTurnBuffer(TurnLimits(max_turns=3))
        for index in range(5):
            turn = await start(buffer, Generations(["a"]), turn_id=f"turn-{index:04d}")
            assert turn.task is not None
            await turn.task
        assert len(buffer) <= 3
        assert await buffer.find("turn-0004", owner="anonymous") is not None
        assert await buffer.find("turn-0000", owner="anonymous") is None
        await buffer.aclose()

    asyncio.run(scenario())
