"""Creative-writing, arithmetic and programming requests are recognised by their form, in both
languages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.off_topic import MAX_SCAN_CHARS, is_off_topic_request
from service.pipeline.route import Route, RouteThresholds, choose_route, extract_features


@pytest.mark.parametrize(
    "question",
    [
        "Write me a short poem about autumn",
        "can you compose a haiku",
        "tell me a joke",
        "what's 17 times 23",
        "17*23",
        "写一首诗",
        "给我讲个笑话",
        "17乘以23等于几",
        "一加一等于几",
        "my javascript function returns undefined, why?",
        "how do I debug a segfault",
        "帮我调试代码",
        "我的 Python 程序报错了",
    ],
)
def test_off_topic_requests_are_recognised(question: str) -> None:
    """Each creative or arithmetic request is flagged."""
    assert is_off_topic_request(question)


@pytest.mark.parametrize(
    "question",
    [
        "How do I write a review?",
        "怎么写评价",
        "我想写一段评价",
        "Where is my order BC-100231?",
        "call me back on 555-1234",
        "Can I exchange jeans 32 x 34 for 34 x 34?",
        "The invoice says 2 items, I got 3",
        "怎么申请退款？",
        "my promo code gives an error",
        "优惠码报错怎么办",
        "the verification code never arrives",
    ],
)
def test_store_questions_are_not_flagged(question: str) -> None:
    """Questions a store answers, even with numbers or the word write, are not flagged."""
    assert not is_off_topic_request(question)


def test_off_topic_request_is_refused_even_with_a_close_entry() -> None:
    """However well a FAQ entry matches the words, the request is refused, not answered."""
    confident = replace(extract_features("Write me a poem", []), top_score=0.9, margin=0.5)
    decision = choose_route(confident, RouteThresholds())
    assert (decision.route, decision.reason) == (Route.OUT_OF_SCOPE, "off_topic_request")


@given(st.text(max_size=4 * MAX_SCAN_CHARS))
def test_any_text_is_classified_without_error(text: str) -> None:
    """Any input, however long or odd, gets a plain yes or no."""
    assert isinstance(is_off_topic_request(text), bool)
