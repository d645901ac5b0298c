"""``FeedbackStore`` in Redis, so a rating given through any replica finds its answer.

Each answer and each rating is one JSON string under its trace id (answers expire after
``answer_ttl_s``; ratings after ``rating_ttl_s``); a sorted set indexes ratings by time for the
export, trimmed to ``max_ratings``. Unlike the rest of shared state, feedback is not silently
dropped when Redis fails: ``add`` raises ``FeedbackUnavailable`` (503) so the widget can retry.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from redis.asyncio import Redis

from service.errors import FeedbackUnavailable
from service.feedback.store import AnsweredTurn, Citation, Feedback, RatedAnswer, Rating
from service.state.connection import KeySpace
from service.state.health import STATE_ERRORS, StateHealth


class RedisFeedbackStore:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        health: StateHealth,
        *,
        answer_ttl_s: float,
        rating_ttl_s: float = 90 * 86_400,
        max_ratings: int = 100_000,
    ) -> None:
        self.answer_ttl_s = answer_ttl_s
        self.rating_ttl_s = rating_ttl_s
        self.max_ratings = max_ratings
        self._redis = redis
        self._keys = keys
        self._health = health
        self._index = keys.key("feedback", "index")

    def _answer_key(self, trace_id: str) -> str:
        return self._keys.key(f"fb:{trace_id}", "answer")

    def _rating_key(self, trace_id: str) -> str:
        return self._keys.key(f"fb:{trace_id}", "rating")

    async def record_answer(self, answer: AnsweredTurn) -> None:
        data = json.dumps(asdict(answer), ensure_ascii=False)
        async with self._health.call("feedback"):
            await self._redis.set(
                self._answer_key(answer.trace_id), data, px=int(self.answer_ttl_s * 1000)
            )

    async def has_answer(self, trace_id: str) -> bool:
        async with self._health.call("feedback"):
            return bool(await self._redis.exists(self._answer_key(trace_id)))

    async def add(self, feedback: Feedback) -> None:
        data = json.dumps(asdict(feedback), ensure_ascii=False)
        try:
            await self._add(feedback, data)
        except STATE_ERRORS as error:
            raise FeedbackUnavailable() from error

    async def _add(self, feedback: Feedback, data: str) -> None:
        async with self._health.call("feedback"):
            await self._redis.set(
                self._rating_key(feedback.trace_id), data, px=int(self.rating_ttl_s * 1000)
            )
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(self._index, {feedback.trace_id: feedback.created_at})
                pipe.zremrangebyrank(self._index, 0, -self.max_ratings - 1)
                await pipe.execute()

    async def rated(self, rating: Rating | None = None) -> list[RatedAnswer]:
        async with self._health.call("feedback"):
            members = await self._redis.zrange(self._index, 0, -1)
            trace_ids = [_text(item) for item in members if isinstance(item, bytes | str)]
            found: list[RatedAnswer] = []
            for trace_id in trace_ids:  # one slot per trace id: no multi-key command (Cluster)
                raw = await self._redis.get(self._rating_key(trace_id))
                if raw is None:
                    continue  # expired
                feedback = Feedback(**json.loads(_text(raw)))
                if rating is None or feedback.rating == rating:
                    answer = await self._redis.get(self._answer_key(trace_id))
                    found.append(RatedAnswer(feedback, _answer(answer)))
        return found

    async def aclose(self) -> None:
        return None  # the shared client is closed with ``SharedState``


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _answer(raw: bytes | str | None) -> AnsweredTurn | None:
    if raw is None:
        return None
    fields = json.loads(_text(raw))
    fields["citations"] = tuple(Citation(**item) for item in fields["citations"])
    return AnsweredTurn(**fields)
