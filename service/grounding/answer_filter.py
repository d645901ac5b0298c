"""The grounding guard as one of the pipeline's text filters, composed after the redactor.

``grounding_filter_factory`` builds, per answer plan, a filter that checks a model's answer
against the evidence the plan cites (and the customer's question, and the ticket a handoff
would give) and, through
``annotate``, puts its verdict on the ``done`` event and so on the log line. Answers that are
verbatim by construction (the FAQ answering directly, a template, a cache replay of an answer
that passed the guard when it was stored) pass through unchecked as ``grounded: "verbatim"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

from service.grounding.guard import (
    EvidenceIndexCache,
    GroundingConfig,
    grounding_fields,
    open_grounding,
)
from service.grounding.stream import GroundingFilter
from service.providers.faq import FAQ_MODEL

if TYPE_CHECKING:
    from service.pipeline.events import DoneEvent
    from service.pipeline.plan import AnswerPlan
    from service.pipeline.text_filter import FilterFactory

_NOTHING: Mapping[str, int] = {}


class GroundingTextFilter:
    """Feeds the grounding filter (or passes text through for a verbatim answer)."""

    __slots__ = ("_grounding",)

    def __init__(self, grounding: GroundingFilter | None) -> None:
        self._grounding = grounding

    @property
    def blocked(self) -> bool:
        return False  # an unsupported claim is replaced, never a reason to cut the answer off

    @property
    def counts(self) -> Mapping[str, int]:
        return _NOTHING  # not redactions: the verdict goes on ``done`` instead

    def feed(self, text: str) -> str:
        return text if self._grounding is None else self._grounding.feed(text)

    def flush(self) -> str:
        return "" if self._grounding is None else self._grounding.flush()

    def annotate(self, done: DoneEvent) -> DoneEvent:
        fields = grounding_fields(self._grounding)
        claims = tuple((claim["kind"], claim["text"]) for claim in fields["ungrounded_claims"])
        return dataclasses.replace(done, grounded=fields["grounded"], unsupported_claims=claims)


def is_verbatim(plan: AnswerPlan) -> bool:
    """No model wrote this answer: the FAQ's own text, a template or a checked replay."""
    return plan.request is None or plan.request.model == FAQ_MODEL or plan.cache_hit


def grounding_filter_factory(
    config: GroundingConfig, cache: EvidenceIndexCache | None = None
) -> FilterFactory:
    """The grounding filter of every answer, after the redactor (its text is already redacted,
    so the claims it reports are too)."""
    indexes = cache or EvidenceIndexCache()

    def make(plan: AnswerPlan) -> GroundingTextFilter:
        grounding = open_grounding(
            citations=plan.citations,
            question=" ".join(filter(None, (plan.question, plan.ticket_id))),
            lang=plan.lang,
            verbatim=is_verbatim(plan),
            config=config,
            cache=indexes,
        )
        return GroundingTextFilter(grounding)

    return make
