"""Splitting a message into the questions it asks, in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.parts import count_parts, split_parts, split_remark

_DROPPED = set(" ,，.。;；:：!！?？")


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("How do I get a refund?", ["How do I get a refund"]),
        (
            "How do I get a refund? And how long does delivery take?",
            ["How do I get a refund", "And how long does delivery take"],
        ),
        (
            "Do you ship to Australia, and will I pay customs fees?",
            ["Do you ship to Australia", "and will I pay customs fees"],
        ),
        ("怎么改收货地址？另外大概多久能送到？", ["怎么改收货地址", "另外大概多久能送到"]),
        ("How do I buy? I've never done it before", ["How do I buy  I've never done it before"]),
        ("discount code expired?? it wont work", ["discount code expired  it wont work"]),
        ("ok, and how do I cancel my order?", ["ok", "and how do I cancel my order"]),
        ("??", ["??"]),
    ],
)
def test_a_message_splits_into_its_questions(question: str, parts: list[str]) -> None:
    """After each run of question marks and before each joiner; a trailing remark stays."""
    assert split_parts(question) == parts


@given(st.text(max_size=300))
def test_splitting_loses_no_words(question: str) -> None:
    """Only separators go: the words of the parts, in order, are the message's."""
    parts = split_parts(question)
    assert parts
    kept = [c for c in "".join(parts) if c not in _DROPPED and not c.isspace()]
    assert kept == [c for c in question if c not in _DROPPED and not c.isspace()]


@pytest.mark.parametrize(
    "question",
    ["How do I get a refund? And how long does delivery take?", "怎么退款？另外发票怎么开？"],
)
def test_a_counted_second_question_is_split_out(question: str) -> None:
    assert count_parts(question) == len(split_parts(question)) == 2


@pytest.mark.parametrize(
    ("message", "asked", "remark"),
    [
        ("How do I buy? I've never done it before", "How do I buy?", "I've never done it before"),
        ("退款怎么申请？我的邮箱是 a@b.c", "退款怎么申请？", "我的邮箱是 a@b.c"),
        ("a? b?? c", "a? b??", "c"),
        ("How do I get a refund?", "How do I get a refund?", ""),
        ("no question mark at all", "no question mark at all", ""),
        ("?? only marks first", "?? only marks first", ""),
    ],
)
def test_a_remark_after_the_last_question_is_set_apart(
    message: str, asked: str, remark: str
) -> None:
    assert split_remark(message) == (asked, remark)


@given(st.text(max_size=300))
def test_setting_a_remark_apart_loses_nothing(message: str) -> None:
    """The question part and the remark, with the blanks between, are the whole message."""
    asked, remark = split_remark(message)
    if remark:
        assert message.startswith(asked) and message[len(asked) :].strip() == remark
        assert asked.endswith(("?", "？")) and asked.strip(" ?？")
    else:
        assert asked == message
