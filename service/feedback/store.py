"""Customer feedback on answers, and what each answer was, behind a small async interface.

``FeedbackStore`` is the interface; ``SQLiteFeedbackStore`` the default backend (one file under
``var/``; a Redis backend can implement the same methods for replicas). An answer is recorded
when its turn ends, so feedback keyed by ``trace_id`` can be turned into a regression case
(question, what was cited, what the customer said) without trusting the client to resend them.
All text arrives here already redacted.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

T = TypeVar("T")
Rating = Literal["up", "down"]
RATINGS: tuple[Rating, ...] = ("up", "down")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    trace_id TEXT PRIMARY KEY, rating TEXT NOT NULL, comment TEXT,
    conversation_id TEXT, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    trace_id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL,
    citations TEXT NOT NULL, route TEXT, lang TEXT, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created_at);
"""


@dataclass(frozen=True, slots=True)
class Feedback:
    trace_id: str
    rating: Rating
    comment: str | None = None
    conversation_id: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class AnsweredTurn:
    """What a customer was told: the (redacted) question and answer, and the cited entries."""

    trace_id: str
    question: str
    answer: str
    citations: tuple[Citation, ...] = ()
    route: str | None = None
    lang: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RatedAnswer:
    feedback: Feedback
    answer: AnsweredTurn | None  # None when the answer was never recorded or has expired


class FeedbackStore(Protocol):
    async def record_answer(self, answer: AnsweredTurn) -> None: ...

    async def has_answer(self, trace_id: str) -> bool: ...

    async def add(self, feedback: Feedback) -> None: ...

    async def rated(self, rating: Rating | None = None) -> list[RatedAnswer]: ...

    async def aclose(self) -> None: ...


class SQLiteFeedbackStore:
    """One SQLite file; calls run in a worker thread, one at a time, on one connection."""

    def __init__(self, path: Path, *, answer_ttl_s: float = 30 * 86_400) -> None:
        self.path = path
        self.answer_ttl_s = answer_ttl_s
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._writes = 0

    async def record_answer(self, answer: AnsweredTurn) -> None:
        citations = json.dumps([vars_of(c) for c in answer.citations], ensure_ascii=False)
        row = (answer.trace_id, answer.question, answer.answer, citations, answer.route)
        self._writes += 1
        prune = self._writes % 500 == 0  # keep the file bounded without a cleanup job
        await self._run(_insert_answer, (*row, answer.lang, answer.created_at), prune)

    async def has_answer(self, trace_id: str) -> bool:
        return bool(await self._run(_count_answer, trace_id))

    async def add(self, feedback: Feedback) -> None:
        row = (feedback.trace_id, feedback.rating, feedback.comment)
        await self._run(_insert_feedback, (*row, feedback.conversation_id, feedback.created_at))

    async def rated(self, rating: Rating | None = None) -> list[RatedAnswer]:
        rows = await self._run(_select_rated, rating)
        return [_rated_from_row(row) for row in rows]

    async def aclose(self) -> None:
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    async def _run(self, query: Callable[..., T], *args: object) -> T:
        async with self._lock:
            return await asyncio.to_thread(self._call, query, *args)

    def _call(self, query: Callable[..., T], *args: object) -> T:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(self.path, check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.executescript(_SCHEMA)
        with self._connection:  # one transaction per call
            return query(self._connection, self.answer_ttl_s, *args)


def vars_of(citation: Citation) -> dict[str, str]:
    return {"id": citation.id, "title": citation.title, "source": citation.source}


def _insert_answer(
    db: sqlite3.Connection, ttl_s: float, row: tuple[object, ...], prune: bool
) -> None:
    db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    if prune:
        db.execute("DELETE FROM answers WHERE created_at < ?", (time.time() - ttl_s,))


def _count_answer(db: sqlite3.Connection, _ttl_s: float, trace_id: str) -> int:
    cursor = db.execute("SELECT COUNT(*) FROM answers WHERE trace_id = ?", (trace_id,))
    count: int = cursor.fetchone()[0]
    return count


def _insert_feedback(db: sqlite3.Connection, _ttl_s: float, row: tuple[object, ...]) -> None:
    db.execute("INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?)", row)  # latest vote wins


def _select_rated(
    db: sqlite3.Connection, _ttl_s: float, rating: str | None
) -> list[tuple[object, ...]]:
    query = (
        "SELECT f.trace_id, f.rating, f.comment, f.conversation_id, f.created_at,"
        " a.question, a.answer, a.citations, a.route, a.lang, a.created_at"
        " FROM feedback f LEFT JOIN answers a ON a.trace_id = f.trace_id"
    )
    if rating is None:
        return db.execute(query + " ORDER BY f.created_at").fetchall()
    return db.execute(query + " WHERE f.rating = ? ORDER BY f.created_at", (rating,)).fetchall()


def _rated_from_row(row: tuple[object, ...]) -> RatedAnswer:
    trace_id, rating, comment, conversation_id, created_at, *answer_row = row
    feedback = Feedback(
        trace_id=str(trace_id),
        rating="down" if rating == "down" else "up",
        comment=None if comment is None else str(comment),
        conversation_id=None if conversation_id is None else str(conversation_id),
        created_at=float(str(created_at)),
    )
    question, answer_text, citations, route, lang, answered_at = answer_row
    if question is None:
        return RatedAnswer(feedback, None)
    answer = AnsweredTurn(
        trace_id=feedback.trace_id,
        question=str(question),
        answer=str(answer_text),
        citations=tuple(Citation(**c) for c in json.loads(str(citations))),
        route=None if route is None else str(route),
        lang=None if lang is None else str(lang),
        created_at=float(str(answered_at)),
    )
    return RatedAnswer(feedback, answer)
