"""Number parsing across forms: Chinese numerals, English words, full-width digits, groups."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from service.grounding.numbers import english_value, fold, parse_chinese, parse_decimal

DIGITS = "零一二三四五六七八九"


def to_chinese(value: int) -> str:
    """Write 1..99,999 the way Chinese text does (一万零五, 二十四, 十五)."""
    parts, zero = [], False
    for unit, name in ((10_000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, value = divmod(value, unit)
        if digit:
            if zero:
                parts.append("零")
            parts.append(DIGITS[digit] + name)
            zero = False
        elif parts:
            zero = True
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


@given(st.integers(min_value=1, max_value=99_999))
def test_chinese_numerals_read_back_their_value(value: int) -> None:
    """Every Chinese numeral from 一 to 九万九千九百九十九 parses to its value."""
    assert parse_chinese(to_chinese(value)) == value


@given(st.integers(min_value=0, max_value=10**9))
def test_full_width_digits_fold_to_the_same_number(value: int) -> None:
    """Full-width digits fold to ASCII, one character for one, and parse the same."""
    wide = "".join(chr(ord(char) + 0xFEE0) for char in str(value))
    assert len(fold(wide)) == len(wide)
    assert parse_decimal(fold(wide)) == Decimal(value)


@given(st.integers(min_value=1000, max_value=10**9))
def test_thousands_groups_are_one_number(value: int) -> None:
    """``1,000,000`` is one million, not a list of numbers."""
    assert parse_decimal(f"{value:,}") == Decimal(value)


def test_english_number_words() -> None:
    """Number words, hyphenated tens included, read as their values; other words do not."""
    assert [english_value(w) for w in ("five", "Twenty-four", "ninety nine", "fifty")] == [
        5,
        24,
        99,
        50,
    ]
    assert english_value("refund") is None
    assert english_value("twenty-twenty") is None
