"""The vocabulary of redaction rules: kinds, `Rule`, match spans and pattern builders.

Each `Rule` has a *full* pattern (a candidate; a validator such as Luhn may still reject it) and
*pending* patterns: an over-approximation of "the full pattern, tried here, would read past the end
of the text so far". `redaction_scanner` uses them to decide how much of a stream to hold back.
A pending pattern may over-approximate (a longer hold-back, never a different result) but must
never miss a case; the streaming property tests guard that.

Every pattern starts with a one-character token (a literal or a class) and puts its lookbehind
right after it, as `(?<!X.)`: in the scanner's combined alternation a rule is then skipped with a
single character test, which is what keeps a typical chunk at a few microseconds. Every quantifier
is bounded, so a match attempt reads a bounded window: the backtracking engine stays linear in
the text (RE2 would guarantee it, but has no lookbehind, possessive quantifier or `\\Z` at a
position, which the streaming scanner is built on; `tests/safety/test_redos.py` checks both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class RedactionKind(StrEnum):
    """What was redacted; the values are the `kind` label of `beacon_redactions_total`."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    CN_ID = "cn_id"
    IBAN = "iban"
    SSN = "ssn"
    IP_ADDRESS = "ip_address"
    SECRET = "secret"
    CANARY = "canary"
    MARKUP = "markup"


class Span(NamedTuple):
    """End of a match, and the part of it that the placeholder replaces."""

    end: int
    value_start: int
    value_end: int


Extract = Callable[["re.Match[str]"], Span | None]


def whole(m: re.Match[str]) -> Span:
    return Span(m.end(), m.start(), m.end())


def value_group(m: re.Match[str]) -> Span:
    return Span(m.end(), m.start("value"), m.end("value"))


@dataclass(frozen=True, slots=True)
class Rule:
    """One way a kind shows up in text; `until` makes it an element dropped up to a terminator."""

    kind: RedactionKind
    full: str
    pending: tuple[str, ...] = ()
    extract: Extract = whole
    until: str | None = None  # the element ends at this terminator, or at the end of the text
    until_pending: str | None = None  # a terminator that has only partly arrived


def char(ch: str, icase: bool = False) -> str:
    """A regex for one character (both letter cases with `icase`)."""
    if icase and ch.lower() != ch.upper():
        return f"[{re.escape(ch.upper())}{re.escape(ch.lower())}]"
    return re.escape(ch)


def chain(word: str, tail: str = "", *, icase: bool = False, sep: str = "") -> str:
    """A regex for any prefix of `word` (the empty one too), or `word` then `tail`.

    With `sep`, each character may be preceded by a separator (`sep` is a bounded regex).
    """
    inner = f"(?:{tail})?" if tail else ""
    for ch in reversed(word):
        inner = (
            f"(?:{sep}(?:{char(ch, icase)}{inner})?)?" if sep else f"(?:{char(ch, icase)}{inner})?"
        )
    return inner


def trie(words: Iterable[str], *, icase: bool = False) -> str:
    """A regex for any prefix of any of `words` (the empty one too)."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch.lower() if icase else ch, {})

    def render(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        alts = sorted(char(ch, icase) + render(child) for ch, child in node.items())
        return f"(?:{'|'.join(alts)})?" if alts else ""

    return render(root)
