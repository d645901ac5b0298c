"""Drills on shared state in Redis: down, slow and flapping while traffic flows.

Each drill serves Beacon with ``state.backend=redis`` through a loopback proxy to a throwaway
``redis-server`` (``redis_stage.py``) and sends its burst in phases: ``warm`` (conversations
started, an answer cached), then Redis broken (cut mid-traffic, slowed past the client's call
timeout, or cut and restored in cycles), then ``after`` once ``beacon_state_up`` is back to 1 by
itself. The degradation demanded is the documented one (README, "Several replicas"):

- every accepted request is answered (no ``error``, nothing lost: the reconciliation is exact);
- a conversation turn while Redis is gone is answered statelessly: ``degraded``
  ``conversations_unavailable`` in ``done``, ``conversation->stateless`` in its fallbacks;
- a cached question is a miss answered by the model, never an error;
- rate limits fall back to each replica's stricter local share (``BEACON_STATE__LOCAL_SHARE``);
- ``beacon_state_up`` drops to 0 while Redis is gone and returns to 1 after, with no request
  sent to provoke it; conversations then continue with the history from before.
"""

from __future__ import annotations

import orjson

from evals.drills import checks as c
from evals.drills.client import AskSpec
from evals.drills.drill import Check, Drill
from evals.drills.redis_stage import Phase, ProxiedRedis, redis_stage
from evals.drills.state_checks import admitted, degraded_share, phase_state_errors, state_up
from evals.upstream.config import SimulatorConfig
from service.admission import hash_api_key

TURN_QUESTIONS = {  # one standalone question per phase of a conversation
    "warm": "How do I track my order?",
    "broken": "How long does a refund take?",
    "after": "How do I reset my password?",
}
CACHED = "How do I request a refund?"
CONVERSATIONS = 4
TRAFFIC_KEYS = [f"drill-traffic-{n}-not-a-secret" for n in range(CONVERSATIONS)]
LIMIT_KEY = "drill-limit-key-not-a-secret"
HEALTH_KEY = "drill-health-key-not-a-secret"
# Per key: a shared bucket of 40 (no refill to speak of), 10 locally while Redis is unusable.
BURST, LOCAL_SHARE = 40, 0.25
LOCAL_BURST = int(BURST * LOCAL_SHARE)
LIMIT_REQUESTS = LOCAL_BURST + 2
TIMEOUT_S, COOLDOWN_S = 0.2, 0.3
UNAVAILABLE = {"code": "conversations_unavailable", "layer": "data"}
FAST = SimulatorConfig(ttft_ms=10, tokens_per_second=1000)
FLAP_REQUESTS = 400  # more than the flapping lasts


def state_drills() -> list[Drill]:
    return [redis_down(), redis_slow(), redis_flapping()]


def redis_down() -> Drill:
    phases = [
        warm_phase(),
        Phase("cut", _mixed(16, prefix="cut"), concurrency=8),
        broken_phase("down"),
        limit_phase(),
        after_phase(),
    ]

    async def script(redis: ProxiedRedis) -> None:
        await redis.burst("warm")
        await redis.burst("cut", cut_after=4)  # cut with eight answers under way
        await redis.wait_state_up("down", 0)
        await redis.burst("down")
        await redis.burst("limit")
        await redis.wait_state_up("still down", 0)
        redis.restore()
        await redis.wait_state_up("recovered", 1)
        await redis.burst("after")

    return Drill(
        "redis_down",
        "Redis cut mid-traffic, then restored: every request answered, turns stateless and "
        "degraded, cache misses, the local rate limit; back to shared state by itself.",
        _requests(phases),
        [
            c.answers(kind="warm", fallbacks=[]),
            c.answers(kind="cut"),
            *degraded_checks("down"),
            *limit_checks(),
            *recovered_checks(turn=2),
            state_up("down", 0),
            state_up("still down", 0),
            state_up("recovered", 1),
            *state_error_checks("conversations", "cache", "rate_limit"),
        ],
        simulator=FAST,
        health_headers=_bearer(HEALTH_KEY),
        stage=redis_stage(phases, script, _limited_settings()),
    )


