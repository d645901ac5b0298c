"""Order numbers in a customer's words: ``BC-100231``, ``bc100231``, ``order #100231``,
``订单号 100231``; the router sends questions that carry one to ``get_order_status``."""

from __future__ import annotations

import re

_ORDER_NUMBER = re.compile(
    r"\bBC-?(\d{6})\b|(?:\border\b|订单)\s*(?:number|no\.?|号|编号)?\s*[#:：]?\s*(\d{6})(?!\d)",
    re.IGNORECASE,
)


def find_order_id(question: str) -> str | None:
    """The first order number ``question`` carries, normalised to ``BC-NNNNNN``."""
    match = _ORDER_NUMBER.search(question)
    if match is None:
        return None
    return f"BC-{match[1] or match[2]}"
