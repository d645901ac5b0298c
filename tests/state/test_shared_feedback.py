"""Feedback in Redis: written through one replica, exported through another."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from evals.redis_server import RedisServer
from service.errors import FeedbackUnavailable
from service.feedback.store import AnsweredTurn, Citation, Feedback, RatedAnswer
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.feedback import RedisFeedbackStore
from tests.state.conftest import make_health


def store(url: str, keys: KeySpace, **kw: float) -> RedisFeedbackStore:
    return RedisFeedbackStore(
        connect(RedisOptions(url)), keys, make_health(CollectorRegistry()),
        answer_ttl_s=kw.get("answer_ttl_s", 60), max_ratings=int(kw.get("max_ratings", 100)),
    )  # fmt: skip


ANSWER = AnsweredTurn(
    trace_id="t1",
    question="退款要多久？",
    answer="5–10 个工作日。",
    citations=(Citation("refund-timeline", "退款时间", "kb/refunds.md"),),
    route="faq",
    lang="zh",
    created_at=100.0,
)


def test_rating_given_on_one_replica_is_exported_with_its_answer_from_another(
    redis_server: RedisServer, keys: KeySpace
) -> None:
    """Answer recorded by A, rated through B, listed by C with the answer and comment intact;
    a later vote for the same trace replaces the earlier one."""

    async def main() -> tuple[bool, list[RatedAnswer], list[RatedAnswer]]:
        a, b, c = (store(redis_server.url, keys) for _ in range(3))
        await a.record_answer(ANSWER)
        await b.add(Feedback("t1", "up", None, "c1", 101.0))
        await b.add(Feedback("t1", "down", "太慢了", "c1", 102.0))
        await b.add(Feedback("t2", "down", "no answer recorded", None, 103.0))
        return await c.has_answer("t1"), await c.rated("down"), await c.rated("up")

    has_answer, down, up = asyncio.run(main())
    assert has_answer and up == []
    assert [item.feedback.trace_id for item in down] == ["t1", "t2"]
    assert down[0].answer == ANSWER and down[0].feedback.comment == "太慢了"
    assert down[1].answer is None


def test_ratings_index_is_bounded(redis_server: RedisServer, keys: KeySpace) -> None:
    """Only the newest ``max_ratings`` ratings are kept in the export index."""

    async def main() -> list[str]:
        bounded = store(redis_server.url, keys, max_ratings=3)
        for n in range(5):
            await bounded.add(Feedback(f"t{n}", "down", None, None, float(n)))
        return [item.feedback.trace_id for item in await bounded.rated()]

    assert asyncio.run(main()) == ["t2", "t3", "t4"]


def test_a_rating_redis_cannot_take_is_a_503_the_widget_can_retry(keys: KeySpace) -> None:
    """With Redis unreachable, ``add`` raises FeedbackUnavailable (503, retryable)."""
    dead = store("redis://127.0.0.1:1/0", keys)
    with pytest.raises(FeedbackUnavailable) as refused:
        asyncio.run(dead.add(Feedback("t9", "down", None, None, 1.0)))
    assert (refused.value.status, refused.value.retryable) == (503, True)
