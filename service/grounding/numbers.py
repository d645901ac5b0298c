"""Numbers as customers read them, in either language: 5, ５, 5.99, 1,000, five, 五, 二十四, 两.

``fold`` maps full-width forms to ASCII one character for one character, so offsets into the
folded text are offsets into the original (the streaming filter relies on that). The parsers
are plain scanners over a bounded string: no regular expression, nothing to backtrack.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Full-width ASCII (U+FF01..U+FF5E) to ASCII, the ideographic space to a space, and the dashes
# and tildes that separate ranges to one hyphen.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0xFFE5: 0xA5, 0xFFE0: 0xA2, 0xFFE1: 0xA3})
_FOLD.update(dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u301c"), 0x2D))

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERALS = frozenset(CN_DIGITS) | frozenset(CN_UNITS) | {"万"}

_EN_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
EN_NUMBERS = {word: value for value, word in enumerate(_EN_ONES)}
EN_NUMBERS.update(
    {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
)
EN_NUMBERS.update({"ninety": 90, "hundred": 100})


def fold(text: str) -> str:
    """Full-width digits, letters and signs to ASCII, dashes to '-', keeping every offset."""
    return text.translate(_FOLD)


def parse_decimal(digits: str) -> Decimal | None:
    """``"1,000.50"`` -> 1000.50; None when it is not one number (``"1,2,3"``)."""
    plain = digits.replace(",", "") if _is_grouped(digits) else digits
    try:
        return Decimal(plain)
    except InvalidOperation:
        return None


def _is_grouped(digits: str) -> bool:
    """Thousands groups: ``1,000`` or ``12,345.6`` (a comma list like ``1,2`` is not)."""
    head, *groups = digits.split(".")[0].split(",")
    return bool(groups) and 1 <= len(head) <= 3 and all(len(group) == 3 for group in groups)


def parse_chinese(numeral: str) -> int | None:
    """``五`` 5, ``十五`` 15, ``二十四`` 24, ``一百二十`` 120, ``三万`` 30000; None if malformed."""
    total, section, digit = 0, 0, None
    for char in numeral:
        if char in "零〇":
            digit = None  # a placeholder zero: 一百零五
        elif char in CN_DIGITS:
            if digit is not None:
                return None  # two digits in a row, e.g. 五五, is not a numeral we read
            digit = CN_DIGITS[char]
        elif char in CN_UNITS:
            section += (1 if digit is None else digit) * CN_UNITS[char]
            digit = None
        elif char == "万":
            total = (total + section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def normalise(value: Decimal) -> str:
    """One spelling per value: 5, 5.0 and 5.00 are all ``"5"``; 4.99 stays ``"4.99"``."""
    return format(value.normalize(), "f")


def english_value(words: str) -> int | None:
    """``five`` 5, ``twenty-four`` / ``twenty four`` 24; None when not a number word."""
    parts = words.lower().replace("-", " ").split()
    if not parts or any(part not in EN_NUMBERS for part in parts):
        return None
    if len(parts) == 1:
        return EN_NUMBERS[parts[0]]
    tens, ones = EN_NUMBERS[parts[0]], EN_NUMBERS[parts[1]]
    if len(parts) == 2 and tens >= 20 and tens % 10 == 0 and 0 < ones < 10:
        return tens + ones
    return None
