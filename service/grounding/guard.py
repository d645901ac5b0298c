"""The grounding guard of one answer: what it checks against, and what it reports.

``open_grounding`` builds the streaming filter for a model's answer from the evidence the plan
cites (a tool result is cited like an entry) and the customer's question, or returns None for
an answer that is verbatim by construction (an FAQ-direct answer, a template, a replay), which
is reported as ``grounded: "verbatim"``. Evidence indexes are cached by text: KB answers repeat
across requests and indexing one costs about half a millisecond, while checking is per token.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from service.grounding.check import EvidenceIndex, index_evidence, merge_indexes
from service.grounding.policy import GroundingPolicy, UnsupportedAction
from service.grounding.stream import GroundingFilter

VERBATIM = "verbatim"
MAX_REPORTED_CLAIMS = 10
MAX_CLAIM_CHARS = 80


class CitedEvidence(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def answer(self) -> str: ...


@dataclass(frozen=True, slots=True)
class GroundingConfig:
    """Whether model answers are checked, and what happens to an unsupported claim."""

    enabled: bool = True
    action: UnsupportedAction = UnsupportedAction.REPLACE


class EvidenceIndexCache:
    """A bounded LRU of evidence indexes, one per evidence text."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._max = max_entries
        self._indexes: OrderedDict[str, EvidenceIndex] = OrderedDict()

    def index(self, texts: Sequence[str]) -> EvidenceIndex:
        return merge_indexes(self._one(text) for text in texts if text)

    def _one(self, text: str) -> EvidenceIndex:
        index = self._indexes.get(text)
        if index is None:
            index = self._indexes[text] = index_evidence([text])
            if len(self._indexes) > self._max:
                self._indexes.popitem(last=False)
        else:
            self._indexes.move_to_end(text)
        return index


def open_grounding(
    *,
    citations: Sequence[CitedEvidence],
    question: str,
    lang: str,
    verbatim: bool,
    config: GroundingConfig,
    cache: EvidenceIndexCache,
) -> GroundingFilter | None:
    """The filter for a model's answer, or None when there is nothing to check."""
    if verbatim or not config.enabled:
        return None
    index = cache.index([*(item.answer for item in citations), question])
    title = citations[0].title if citations else None
    policy = GroundingPolicy(action=config.action)
    return GroundingFilter(index, policy=policy, lang=lang, title=title)


def grounding_fields(grounding: GroundingFilter | None) -> dict[str, Any]:
    """``grounded`` and the unsupported claims (already redacted: the filter runs after the
    redactor), capped, for the ``done`` event and the log line."""
    if grounding is None:
        return {"grounded": VERBATIM, "ungrounded_claims": []}
    claims = [
        {"kind": str(claim.kind), "text": claim.text[:MAX_CLAIM_CHARS]}
        for claim in grounding.findings[:MAX_REPORTED_CLAIMS]
    ]
    return {"grounded": grounding.grounded, "ungrounded_claims": claims}
