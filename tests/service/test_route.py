"""The router is a pure table from features to routes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.route import (
    Route,
    RouteFeatures,
    RouteThresholds,
    choose_route,
    count_parts,
    find_risk_terms,
)

T = RouteThresholds(
    faq_min_score=0.55, faq_min_margin=0.10, answer_min_score=0.30, hard_min_chars=280
)


def features(**values: object) -> RouteFeatures:
    base: dict[str, object] = {"top_score": 0.8, "margin": 0.4, "chars": 30, "parts": 1}
    base.update(values)
    return RouteFeatures(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "route", "reason"),
    [
        ({}, Route.FAQ, "confident_faq_match"),
        ({"margin": 0.05}, Route.EASY, "uncertain_faq_match"),
        ({"top_score": 0.45}, Route.EASY, "uncertain_faq_match"),
        ({"top_score": 0.2}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"top_score": 0.0, "margin": 0.0}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
        ({"parts": 2}, Route.HARD, "multi_part"),
        ({"chars": 400}, Route.HARD, "long_question"),
        ({"turn": 3}, Route.EASY, "follow_up"),
        ({"risk_terms": ("fraud",)}, Route.RISKY, "risk_terms"),
        ({"risk_terms": ("盗刷",), "top_score": 0.1}, Route.RISKY, "risk_terms"),
        ({"conservative": True}, Route.RISKY, "guard_conservative"),
        ({"parts": 3, "top_score": 0.1}, Route.OUT_OF_SCOPE, "low_retrieval_score"),
    ],
)
def test_route_table(values: dict[str, object], route: Route, reason: str) -> None:
    """Each row of features maps to its route and names the reason."""
    decision = choose_route(features(**values), T)
    assert (decision.route, decision.reason) == (route, reason)


def test_confident_match_goes_to_model_when_faq_direct_is_off() -> None:
    """With FAQ-direct off, a confident match is answered by the cheap model instead."""
    thresholds = RouteThresholds(faq_direct=False)
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
)
def test_route_invariants(
    top: float, margin: float, chars: int, parts: int, turn: int, risky: bool
) -> None:
    """Safety comes first, weak evidence is never answered, and FAQ-direct needs confidence."""
    f = RouteFeatures(
        top_score=top,
        margin=margin,
        chars=chars,
        parts=parts,
        turn=turn,
        risk_terms=("fraud",) if risky else (),
    )
    decision = choose_route(f, T)
    if risky:
        assert decision.route is Route.RISKY
    elif top < T.answer_min_score:
        assert decision.route is Route.OUT_OF_SCOPE
    if decision.route is Route.FAQ:
        assert top >= T.faq_min_score and margin >= T.faq_min_margin and parts == 1
    assert decision.features is f