def redis_slow(below_s: float = 0.025, beyond_s: float = 0.3) -> Drill:
    """The proxy holds every chunk ``below_s`` (a round trip well inside the 0.2 s call
    timeout: slower, nothing degraded), then ``beyond_s`` (past it: as if down)."""
    phases = [warm_phase(), slow_phase(), broken_phase("too_slow"), limit_phase(), after_phase()]

    async def script(redis: ProxiedRedis) -> None:
        await redis.burst("warm")
        redis.slow(below_s)
        await redis.burst("slow")
        redis.slow(beyond_s)
        await redis.wait_state_up("too slow", 0)
        await redis.burst("too_slow")
        await redis.burst("limit")
        redis.restore()
        await redis.wait_state_up("recovered", 1)
        await redis.burst("after")

    return Drill(
        "redis_slow",
        f"Redis {below_s * 2000:.0f} ms per round trip (inside the call timeout): slower, "
        f"nothing degraded; {beyond_s * 2000:.0f} ms (past it): degraded as if down; recovers.",
        _requests(phases),
        [
            c.answers(kind="warm", fallbacks=[]),
            c.answers(kind="slow_turn", fallbacks=[]),
            c.events("meta", kind="slow_turn", turn=2),
            c.answers(kind="slow_cache", cache_hit=True),
            phase_state_errors("slow", equals=0),
            *degraded_checks("too_slow"),
            *limit_checks(),
            # The warm and slow turns are stored; a too-slow append that timed out on the client
            # may still have reached Redis (turn 4 then).
            *recovered_checks(turn=c.at_least(3)),
            state_up("too slow", 0),
            state_up("recovered", 1),
            *state_error_checks("conversations", "cache", "rate_limit"),
        ],
        simulator=FAST,
        health_headers=_bearer(HEALTH_KEY),
        stage=redis_stage(phases, script, _limited_settings()),
    )


def redis_flapping(cycles: int = 3, hold_s: float = 0.3) -> Drill:
    """Load runs while Redis is cut and restored ``cycles`` times (no API keys: no limit).
    The load is a turn of a new conversation and the cached question in turn, for as long as
    the flapping lasts (its requests are taken from ``FLAP_REQUESTS`` and counted as sent)."""
    load = [
        _turn(f"flap-{n}", "broken", kind="flap_turn", keys=False)
        if n % 2
        else _ask(CACHED, kind="flap_cache")
        for n in range(FLAP_REQUESTS)
    ]
    phases = [warm_phase(keys=False), Phase("flap", load), after_phase(keys=False)]

    async def script(redis: ProxiedRedis) -> None:
        await redis.burst("warm")
        await redis.load_while("flap", redis.flap(cycles, hold_s=hold_s))
        await redis.wait_state_up("recovered", 1)
        await redis.burst("after")

    labels = [f"{state} {n}" for n in range(1, cycles + 1) for state in ("cut", "restored")]
    return Drill(
        "redis_flapping",
        f"Redis cut and restored {cycles} times under load: every request answered, "
        "stateless while cut, shared again after each restore.",
        _requests(phases),
        [
            c.answers(kind="warm", fallbacks=[]),
            c.answers(kind="flap_turn"),
            c.answers(kind="flap_cache", degraded=None),
            degraded_share("flap_turn"),
            *recovered_checks(turn=2),
            *(state_up(label, 0 if label.startswith("cut") else 1) for label in labels),
            state_up("recovered", 1),
            *state_error_checks("conversations", "cache"),
        ],
        simulator=SimulatorConfig(ttft_ms=20, tokens_per_second=200),
        stage=redis_stage(phases, script, {"BEACON_STATE__COOLDOWN_S": str(COOLDOWN_S)}),
    )


def warm_phase(*, keys: bool = True) -> Phase:
    turns = [_turn(f"conv-{n}", "warm", kind="warm", keys=keys) for n in range(CONVERSATIONS)]
    return Phase("warm", [*turns, _ask(CACHED, kind="warm", key=TRAFFIC_KEYS[0] if keys else None)])


def slow_phase() -> Phase:
    return _turns_and_cache("slow", "after")


