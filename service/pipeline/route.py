"""The route step, and the pure decision behind it: request features to a route and its reason.

``choose_route`` is deliberately free of I/O and settings objects so it can be table-tested;
``extract_features`` turns a question and its evidence into those features; ``route_question``
is the plan's step: it routes with the configured router, and holds the two routing fallbacks
(no evidence: a person; a router that fails: the strong model).

Between the refusal threshold and the confident one, or when the best two entries are too close
to call, the router does not guess: with ``clarify_unsure`` (the embedded default) it asks the
customer which candidate they mean (route ``clarify``); with a model, the model answers only from
the evidence and says so when it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from rag.language import Lang, detect_language
from rag.retriever import Evidence
from service.errors import ServiceError
from service.pipeline.off_topic import is_off_topic_request
from service.pipeline.parts import count_parts
from service.resilience.degrade import Fallback
from service.tools.order_number import find_order_id

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.pipeline.conversation import ConversationTurn
    from service.pipeline.retrieve import Retrieval
    from service.pipeline.tool import ToolResult


class Route(StrEnum):
    FAQ = "faq"
    EASY = "easy"
    HARD = "hard"
    RISKY = "risky"
    OUT_OF_SCOPE = "out_of_scope"
    TOOL = "tool"  # the question carries an order number: look the order up, then answer
    CLARIFY = "clarify"  # unsure which entry is meant: ask, never answer from a guess


@dataclass(frozen=True, slots=True)
class RouteThresholds:
    faq_min_score: float = 0.50  # calibrated per language: see RouterSettings
    faq_min_score_zh: float = 0.30
    faq_min_margin: float = 0.15
    answer_min_score: float = 0.37
    answer_min_score_zh: float = 0.24
    hard_min_chars: int = 280
    faq_direct: bool = True
    clarify_unsure: bool = True  # ask instead of answering from an unsure match (no model)

    def confident_score(self, lang: Lang) -> float:
        """The score a match needs to be answered: Chinese and English are matched on different
        features (Han n-grams and Chinese words; word and character n-grams), so their scores
        run on different scales."""
        return self.faq_min_score_zh if lang == "zh" else self.faq_min_score

    def refusal_score(self, lang: Lang) -> float:
        """Below this score a match is no evidence at all (refuse); per language, as above."""
        return self.answer_min_score_zh if lang == "zh" else self.answer_min_score


@dataclass(frozen=True, slots=True)
class PartMatch:
    """One question of a message that asks several: its best entry, score and margin."""

    entry: str
    score: float
    margin: float


@dataclass(frozen=True, slots=True)
class RouteFeatures:
    top_score: float
    margin: float
    chars: int
    parts: int
    risk_terms: tuple[str, ...] = ()
    turn: int = 1
    conservative: bool = False
    order_id: str | None = None
    off_topic: bool = False  # a creative-writing or arithmetic request (see off_topic.py)
    lang: Lang = "en"
    part_matches: tuple[PartMatch, ...] = ()
    """Each question's own best match, when the message asks several."""
    per_part: bool = False
    """``top_score`` and ``margin`` are the weakest part's (see ``by_part``)."""


@dataclass(frozen=True, slots=True)
class RouteDecision:
    route: Route
    reason: str
    features: RouteFeatures


# Terms that mean money at risk, legal threat or an angry customer: a person should see these.
_RISK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("fraud", r"\bfraud\w*|\bscam\w*|\bphish\w*"),
        (
            "stolen",
            r"\bstolen\b|\btheft\b|\bsomeone (?:else )?used my\b"
            r"|\bwithout my (?:permission|consent)\b",
        ),
        ("unauthorized", r"\bunauthori[sz]ed\b|\bdidn'?t (?:make|authori[sz]e)\b"),
        ("hacked", r"\bhack(?:ed|er)\b|\bcompromised\b"),
        ("legal", r"\blawyer\b|\battorney\b|\bsue\b|\blawsuit\b|\blegal action\b|\bcourt\b"),
        ("police", r"\bpolice\b|\breport (?:you|this) to\b"),
        ("complaint", r"\bcomplain\w*"),
        ("投诉", r"投诉"),
        ("盗刷", r"盗刷|被盗|盗用|冒用"),
        ("报警", r"报警|警察|公安"),
        ("律师", r"律师|起诉|法院|打官司"),
        ("诈骗", r"诈骗|骗子|欺诈"),
        ("被黑", r"被黑|被盗号|账号被盗"),
    )
)


def find_risk_terms(question: str) -> tuple[str, ...]:
    return tuple(name for name, pattern in _RISK_PATTERNS if pattern.search(question))


def extract_features(
    question: str,
    evidence: Sequence[Evidence],
    *,
    parts: Sequence[Sequence[Evidence]] = (),
    turn: int = 1,
    conservative: bool = False,
) -> RouteFeatures:
    """``parts``: each question's own candidates, when the message asks several."""
    top, margin = _best_and_margin(evidence)
    return RouteFeatures(
        top_score=top,
        margin=margin,
        chars=len(question),
        parts=count_parts(question),
        risk_terms=find_risk_terms(question),
        turn=turn,
        conservative=conservative,
        order_id=find_order_id(question),
        off_topic=is_off_topic_request(question),
        lang=evidence[0].lang if evidence else detect_language(question),
        part_matches=tuple(
            PartMatch(found[0].id, *_best_and_margin(found)) for found in parts if found
        ),
    )


