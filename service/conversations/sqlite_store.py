"""The embedded conversation store: one SQLite file under ``var/`` (WAL), survives restarts.

Calls run in a worker thread (``asyncio.to_thread``) on one connection behind a lock, so the
event loop never waits on the disk. A locked or broken file raises
:class:`ConversationStoreUnavailable` after ``busy_timeout_s``, never hangs a request. Bounded:
at most ``max_turns`` turns per conversation are kept verbatim (older ones live on in the
summary), and conversations idle longer than ``ttl_s`` are invisible and pruned. A deleted
conversation is overwritten (``secure_delete``) and checkpointed out of the write-ahead log.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from service.conversations.store import ConversationStoreUnavailable
from service.conversations.turn import ConversationContext, Summary, Turn

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT,
    updated_at REAL NOT NULL,
    turn_count INTEGER NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated_at);
"""


class SqliteConversationStore:
    def __init__(
        self,
        path: Path,
        *,
        max_turns: int = 12,
        ttl_s: float = 30 * 86_400,
        busy_timeout_s: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_turns = max_turns
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=busy_timeout_s, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA secure_delete=ON")  # forgotten text is overwritten
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConversationStoreUnavailable(type(exc).__name__) from exc

    async def load(self, conversation_id: str) -> ConversationContext | None:
        return await self._run(self._load, conversation_id)

    async def append(
        self, conversation_id: str, turn: Turn, *, summary: Summary, owner: str | None
    ) -> None:
        await self._run(self._append, conversation_id, turn, summary, owner)

    async def set_summary(self, conversation_id: str, summary: Summary) -> None:
        await self._run(self._set_summary, conversation_id, summary)

    async def delete(self, conversation_id: str) -> bool:
        return await self._run(self._delete, conversation_id)

    async def prune(self) -> int:
        return await self._run(self._prune)

    async def aclose(self) -> None:
        await self._run(self._db.close)

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._locked, call, *args)

    def _locked(self, call: Callable[..., T], *args: Any) -> T:
        try:
            with self._lock:
                return call(*args)
        except sqlite3.Error as exc:  # locked, corrupt, read-only, closed: all "unavailable"
            raise ConversationStoreUnavailable(type(exc).__name__) from exc

    def _load(self, conversation_id: str) -> ConversationContext | None:
        row = self._db.execute(
            "SELECT owner, updated_at, turn_count, summary FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None or row[1] < self._clock() - self.ttl_s:
            return None
        bodies = self._db.execute(
            "SELECT body FROM turns WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
        ).fetchall()
        return ConversationContext(
            conversation_id=conversation_id,
            turns=tuple(Turn.from_json(json.loads(body)) for (body,) in bodies),
            summary=Summary.from_json(json.loads(row[3])),
            turn_count=row[2],
            owner=row[0],
        )

    def _append(
        self, conversation_id: str, turn: Turn, summary: Summary, owner: str | None
    ) -> None:
        summary_json = json.dumps(summary.to_json(), ensure_ascii=False)
        with self._db:  # one transaction: the turn, the count and the trim land together
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO conversations (id, owner, updated_at, turn_count, summary)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET"
                " updated_at = excluded.updated_at, turn_count = turn_count + 1,"
                " summary = excluded.summary",
                (conversation_id, owner, self._clock(), summary_json),
            )
            (seq,) = self._db.execute(
                "SELECT turn_count FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            body = json.dumps(_turn_to_json(turn), ensure_ascii=False)
            self._db.execute(
                "INSERT INTO turns (conversation_id, seq, body) VALUES (?, ?, ?)",
                (conversation_id, seq, body),
            )
            self._db.execute(
                "DELETE FROM turns WHERE conversation_id = ? AND seq <= ?",
                (conversation_id, seq - self.max_turns),
            )

    def _set_summary(self, conversation_id: str, summary: Summary) -> None:
        self._db.execute(
            "UPDATE conversations SET summary = ? WHERE id = ?",
            (json.dumps(summary.to_json(), ensure_ascii=False), conversation_id),
        )

    def _delete(self, conversation_id: str) -> bool:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            gone = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        # Older page images of the deleted rows may still sit in the write-ahead log.
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return gone.rowcount > 0

    def _prune(self) -> int:
        cutoff = self._clock() - self.ttl_s
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM turns WHERE conversation_id IN"
                " (SELECT id FROM conversations WHERE updated_at < ?)",
                (cutoff,),
            )
            gone = self._db.execute("DELETE FROM conversations WHERE updated_at < ?", (cutoff,))
        return gone.rowcount


def _turn_to_json(turn: Turn) -> dict[str, Any]:
    return {**turn.to_json(), "entities": dict(turn.entities)}
