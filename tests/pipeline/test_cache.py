"""The answer cache: its key, its bounds, and what a live Beacon serves from it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest
from prometheus_client import CollectorRegistry

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.observability.metrics import Metrics
from service.pipeline.cache import AnswerCache, CacheKey, ExpiringLRU
from service.settings import CacheSettings, LLMSettings
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(
    route: str = "faq", kb: str = "kb1", prompts: str = "p1", lang: str = "en"
) -> dict[str, str]:
    """What a cache key is made of besides the question and the turn."""
    return {"route": route, "kb_version": kb, "prompt_version": prompts, "lang": lang}


def test_key_is_the_normalised_question() -> None:
    """Case, width and whitespace variants of a question share one key."""
    first = CacheKey.single_turn("How do I  request a REFUND?", 1, **record())
    assert first == CacheKey.single_turn("ｈow do i request a refund?", 1, **record())


@pytest.mark.parametrize(
    "changed",
    [record(kb="kb2"), record(prompts="p2"), record(route="easy"), record(lang="zh")],
    ids=["kb_version", "prompt_version", "route", "lang"],
)
def test_key_changes_with_kb_prompt_route_and_language(changed: dict[str, str]) -> None:
    """An edited FAQ, a new prompt, another route or language never share an answer."""
    question = "How do I request a refund?"
    first = CacheKey.single_turn(question, 1, **record())
    assert first != CacheKey.single_turn(question, 1, **changed)


def test_later_turns_of_a_conversation_are_not_cached() -> None:
    """Only a conversation's first turn has a key: later ones depend on what came before."""
    assert CacheKey.single_turn("And then?", 2, **record()) is None


def test_entries_expire_after_the_ttl() -> None:
    """A value is served until its TTL runs out, then it is gone."""
    clock = Clock()
    lru: ExpiringLRU[str] = ExpiringLRU(max_entries=10, ttl_s=5, clock=clock)
    lru.put("q", "a")
    clock.now = 4.9
    assert lru.get("q") == "a"
    clock.now = 5.0
    assert lru.get("q") is None and len(lru) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    """Past max_entries the entry used longest ago is dropped."""
    lru: ExpiringLRU[str] = ExpiringLRU(max_entries=2, ttl_s=60)
    lru.put("a", "1")
    lru.put("b", "2")
    assert lru.get("a") == "1"
    lru.put("c", "3")
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == ("1", None, "3")


def test_a_hit_replays_the_text_without_a_model_request() -> None:
    """On a hit the plan loses its model request and serves the stored text."""
    from service.pipeline.plan import AnswerPlan
    from service.providers.base import GenerationRequest

    registry = CollectorRegistry()
    cache = AnswerCache(max_entries=4, ttl_s=60, metrics=Metrics(registry))
    request = GenerationRequest(model="m", messages=(), lang="en", evidence=())
    plan = AnswerPlan(tier="easy", model="m", lang="en", citations=(), request=request)
    key = CacheKey.single_turn("q", 1, **record(route="easy"))
    assert key is not None
    miss_plan = cache.serve(plan, key)
    assert miss_plan.request is plan.request and miss_plan.cache_key == key
    assert not miss_plan.cache_hit
    cache.answers.put(key, "stored answer")
    hit_plan = cache.serve(plan, key)
    assert hit_plan.request is None and hit_plan.text == "stored answer"
    assert hit_plan.cache_key is None
    assert hit_plan.cache_hit
    counts = {
        r: registry.get_sample_value("beacon_cache_requests_total", {"result": r})
        for r in ("hit", "miss")
    }
    assert counts == {"hit": 1.0, "miss": 1.0}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=2000)) as process:
        yield process


def test_a_repeated_question_is_answered_from_the_cache(
    beacon_factory: Callable[..., AppHandle],
    simulator: SimulatorProcess,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The second ask streams the same answer, cache_hit in done and the log line, no model call."""
    beacon = beacon_factory(provider="openai", llm=LLMSettings(base_url=simulator.openai_base_url))
    simulator.reset_stats()
    _, first = ask_sse(beacon.url, "How do I request a refund?")
    _, second = ask_sse(beacon.url, "how do i request a  refund?")
    assert answer_text(second) == answer_text(first) and answer_text(first)
    assert (first[-1].data["cache_hit"], second[-1].data["cache_hit"]) == (False, True)
    assert second[-1].data["usage"]["output_tokens"] == 0 and second[-1].data["cost_usd"] == 0
    assert sum(simulator.stats()["requests_total"].values()) == 1
    assert beacon.metric("beacon_cache_requests_total", result="hit") == 1
    assert beacon.metric("beacon_cache_requests_total", result="miss") == 1
    lines = [
        orjson.loads(line)
        for line in capfd.readouterr().out.splitlines()
        if "ask_completed" in line
    ]
    assert [line["cache_hit"] for line in lines] == [False, True]


def test_conversations_past_their_first_turn_skip_the_cache(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """A second turn of the same conversation is answered afresh and counts no lookup."""
    beacon = beacon_factory()
    ask_sse(beacon.url, "How do I request a refund?", conversation_id="c-1")
    _, second = ask_sse(beacon.url, "How do I request a refund?", conversation_id="c-1")
    assert second[-1].data["cache_hit"] is False
    assert beacon.metric("beacon_cache_requests_total", result="hit") == 0


def test_the_cache_can_be_switched_off(beacon_factory: Callable[..., AppHandle]) -> None:
    """With the cache disabled nothing is looked up or replayed."""
    beacon = beacon_factory(cache=CacheSettings(enabled=False))
    for _ in range(2):
        _, events = ask_sse(beacon.url, "How do I request a refund?")
        assert events[-1].data["cache_hit"] is False
    assert beacon.metric("beacon_cache_requests_total", result="miss") == 0
