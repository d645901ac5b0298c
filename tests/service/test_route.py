"""The router is a pure table from features to routes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.language import Lang
from service.pipeline.parts import count_parts
from service.pipeline.route import (
    PartMatch,
    Route,
    RouteFeatures,
    RouteThresholds,
    choose_route,
    find_risk_terms,
)

T = RouteThresholds(
    faq_min_score=0.55, faq_min_margin=0.10, answer_min_score=0.30, hard_min_chars=280
)
# With a model configured: no FAQ-direct, no clarifying; the model answers from the evidence.
T_MODEL = RouteThresholds(
    faq_min_score=0.55,
    faq_min_margin=0.10,
    answer_min_score=0.30,
    hard_min_chars=280,
    faq_direct=False,
    clarify_unsure=False,
)


def features(**values: object) -> RouteFeatures:
    base: dict[str, object] = {"top_score": 0.8, "margin": 0.4, "chars": 30, "parts": 1}
    base.update(values)
    return RouteFeatures(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "route", "reason"),
    [
        ({}, Route.FAQ, "confident_faq_match"),
        ({"margin": 0.05}, Route.CLARIFY, "close_candidates"),
        ({"top_score": 0.45}, Route.CLARIFY, "low_confidence"),
        ({"top_score": 0.45, "parts": 2}, Route.CLARIFY, "low_confidence"),
        ({"top_score": 0.2}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"top_score": 0.0, "margin": 0.0}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"parts": 2}, Route.HARD, "multi_part"),
        ({"parts": 2, "top_score": 0.7, "margin": 0.05}, Route.HARD, "multi_part"),
        ({"parts": 2, "top_score": 0.6, "margin": 0.1}, Route.HARD, "multi_part"),
        ({"parts": 2, "top_score": 0.6, "margin": 0.08}, Route.CLARIFY, "close_candidates"),
        ({"chars": 400}, Route.HARD, "long_question"),
        ({"turn": 3}, Route.FAQ, "confident_faq_match"),
        ({"turn": 3, "margin": 0.01}, Route.CLARIFY, "close_candidates"),
        ({"risk_terms": ("fraud",)}, Route.RISKY, "risk_terms"),
        ({"risk_terms": ("盗刷",), "top_score": 0.1}, Route.RISKY, "risk_terms"),
        ({"conservative": True}, Route.RISKY, "guard_conservative"),
        ({"parts": 3, "top_score": 0.1}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        # Chinese scores run lower: refused below 0.24, answered from 0.30 (T's defaults).
        ({"top_score": 0.27, "lang": "zh"}, Route.CLARIFY, "low_confidence"),
        ({"top_score": 0.27}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"top_score": 0.2, "lang": "zh"}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"top_score": 0.35, "lang": "zh"}, Route.FAQ, "confident_faq_match"),
    ],
)
def test_route_table(values: dict[str, object], route: Route, reason: str) -> None:
    """Each row of features maps to its route and names the reason."""
    decision = choose_route(features(**values), T)
    assert (decision.route, decision.reason) == (route, reason)


@pytest.mark.parametrize(
    ("values", "route", "reason"),
    [
        ({}, Route.EASY, "confident_match_model"),
        ({"margin": 0.05}, Route.EASY, "uncertain_faq_match"),
        ({"top_score": 0.45}, Route.EASY, "uncertain_faq_match"),
        ({"turn": 3}, Route.EASY, "follow_up"),
        ({"top_score": 0.2}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"parts": 2, "margin": 0.01}, Route.HARD, "multi_part"),
    ],
)
def test_route_table_with_a_model(values: dict[str, object], route: Route, reason: str) -> None:
    """With a model and no clarifying, unsure matches go to the model, which sees the evidence."""
    decision = choose_route(features(**values), T_MODEL)
    assert (decision.route, decision.reason) == (route, reason)


@pytest.mark.parametrize(
    ("matches", "route", "reason"),
    [
        # Two parts, two entries, each confident: the strong model combines them.
        ((("a", 0.9, 0.5), ("b", 0.8, 0.4)), Route.HARD, "multi_part"),
        # Two parts one entry answers: one question.
        ((("a", 0.9, 0.5), ("a", 0.7, 0.3)), Route.FAQ, "confident_faq_match"),
        # A part that matches nothing ("ok, and how do I ...") is a remark.
        ((("a", 0.9, 0.5), ("b", 0.1, 0.05)), Route.FAQ, "confident_faq_match"),
        # Each part is held to the one-question standard: one unsure part, and it is asked.
        ((("a", 0.9, 0.5), ("b", 0.7, 0.05)), Route.CLARIFY, "close_candidates"),
        ((("a", 0.9, 0.5), ("b", 0.45, 0.3)), Route.CLARIFY, "low_confidence"),
    ],
)
def test_a_message_of_several_questions_is_routed_by_part(
    matches: tuple[tuple[str, float, float], ...], route: Route, reason: str
) -> None:
    parts = tuple(PartMatch(entry, score, margin) for entry, score, margin in matches)
    decision = choose_route(features(parts=2, part_matches=parts), T)
    assert (decision.route, decision.reason) == (route, reason)


@pytest.mark.parametrize(("lang", "route"), [("en", Route.CLARIFY), ("zh", Route.FAQ)])
def test_the_confident_score_is_per_language(lang: Lang, route: Route) -> None:
    """Chinese scores run lower (Han n-grams): 0.5 is confident in Chinese, not in English."""
    thresholds = RouteThresholds(faq_min_score=0.6, faq_min_score_zh=0.4)
    decision = choose_route(features(top_score=0.5, margin=0.3, lang=lang), thresholds)
    assert decision.route is route


def test_confident_match_goes_to_model_when_faq_direct_is_off() -> None:
    """With FAQ-direct off, a confident match is answered by the cheap model instead."""
    thresholds = RouteThresholds(faq_direct=False, clarify_unsure=False)
    decision = choose_route(features(), thresholds)
    assert (decision.route, decision.reason) == (Route.EASY, "confident_match_model")


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("Someone used my card without my permission", ("stolen",)),
        ("This is fraud, I'll call my lawyer", ("fraud", "legal")),
        ("我的卡被盗刷了，我要报警", ("盗刷", "报警")),
        ("我要投诉你们的快递", ("投诉",)),
        ("How do I request a refund?", ()),
        ("怎么申请退款？", ()),
    ],
)
def test_risk_terms_in_both_languages(question: str, terms: tuple[str, ...]) -> None:
    """Risk terms are found in Chinese and English, and ordinary questions have none."""
    assert find_risk_terms(question) == terms


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("How do I get a refund?", 1),
        ("How do I get a refund? And how long does delivery take?", 2),
        ("Can I change my address and how do I track my order", 2),
        ("怎么退款？另外发票怎么开？", 2),
        ("怎么申请退款？", 1),
        ("discount code expired?? it wont work", 1),
        ("How do I buy something here? I've never done it before", 1),
        ("Where is my order? Where is my refund?", 2),
        ("??", 1),
    ],
)
def test_multi_part_questions_are_counted(question: str, parts: int) -> None:
    """Questions asking two things count as multi-part, in both languages."""
    assert count_parts(question) == parts


scores = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(
    top=scores,
    margin=scores,
    chars=st.integers(1, 2000),
    parts=st.integers(1, 5),
    turn=st.integers(1, 20),
    risky=st.booleans(),
    lang=st.sampled_from(["en", "zh"]),
)
def test_route_invariants(
    top: float, margin: float, chars: int, parts: int, turn: int, risky: bool, lang: Lang
) -> None:
    """Safety comes first, weak evidence is never answered, and no answer comes from an unsure
    match: below the confident score, or too close to the runner-up for a single question."""
    f = RouteFeatures(
        top_score=top,
        margin=margin,
        chars=chars,
        parts=parts,
        turn=turn,
        risk_terms=("fraud",) if risky else (),
        lang=lang,
    )
    confident = T.confident_score(lang)
    decision = choose_route(f, T)
    if risky:
        assert decision.route is Route.RISKY
    elif top < T.refusal_score(lang):
        assert decision.route is Route.OUT_OF_SCOPE
    if decision.route is Route.FAQ:
        assert top >= confident and margin >= T.faq_min_margin and parts == 1
    if decision.route in (Route.FAQ, Route.EASY, Route.HARD):
        assert top >= confident
        assert margin >= T.faq_min_margin or (parts >= 2 and top - margin >= confident)
    if not risky and T.refusal_score(lang) <= top < confident:
        assert decision.route is Route.CLARIFY
    assert decision.features is f


@given(top=scores, margin=scores, parts=st.integers(1, 5), turn=st.integers(1, 20))
def test_a_higher_score_never_turns_an_answer_into_a_refusal(
    top: float, margin: float, parts: int, turn: int
) -> None:
    """Raising the top score (same margin) never moves a question from answered to refused."""
    low = choose_route(RouteFeatures(top, margin, 30, parts, turn=turn), T)
    high = choose_route(RouteFeatures(min(1.0, top + 0.1), margin, 30, parts, turn=turn), T)
    if low.route is not Route.OUT_OF_SCOPE:
        assert high.route is not Route.OUT_OF_SCOPE