def _best_and_margin(evidence: Sequence[Evidence]) -> tuple[float, float]:
    top = evidence[0].score if evidence else 0.0
    second = evidence[1].score if len(evidence) > 1 else 0.0
    return top, top - second


def by_part(features: RouteFeatures, thresholds: RouteThresholds) -> RouteFeatures:
    """The features to route a message that asks several things on.

    Parts that match no entry (a greeting, a remark, an aside off topic) are left out. Parts one
    entry answers are one question ("do you ship to Australia, and are there customs fees?").
    Parts answered by different entries are each held to the one-question standard: the weakest
    part's score and margin decide whether the message is answered or clarified."""
    floor = thresholds.refusal_score(features.lang)
    relevant = [p for p in features.part_matches if p.score >= floor]
    entries = {part.entry for part in relevant}
    if not entries:
        return features
    if len(entries) == 1:
        best = max(relevant, key=lambda part: part.score)
        if features.top_score >= best.score:
            return replace(features, parts=1)
        return replace(features, parts=1, top_score=best.score, margin=best.margin)
    return replace(
        features,
        parts=max(features.parts, len(entries)),
        top_score=min(part.score for part in relevant),
        margin=min(part.margin for part in relevant),
        per_part=True,
    )


def choose_route(features: RouteFeatures, thresholds: RouteThresholds) -> RouteDecision:
    """Pick the cheapest route that can answer safely. Order matters: safety first, cost last."""
    features = by_part(features, thresholds)

    def decide(route: Route, reason: str) -> RouteDecision:
        return RouteDecision(route=route, reason=reason, features=features)

    if features.risk_terms:
        return decide(Route.RISKY, "risk_terms")
    if features.conservative:
        return decide(Route.RISKY, "guard_conservative")
    if features.order_id is not None:
        return decide(Route.TOOL, "order_number")
    if features.off_topic:
        return decide(Route.OUT_OF_SCOPE, "off_topic_request")
    if features.top_score < thresholds.refusal_score(features.lang):
        return decide(Route.OUT_OF_SCOPE, "low_retrieval_score")
    unsure = unsure_reason(features, thresholds)
    if unsure is not None and thresholds.clarify_unsure:
        return decide(Route.CLARIFY, unsure)
    if features.parts >= 2:
        return decide(Route.HARD, "multi_part")
    if features.chars >= thresholds.hard_min_chars:
        return decide(Route.HARD, "long_question")
    if features.turn > 1 and not thresholds.faq_direct:
        return decide(Route.EASY, "follow_up")  # the model reads the conversation
    if unsure is None and thresholds.faq_direct:
        return decide(Route.FAQ, "confident_faq_match")
    return decide(Route.EASY, "confident_match_model" if unsure is None else "uncertain_faq_match")


def unsure_reason(features: RouteFeatures, thresholds: RouteThresholds) -> str | None:
    """Why the best entry is not a confident match, or None when it is."""
    confident = thresholds.confident_score(features.lang)
    if features.top_score < confident:
        return "low_confidence"
    second = features.top_score - features.margin
    if features.parts >= 2 and not features.per_part and second >= confident:
        return None  # two questions, two confident entries: closeness is expected
    if features.margin < thresholds.faq_min_margin:
        return "close_candidates"
    return None


@dataclass(frozen=True, slots=True)
class Routing:
    decision: RouteDecision
    fallback: Fallback | None = None
    """``router->hard`` when the router failed."""


async def route_question(
    turn: ConversationTurn,
    *,
    retrieval: Retrieval,
    tools: ToolResult,
    conservative: bool,
    context: AskContext,
) -> Routing:
    """Step: the route for this turn (``tools`` is unused by today's router, kept for it)."""
    del tools
    features = extract_features(
        turn.standalone_question,
        retrieval.evidence,
        parts=retrieval.parts,
        turn=turn.number,
        conservative=conservative,
    )
    with context.span("beacon.route") as span:
        routing = _decide(features, retrieval, context)
        span.set_attribute("beacon.route", routing.decision.route.value)
        span.set_attribute("beacon.route.reason", routing.decision.reason)
        decided = routing.decision.features  # a message of several questions: per part
        span.set_attribute("beacon.route.top_score", decided.top_score)
        span.set_attribute("beacon.route.margin", decided.margin)
    return routing


def _decide(features: RouteFeatures, retrieval: Retrieval, context: AskContext) -> Routing:
    if retrieval.failed:
        return Routing(RouteDecision(Route.RISKY, "retrieval_failed", features))
    try:
        return Routing(context.services.router(features, context.services.config.thresholds))
    except ServiceError as error:
        # An unusable routing decision: the strong model can answer whatever the cheap one
        # could, and the generation fallback chain still stands behind it.
        fallback = Fallback.after(error, source="router", target="hard")
        return Routing(RouteDecision(Route.HARD, "router_fallback", features), fallback)
