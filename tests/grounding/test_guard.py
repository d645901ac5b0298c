"""The per-answer guard: verbatim answers skip the check, model answers get a filter."""

from __future__ import annotations

from dataclasses import dataclass

from service.grounding.guard import (
    EvidenceIndexCache,
    GroundingConfig,
    grounding_fields,
    open_grounding,
)
from service.grounding.policy import UnsupportedAction


@dataclass(frozen=True)
class Cited:
    title: str
    answer: str


REFUND = Cited("How long do refunds take?", "Refunds reach your card within 5–10 business days.")


def test_verbatim_answer_is_not_checked_and_says_so() -> None:
    """An FAQ-direct answer gets no filter and reports grounded: verbatim."""
    grounding = open_grounding(
        citations=[REFUND],
        question="refund?",
        lang="en",
        verbatim=True,
        config=GroundingConfig(),
        cache=EvidenceIndexCache(),
    )
    assert grounding is None
    assert grounding_fields(grounding) == {"grounded": "verbatim", "ungrounded_claims": []}


def test_model_answer_is_checked_against_citations_and_question() -> None:
    """The filter supports the cited entry's figures and the customer's own order number, and
    names the entry when it replaces a sentence."""
    grounding = open_grounding(
        citations=[REFUND],
        question="Where is the refund for BC-100001?",
        lang="en",
        verbatim=False,
        config=GroundingConfig(action=UnsupportedAction.REPLACE),
        cache=EvidenceIndexCache(),
    )
    assert grounding is not None
    text = "For BC-100001, refunds take 5-10 business days. Some take 3 days."
    out = grounding.feed(text) + grounding.flush()
    assert out == (
        "For BC-100001, refunds take 5-10 business days. Some take — please check “How long do "
        "refunds take?” in our help centre for the exact details."
    )
    assert grounding_fields(grounding) == {
        "grounded": "unsupported",
        "ungrounded_claims": [{"kind": "duration", "text": "3 days"}],
    }


def test_index_cache_keeps_a_bounded_number_of_texts() -> None:
    """The cache evicts the least recently used text beyond its size, and answers the same."""
    cache = EvidenceIndexCache(max_entries=2)
    first = cache.index(["It costs $5.", "It takes 3 days."])
    cache.index(["Another text with 7 items."])
    again = cache.index(["It costs $5.", "It takes 3 days."])
    assert first == again
    assert len(cache._indexes) == 2
