"""The answer cache: repeated single-turn questions are served without paying the model again.

An answer is stored under ``CacheKey``: the normalised question (``rag.language.normalize_text``),
the KB version, the prompt version, the route and the answer language. An edited FAQ changes the
KB version and a reworded prompt the prompt version, so neither can serve a stale answer. Only
clean answers are stored: outcome ``ok``, finish ``stop``, no fallback taken, nothing blocked.
A hit is replayed through the normal stream (the redactor runs again, ``cache_hit`` is true in
``done`` and in the log line, and no model tokens are spent).

Searches are remembered too, under the guard-normalised question and the KB version: the search
is a pure function of the two, and on a hot question it is most of the CPU left to save.

In-process (an ``OrderedDict`` as LRU) with a TTL and a size bound; the store behind
``AnswerCache`` is the seam for a shared one (Redis) when several replicas run.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

import structlog

from rag.language import normalize_text
from rag.retriever import Evidence
from service.faults import NO_FAULTS, FaultPoint, current_faults, fault_active
from service.observability.metrics import Metrics
from service.pipeline.events import Event, EventName
from service.settings import CacheSettings

if TYPE_CHECKING:
    from service.observability.ask_record import AskRecord
    from service.pipeline.generation import AnswerPlan

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
    def single_turn(cls, question: str, turn: int, record: AskRecord) -> CacheKey | None:
        """The key of a first-turn question; None later in a conversation (context matters)."""
        if turn != 1:
            return None
        return cls(
            normalize_text(question),
            record.kb_version,
            record.prompt_version,
            record.route,
            record.lang,
        )


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
        """A remembered search, or None (also while a drill injects faults into the request)."""
        if current_faults() != NO_FAULTS:
            return None
        found = self.searches.get((normalized, kb_version))
        return None if found is None else list(found)

    def remember_search(
        self, normalized: str, kb_version: str, evidence: list[Evidence] | None
    ) -> None:
        if evidence is not None and current_faults() == NO_FAULTS:
            self.searches.put((normalized, kb_version), list(evidence))

    def serve(
        self, plan: AnswerPlan, key: CacheKey | None, record: AskRecord
    ) -> tuple[AnswerPlan, CacheKey | None]:
        """Look ``key`` up: on a hit, the plan replays the stored text (no model call) and the
        key comes back None (nothing to store); on a miss the key is kept for ``recording``."""
        if key is None or plan.request is None or plan.outcome != "ok":
            return plan, None  # templates (refusals, handoffs) cost nothing to serve
        if current_faults().points - {FaultPoint.CACHE_UNAVAILABLE} or current_faults().model_fault:
            return plan, None  # a drill's faults must reach the pipeline, not a stored answer
        try:
            if fault_active(FaultPoint.CACHE_UNAVAILABLE):
                raise ConnectionError("answer cache unavailable (injected fault)")
            text = self.answers.get(key)
        except Exception as error:  # an unavailable cache is a miss that stores nothing
            log.warning("cache_failed", error_type=type(error).__name__)
            self.metrics.cache_requests.labels("error").inc()
            return plan, None
        if text is None:
            self.metrics.cache_requests.labels("miss").inc()
            return plan, key
        self.metrics.cache_requests.labels("hit").inc()
        record.cache_hit = True
        return replace(plan, request=None, text=text), None

    async def recording(
        self, key: CacheKey, events: AsyncIterator[Event], *, clean: Callable[[], bool]
    ) -> AsyncIterator[Event]:
        """Pass ``events`` through; store the answer text if the stream ends ``done``/``stop``
        and ``clean()`` agrees (outcome ok, no fallback)."""
        parts: list[str] = []
        async for name, payload in events:
            if name == EventName.TOKEN:
                parts.append(payload)
            elif name == EventName.REDACTION:
                parts = []  # the policy acted on this answer: serve it fresh every time
                clean = _never
            elif name == EventName.DONE and _storable(payload, parts, clean):
                self.answers.put(key, "".join(parts))
            yield name, payload


def _never() -> bool:
    return False


def _storable(done: dict[str, object], parts: list[str], clean: Callable[[], bool]) -> bool:
    return done.get("finish_reason") == "stop" and bool(parts) and clean()


def build_answer_cache(settings: CacheSettings, metrics: Metrics) -> AnswerCache | None:
    """The configured cache, or None when it is switched off."""
    if not settings.enabled:
        return None
    return AnswerCache(max_entries=settings.max_entries, ttl_s=settings.ttl_s, metrics=metrics)
