"""The SQLite conversation store: durable, bounded, forgetful on request, never hanging."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from service.conversations.sqlite_store import SqliteConversationStore
from service.conversations.store import ConversationStoreUnavailable
from service.conversations.turn import Summary
from tests.conversations.factories import turn


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_turns_survive_a_restart(tmp_path: Path) -> None:
    """A second store on the same file (a restarted server) reads the turns and summary."""
    path = tmp_path / "conversations.sqlite"

    async def scenario() -> None:
        first = SqliteConversationStore(path)
        summary = Summary(topics=("refund-request",), text="Topics: refund")
        await first.append("c-1", turn(), summary=summary, owner="key-a")
        await first.aclose()
        second = SqliteConversationStore(path)
        loaded = await second.load("c-1")
        await second.aclose()
        assert loaded is not None
        assert loaded.turns == (turn(),)
        assert (loaded.summary, loaded.turn_count, loaded.owner) == (summary, 1, "key-a")

    asyncio.run(scenario())


def test_only_the_last_turns_are_kept_verbatim(tmp_path: Path) -> None:
    """Beyond ``max_turns`` the oldest turns are dropped; the count keeps every turn."""

    async def scenario() -> None:
        store = SqliteConversationStore(tmp_path / "c.sqlite", max_turns=3)
        for n in range(5):
            await store.append("c-1", turn(f"q{n}"), summary=Summary(), owner=None)
        loaded = await store.load("c-1")
        assert loaded is not None
        assert [t.question for t in loaded.turns] == ["q2", "q3", "q4"]
        assert loaded.turn_count == 5

    asyncio.run(scenario())


def test_idle_conversations_expire_and_are_pruned(tmp_path: Path) -> None:
    """Past the TTL a conversation reads as unknown, and prune deletes it."""
    clock = Clock()

    async def scenario() -> None:
        store = SqliteConversationStore(tmp_path / "c.sqlite", ttl_s=60, clock=clock)
        await store.append("old", turn(), summary=Summary(), owner=None)
        clock.now += 30
        await store.append("new", turn(), summary=Summary(), owner=None)
        clock.now += 45
        assert await store.load("old") is None
        assert await store.load("new") is not None
        assert await store.prune() == 1
        assert await store.prune() == 0

    asyncio.run(scenario())


def test_owner_is_set_once_by_the_first_turn(tmp_path: Path) -> None:
    """A later turn cannot change who owns the conversation."""

    async def scenario() -> None:
        store = SqliteConversationStore(tmp_path / "c.sqlite")
        await store.append("c-1", turn(), summary=Summary(), owner="key-a")
        await store.append("c-1", turn(), summary=Summary(), owner="key-b")
        loaded = await store.load("c-1")
        assert loaded is not None and loaded.owner == "key-a"

    asyncio.run(scenario())


def test_delete_leaves_no_text_behind(tmp_path: Path) -> None:
    """After delete the question's text is nowhere in the database file or its WAL."""
    path = tmp_path / "c.sqlite"
    marker = "UNIQUE-SHOE-QUESTION-7781"

    async def scenario() -> None:
        store = SqliteConversationStore(path)
        await store.append("c-1", turn(marker), summary=Summary(text=marker), owner=None)
        await store.append("c-2", turn("other"), summary=Summary(), owner=None)
        assert await store.delete("c-1") is True
        assert await store.delete("c-1") is False
        assert await store.load("c-1") is None
        await store.aclose()

    asyncio.run(scenario())
    for file in tmp_path.iterdir():
        assert marker.encode() not in file.read_bytes(), file.name


def test_a_locked_file_fails_fast_as_unavailable(tmp_path: Path) -> None:
    """While another process holds the write lock, append raises ConversationStoreUnavailable
    after the short busy timeout instead of hanging the request."""
    path = tmp_path / "c.sqlite"

    async def scenario() -> None:
        store = SqliteConversationStore(path, busy_timeout_s=0.05)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(ConversationStoreUnavailable):
                await store.append("c-1", turn(), summary=Summary(), owner=None)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await store.append("c-1", turn(), summary=Summary(), owner=None)  # lock gone: works

    asyncio.run(scenario())


def test_an_unwritable_location_is_unavailable(tmp_path: Path) -> None:
    """A path that cannot hold a database raises ConversationStoreUnavailable at open."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConversationStoreUnavailable):
        SqliteConversationStore(blocker / "c.sqlite")
