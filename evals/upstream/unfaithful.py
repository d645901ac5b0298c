"""Wrong on purpose: the answer quotes the evidence but says something it does not support.

For a seeded share of requests (``rate``) the quoted sentence is corrupted in one of three
ways, chosen by the same seed among those that apply to it:

- ``changed_number``: one number becomes a value found nowhere in the evidence (5 -> 6);
- ``dropped_condition``: "business days" / "工作日" loses its qualifier, so a promise of
  business days becomes one of calendar days;
- ``invented_url``: a help-centre URL that no evidence mentions is added.

The seed is a hash of the conversation, so the same request is always answered the same way and
a suite's injected share is known. Like the rest of the simulator this shares no code with
Beacon's own grounding checker, so a bug there cannot cancel out here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

_DIGITS = re.compile(r"[0-9]+")
_BUSINESS = re.compile(r"business (days?)|working (days?)|个工作日|工作日")
_SCALE = 2**32


class Mutation(StrEnum):
    CHANGED_NUMBER = "changed_number"
    DROPPED_CONDITION = "dropped_condition"
    INVENTED_URL = "invented_url"


@dataclass(frozen=True, slots=True)
class Corrupted:
    sentence: str
    mutation: Mutation | None
    """None: this request drew a faithful answer."""


def seed_of(texts: Sequence[str]) -> int:
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def corrupt(sentence: str, *, evidence: str, seed: int, rate: float, chinese: bool) -> Corrupted:
    """Corrupt ``sentence`` when the seed draws below ``rate``; otherwise return it as is."""
    if (seed % _SCALE) / _SCALE >= rate:
        return Corrupted(sentence, None)
    choices = [Mutation.INVENTED_URL]
    if _DIGITS.search(sentence):
        choices.append(Mutation.CHANGED_NUMBER)
    if _BUSINESS.search(sentence):
        choices.append(Mutation.DROPPED_CONDITION)
    mutation = choices[(seed // _SCALE) % len(choices)]
    if mutation is Mutation.CHANGED_NUMBER:
        return Corrupted(change_number(sentence, evidence, seed), mutation)
    if mutation is Mutation.DROPPED_CONDITION:
        return Corrupted(drop_condition(sentence), mutation)
    return Corrupted(invent_url(sentence, seed, chinese=chinese), mutation)


def change_number(sentence: str, evidence: str, seed: int) -> str:
    """Replace one number with the nearest larger value that the evidence never mentions."""
    numbers = list(_DIGITS.finditer(sentence))
    target = numbers[(seed >> 40) % len(numbers)]
    known = {int(found) for found in _DIGITS.findall(evidence)}
    value = int(target.group()) + 1
    while value in known:
        value += 1
    return sentence[: target.start()] + str(value) + sentence[target.end() :]


def drop_condition(sentence: str) -> str:
    """Drop the first business-day qualifier: "3–5 business days" -> "3–5 days"."""
    match = _BUSINESS.search(sentence)
    assert match is not None
    plain = match.group(1) or match.group(2) or "天"
    return sentence[: match.start()] + plain + sentence[match.end() :]


def invent_url(sentence: str, seed: int, *, chinese: bool) -> str:
    url = f"https://help.example-shop.com/articles/{seed % 100_000:05d}"
    if chinese:
        return f"{sentence}详情见 {url}。"
    return f"{sentence} Full details: {url}."
