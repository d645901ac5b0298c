"""Follow-ups become standalone questions about the topic in play, in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.language import Lang
from service.conversations.contextualiser import (
    MAX_SCAN_CHARS,
    contextualise,
    is_follow_up,
)
from service.conversations.turn import Summary
from tests.conversations.factories import context, title_of, turn


@pytest.mark.parametrize(
    ("question", "lang", "title"),
    [
        ("how long does that take?", "en", "How do I request a refund"),
        ("and how much is it?", "en", "How do I request a refund"),
        ("那要多久？", "zh", "怎么申请退款"),
        ("这个要钱吗", "zh", "怎么申请退款"),
    ],
)
def test_follow_up_is_joined_with_the_active_entry(question: str, lang: Lang, title: str) -> None:
    """A short question pointing back is rewritten with the active entry's title, and says why."""
    previous = turn("我想退款" if lang == "zh" else "I want a refund", lang=lang)
    result = contextualise(question, context(previous), lang=lang, title_of=title_of)
    assert title in result.question and result.question.startswith(question.rstrip("?？"))
    assert (result.reason, result.active_entry) == ("follow_up_active_entry", "refund-request")


def test_after_a_clarifying_question_the_best_suggestion_is_in_play() -> None:
    """When the last turn asked which question was meant, its first suggestion is the topic."""
    asked = turn(
        "I want to return the shoes I bought",
        route="clarify",
        citations=(),
        suggestions=("return-shipping-label", "refund-request"),
    )
    result = contextualise("how long does that take?", context(asked), lang="en", title_of=title_of)
    assert result.active_entry == "return-shipping-label"
    assert "return shipping label" in result.question


@pytest.mark.parametrize(
    "question",
    [
        "How do I reset my password?",
        "I was charged twice for the same order and want to know why that happened today",
        "怎么修改收货地址？我下单时填错了小区的名字",
    ],
)
def test_standalone_questions_are_left_alone(question: str) -> None:
    """A question that carries its own topic is asked as is."""
    result = contextualise(question, context(turn()), lang="en", title_of=title_of)
    assert (result.question, result.reason) == (question, None)


def test_first_turn_is_never_rewritten() -> None:
    """Without history there is nothing to resolve: the question is asked as is."""
    result = contextualise("how long does that take?", None, lang="en", title_of=title_of)
    assert (result.question, result.reason, result.active_entry) == (
        "how long does that take?",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("question", "lang"), [("is my order shipped yet", "en"), ("我的订单发货了吗", "zh")]
)
def test_an_earlier_order_number_is_carried(question: str, lang: Lang) -> None:
    """A question about "my order" naming none gets the order number mentioned earlier."""
    earlier = context(turn(), summary=Summary(entities={"order_id": "BC-100231"}))
    result = contextualise(question, earlier, lang=lang, title_of=title_of)
    assert "BC-100231" in result.question and result.reason == "carried_order_id"


def test_an_order_number_in_the_question_is_an_entity() -> None:
    """The order number a question names is reported for the conversation's summary."""
    result = contextualise("where is order BC-123456", None, lang="en", title_of=title_of)
    assert result.entities == {"order_id": "BC-123456"}


@given(text=st.text(max_size=3 * MAX_SCAN_CHARS), lang=st.sampled_from(["en", "zh"]))
def test_contextualise_never_fails_and_stays_bounded(text: str, lang: Lang) -> None:
    """Any text, any language: a result whose rewrite is never longer than the cap plus a title."""
    result = contextualise(text, context(turn()), lang=lang, title_of=title_of)
    if result.reason == "follow_up_active_entry":
        assert len(result.question) <= MAX_SCAN_CHARS + 80
    else:
        assert result.question.startswith(text)
    assert isinstance(is_follow_up(text, lang), bool)
