"""Order numbers in a customer's words: ``BC-100231``, ``bc100231``, ``order #100231``,
``订单号 100231``, ``订单号：１００２３１``; the router sends questions that carry one to
``get_order_status``.

The pattern runs on RE2 (linear time whatever the input): in a backtracking engine its three
optional whitespace runs made "order" + 2,000 spaces cost ~20 s. RE2's ``\\d``, ``\\s`` and ``\\b``
are ASCII, so the question is NFKC-normalised first (full-width digits and the ideographic space
become ASCII), and "not followed by a digit" is spelt ``(?:\\D|$)`` (RE2 has no lookahead).
"""

from __future__ import annotations

import unicodedata

import re2

MAX_QUESTION_CHARS = 4_000  # questions are at most 2,000 characters; anything past is not read

_ORDER_NUMBER = re2.compile(
    r"(?i)\bBC-?(\d{6})\b"
    r"|(?:\border\b|订单)\s*(?:number|no\.?|号|编号)?\s*[#:：]?\s*(\d{6})(?:\D|$)"
)


def find_order_id(question: str) -> str | None:
    """The first order number ``question`` carries, normalised to ``BC-NNNNNN``."""
    text = unicodedata.normalize("NFKC", question[:MAX_QUESTION_CHARS])
    match = _ORDER_NUMBER.search(text)
    if match is None:
        return None
    return f"BC-{match[1] or match[2]}"
