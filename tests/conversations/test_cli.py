"""``beacon conversations prune`` deletes what outlived the TTL and keeps the rest."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.cli import main
from service.conversations.sqlite_store import SqliteConversationStore
from service.conversations.turn import Summary
from tests.conversations.factories import turn


def test_prune_command_deletes_expired_conversations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An idle conversation is pruned, a fresh one stays, and the count is printed."""
    path = tmp_path / "c.sqlite"

    async def seed() -> None:
        old = SqliteConversationStore(path, clock=lambda: 0.0)
        await old.append("old", turn(), summary=Summary(), owner=None)
        await old.aclose()
        fresh = SqliteConversationStore(path)
        await fresh.append("fresh", turn(), summary=Summary(), owner=None)
        await fresh.aclose()

    asyncio.run(seed())
    monkeypatch.setenv("BEACON_CONVERSATIONS__PATH", str(path))
    monkeypatch.setenv("BEACON_CONVERSATIONS__TTL_S", "3600")
    assert main(["conversations", "prune"]) == 0
    assert "pruned 1 conversations" in capsys.readouterr().out

    async def remaining() -> tuple[bool, bool]:
        store = SqliteConversationStore(path, ttl_s=1e12)
        try:
            return await store.load("old") is None, await store.load("fresh") is not None
        finally:
            await store.aclose()

    assert asyncio.run(remaining()) == (True, True)
