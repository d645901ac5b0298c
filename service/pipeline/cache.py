"""The answer cache: repeated single-turn questions are served without paying the model again.

An answer is stored under ``CacheKey``: the normalised question (``rag.language.normalize_text``),
the KB version, the prompt version, the route and the answer language. An edited FAQ changes the
KB version and a reworded prompt the prompt version, so neither can serve a stale answer. Only
clean answers are stored: outcome ``ok``, finish ``stop``, no fallback taken, nothing blocked.
A hit is replayed through the normal stream (the redactor runs again, ``cache_hit`` is true in
``done`` and in the log line, and no model tokens are spent). ``look_up_answer`` is the plan's
last step; ``execute`` stores a clean answer under the plan's ``cache_key``.

Searches are remembered too, under the guard-normalised question and the KB version: the search
is a pure function of the two, and on a hot question it is most of the CPU left to save.

In-process (an ``OrderedDict`` as LRU) with a TTL and a size bound; the store behind
``AnswerCache`` is the seam for a shared one (Redis) when several replicas run.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

import structlog

from rag.language import normalize_text
from rag.retriever import Evidence
from service.observability.metrics import Metrics
from service.settings import CacheSettings

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.pipeline.plan import AnswerPlan

log = structlog.get_logger("beacon.cache")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CacheKey:
    question: str
    kb_version: str
    prompt_version: str
    route: str
    lang: str

    @classmethod
    def single_turn(
        cls,
        question: str,
        turn: int,
        *,
        kb_version: str,
        prompt_version: str,
        route: str,
        lang: str,
    ) -> CacheKey | None:
        """The key of a first-turn question; None later in a conversation (context matters)."""
        if turn != 1:
            return None
        return cls(normalize_text(question), kb_version, prompt_version, route, lang)


class ExpiringLRU(Generic[T]):
    """At most ``max_entries`` values, each for ``ttl_s``; the least recently used goes first."""

    def __init__(
        self, *, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: T) -> None:
        self._items[key] = (self._clock() + self.ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)


class AnswerCache:
    """Answers by ``CacheKey`` and searches by (normalised question, KB version)."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_s: float,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.answers: ExpiringLRU[str] = ExpiringLRU(
            max_entries=max_entries, ttl_s=ttl_s, clock=clock
        )
        self.searches: ExpiringLRU[list[Evidence]] = ExpiringLRU(
            max_entries=max_entries, ttl_s=ttl_s, clock=clock
        )

    def search(self, normalized: str, kb_version: str) -> list[Evidence] | None:
        """A remembered search, or None."""
        found = self.searches.get((normalized, kb_version))
        return None if found is None else list(found)

    def remember_search(self, normalized: str, kb_version: str, evidence: list[Evidence]) -> None:
        self.searches.put((normalized, kb_version), list(evidence))

    def lookup(self, key: CacheKey) -> str | None:
        """The stored answer for ``key``; raises when the store cannot be reached."""
        return self.answers.get(key)

    def store(self, key: CacheKey, text: str) -> None:
        self.answers.put(key, text)

    def serve(self, plan: AnswerPlan, key: CacheKey | None) -> AnswerPlan:
        """Look ``key`` up: on a hit, the plan replays the stored text (no model call); on a
        miss it keeps ``key`` as its ``cache_key``, for ``execute`` to store a clean answer."""
        if key is None or plan.request is None or plan.outcome != "ok":
            return plan  # templates (refusals, handoffs) cost nothing to serve
        try:
            text = self.lookup(key)
        except Exception as error:  # an unavailable cache is a miss that stores nothing
            log.warning("cache_failed", error_type=type(error).__name__)
            self.metrics.cache_requests.labels("error").inc()
            return plan
        if text is None:
            self.metrics.cache_requests.labels("miss").inc()
            return replace(plan, cache_key=key)
        self.metrics.cache_requests.labels("hit").inc()
        return replace(plan, request=None, text=text, cache_hit=True)


async def look_up_answer(plan: AnswerPlan, context: AskContext) -> AnswerPlan:
    """Step: a first-turn question asked before is served from the cache."""
    cache = context.services.cache
    if cache is None:
        return plan
    key = CacheKey.single_turn(
        plan.question,
        plan.turn,
        kb_version=plan.kb_version,
        prompt_version=plan.prompt_version,
        route=plan.route,
        lang=plan.lang,
    )
    return cache.serve(plan, key)


def build_answer_cache(settings: CacheSettings, metrics: Metrics) -> AnswerCache | None:
    """The configured cache, or None when it is switched off."""
    if not settings.enabled:
        return None
    return AnswerCache(max_entries=settings.max_entries, ttl_s=settings.ttl_s, metrics=metrics)
