"""``SharedState``: the one Redis client of a process and the feature backends built on it.

Built by the app's lifespan when ``state.backend`` is ``redis`` (never at import time); closed
with it. ``ready()`` is what ``/readyz`` asks: a replica that cannot reach Redis at start is not
ready, and says why; one that loses Redis later stays ready and degrades per feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from service.observability.metrics import Metrics
from service.settings import Settings
from service.state.answers import SharedAnswerStore
from service.state.breakers import SharedBreakers
from service.state.connection import KeySpace, RedisOptions, connect
from service.state.conversations import RedisConversationStore, SharedTurnLocks
from service.state.feedback import RedisFeedbackStore
from service.state.health import STATE_ERRORS, StateHealth
from service.state.rate_limit import SharedRateLimiter
from service.state.slots import SharedSlots
from service.state.turns import RedisTurnBuffer
from service.turns.buffer import TurnLimits

if TYPE_CHECKING:
    from service.state.breakers import BreakerSync


@dataclass(frozen=True, slots=True)
class SharedState:
    redis: Redis
    keys: KeySpace
    health: StateHealth
    rate_limiter: SharedRateLimiter
    slots: SharedSlots
    breakers: SharedBreakers
    answers: SharedAnswerStore
    conversations: RedisConversationStore
    turn_locks: SharedTurnLocks
    turns: RedisTurnBuffer
    feedback: RedisFeedbackStore
    breaker_sync: BreakerSync | None = None

    async def ready(self) -> str | None:
        """None once Redis has answered since start, else a reason a person can act on. A
        replica that loses Redis later stays ready: it degrades per feature and recovers."""
        if self.health.ever_up:
            return None
        try:
            async with self.health.call("slots"):
                await self.redis.ping()
        except STATE_ERRORS as error:
            return f"redis unreachable ({type(error).__name__}); check BEACON_STATE__URL"
        return None

    async def aclose(self) -> None:
        if self.breaker_sync is not None:
            await self.breaker_sync.aclose()
        await self.turns.aclose()
        await self.redis.aclose()


def open_shared_state(settings: Settings, metrics: Metrics) -> SharedState:
    state, admission = settings.state, settings.admission
    redis = connect(
        RedisOptions(
            state.url.get_secret_value(),
            max_connections=state.max_connections,
            timeout_s=state.timeout_s,
            pool_wait_s=state.timeout_s,
        )
    )
    keys = KeySpace(state.key_prefix)
    health = StateHealth(
        duration=metrics.state_duration,
        errors=metrics.state_errors,
        up=metrics.state_up,
        cooldown_s=state.cooldown_s,
    )
    return SharedState(
        redis=redis,
        keys=keys,
        health=health,
        rate_limiter=SharedRateLimiter(
            redis,
            keys,
            health,
            rate_per_s=admission.rate_per_s,
            burst=admission.burst,
            local_share=state.local_share,
        ),
        slots=SharedSlots(
            redis,
            keys,
            health,
            limit=admission.max_in_flight,
            max_queue=admission.max_queue,
            max_wait_s=admission.max_wait_s,
            lease_s=state.slot_lease_s,
            retry_after_s=admission.retry_after_s,
        ),
        breakers=SharedBreakers(redis, keys, health),
        answers=SharedAnswerStore(redis, keys, health, ttl_s=settings.cache.ttl_s),
        conversations=RedisConversationStore(
            redis,
            keys,
            health,
            max_turns=settings.conversations.max_turns,
            ttl_s=settings.conversations.ttl_s,
        ),
        turn_locks=SharedTurnLocks(redis, keys, health, wait_s=settings.conversations.turn_wait_s),
        turns=RedisTurnBuffer(redis, keys, health, limits=_turn_limits(settings)),
        feedback=RedisFeedbackStore(
            redis, keys, health, answer_ttl_s=settings.feedback.answer_ttl_s
        ),
    )


def _turn_limits(settings: Settings) -> TurnLimits:
    turns = settings.turns
    return TurnLimits(
        max_events=turns.max_events,
        max_bytes=turns.max_bytes,
        ttl_s=turns.ttl_s,
        max_turns=turns.max_turns,
    )
