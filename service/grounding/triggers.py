"""Where a claim can begin: the streaming filter holds text back from the first such place.

Every claim contains a trigger (a digit, a currency sign, '@', a Chinese numeral, an English
number word, "http"/"www.", a currency code or a policy term), so text before the first trigger
of a sentence can be released at once. A trigger that might still grow at the end of the
buffer ("tw" of "twenty", "store" of "store credit") is *pending*: held, not yet decided.
"""

from __future__ import annotations

import re

from service.grounding.numbers import EN_NUMBERS
from service.grounding.vocabulary import POLICY_TERMS

_LATIN_WORDS = sorted(
    {*EN_NUMBERS, "http", "https", "www.", "usd", "us$", "rmb", "cny", "eur", "gbp"}
    | {form for forms in POLICY_TERMS.values() for form in forms if form[0].isascii()},
    key=len,
    reverse=True,
)
_CJK_WORDS = sorted(
    {form for forms in POLICY_TERMS.values() for form in forms if not form[0].isascii()},
    key=len,
    reverse=True,
)
TRIGGER = re.compile(
    r"[0-9$¥€£@零〇一二两三四五六七八九十百千万]"
    + r"|(?<![A-Za-z])(?:"
    + "|".join(map(re.escape, _LATIN_WORDS))
    + r")(?![A-Za-z])|"
    + "|".join(map(re.escape, _CJK_WORDS)),
    re.IGNORECASE,
)
_LATIN_PREFIXES = frozenset(word[:size] for word in _LATIN_WORDS for size in range(1, len(word)))
_CJK_PREFIXES = frozenset(word[:size] for word in _CJK_WORDS for size in range(1, len(word)))
MAX_PENDING = max(len(word) for word in [*_LATIN_WORDS, *_CJK_WORDS])
_PREFIX_LAST_CHARS = frozenset(
    char
    for prefix in (*_LATIN_PREFIXES, *_CJK_PREFIXES)
    for char in (prefix[-1], prefix[-1].upper())
)
_PREFIX_START = re.compile(
    r"(?<![A-Za-z])[A-Za-z]|[" + "".join(sorted({word[0] for word in _CJK_WORDS})) + "]"
)


def is_latin_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def pending_tail(text: str, start: int) -> int:
    """How many characters at the end of ``text`` (after ``start``) may begin a trigger."""
    size = len(text) - start
    if not size or text[-1] not in _PREFIX_LAST_CHARS:
        return 0
    begin = len(text) - min(size, MAX_PENDING)
    # Only word starts (latin) and first characters of Chinese terms can begin one.
    for found in _PREFIX_START.finditer(text, begin):
        tail = text[found.start() :]
        if tail.lower() in _LATIN_PREFIXES or tail in _CJK_PREFIXES:
            return len(tail)
    return 0