def broken_phase(name: str) -> Phase:
    return _turns_and_cache(name, "broken")


def after_phase(*, keys: bool = True) -> Phase:
    return _turns_and_cache("after", "after", keys=keys)


def limit_phase() -> Phase:
    return Phase("limit", [_ask(CACHED, kind="limit", key=LIMIT_KEY)] * LIMIT_REQUESTS, 6)


def degraded_checks(name: str) -> list[Check]:
    """Turns answered statelessly and degraded; the cached question a miss, not an error."""
    return [
        c.answers(kind=f"{name}_turn", fallbacks=["conversation->stateless"], degraded=UNAVAILABLE),
        c.events("meta", kind=f"{name}_turn", turn=1),
        c.answers(kind=f"{name}_cache", cache_hit=False, fallbacks=[], degraded=None),
        c.metric("beacon_cache_requests_total", at_least=CONVERSATIONS, result="error"),
    ]


def recovered_checks(*, turn: object) -> list[Check]:
    """After the restore: each conversation goes on with its history, the cache hits again."""
    return [
        c.answers(kind="after_turn", fallbacks=[], degraded=None),
        c.events("meta", kind="after_turn", turn=turn),
        c.answers(kind="after_cache", cache_hit=True),
        c.gauge("beacon_state_up", equals=1),
    ]


def limit_checks() -> list[Check]:
    """One key's burst while Redis is unusable: the local share of it, the rest refused."""
    return [
        admitted("limit", count=LOCAL_BURST),
        c.refusals(status=429, code="rate_limited", count=LIMIT_REQUESTS - LOCAL_BURST),
    ]


def state_error_checks(*features: str) -> list[Check]:
    return [c.metric("beacon_state_errors_total", at_least=1, feature=name) for name in features]


def _turns_and_cache(name: str, question: str, *, keys: bool = True) -> Phase:
    turns = [
        _turn(f"conv-{n}", question, kind=f"{name}_turn", keys=keys) for n in range(CONVERSATIONS)
    ]
    cached = [
        _ask(CACHED, kind=f"{name}_cache", key=TRAFFIC_KEYS[n] if keys else None)
        for n in range(CONVERSATIONS)
    ]
    return Phase(name, [*turns, *cached])


def _turn(conversation: str, question: str, *, kind: str, keys: bool = True) -> AskSpec:
    number = int(conversation.rsplit("-", 1)[1]) % CONVERSATIONS
    body = {"question": TURN_QUESTIONS[question], "conversation_id": conversation}
    headers = _bearer(TRAFFIC_KEYS[number]) if keys else {}
    return AskSpec(TURN_QUESTIONS[question], headers=headers, body=orjson.dumps(body), kind=kind)


def _ask(question: str, *, kind: str, key: str | None = None) -> AskSpec:
    return AskSpec(question, headers=_bearer(key) if key else {}, kind=kind)


def _mixed(count: int, *, prefix: str) -> list[AskSpec]:
    """Turns of new conversations and anonymous questions in turn, over the traffic keys."""
    return [
        _turn(f"{prefix}-{n}", "broken", kind=prefix)
        if n % 2
        else _ask(CACHED, kind=prefix, key=TRAFFIC_KEYS[n % CONVERSATIONS])
        for n in range(count)
    ]


def _requests(phases: list[Phase]) -> list[AskSpec]:
    return [spec for phase in phases for spec in phase.specs]


def _bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _limited_settings() -> dict[str, str]:
    """API keys, each with a shared bucket of ``BURST`` and no refill to speak of."""
    keys = [*TRAFFIC_KEYS, LIMIT_KEY, HEALTH_KEY]
    return {
        "BEACON_ADMISSION__API_KEY_SHA256": orjson.dumps([hash_api_key(k) for k in keys]).decode(),
        "BEACON_ADMISSION__RATE_PER_S": "0.001",
        "BEACON_ADMISSION__BURST": str(BURST),
        "BEACON_STATE__LOCAL_SHARE": str(LOCAL_SHARE),
        "BEACON_STATE__TIMEOUT_S": str(TIMEOUT_S),
        "BEACON_STATE__COOLDOWN_S": str(COOLDOWN_S),
    }
