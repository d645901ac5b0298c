"""What the redactor looks for: the rule table, in priority order, and the canary rules.

The rules of each family live beside this module (`secret_patterns`, `markup_patterns`,
`contact_patterns`); their vocabulary (`Rule`, kinds, pattern builders) in `redaction_rule`.
Patterns see folded text (`text_fold`), so full-width forms, odd spaces, dashes, look-alike
letters and invisible characters need no pattern of their own.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from service.pipeline.contact_patterns import cn_id_valid, contact_rules, iban_valid, luhn_valid
from service.pipeline.markup_patterns import ALLOWED_TAGS, markup_rules, sanitize_markup
from service.pipeline.redaction_rule import RedactionKind, Rule, Span, chain, char, trie
from service.pipeline.secret_patterns import secret_rules

__all__ = [
    "ALLOWED_TAGS",
    "BASE_RULES",
    "RedactionKind",
    "Rule",
    "Span",
    "canary_forms",
    "canary_rules",
    "chain",
    "cn_id_valid",
    "iban_valid",
    "luhn_valid",
    "sanitize_markup",
    "trie",
]

# Between the letters of a canary: spaces, punctuation a model might spell it out with.
_CANARY_SEP = r"[ \t\-_.,:;|/\\*·•]{0,3}"


def canary_forms(canary: str) -> tuple[str, ...]:
    """Texts that reveal `canary`: its letters forwards and backwards, and its base64.

    Base64 is taken at each of the three byte alignments, keeping only the characters that
    depend on the canary alone, so the canary is found inside any longer encoded text.
    """
    letters = "".join(ch for ch in canary if ch.isalnum())
    data = canary.encode()
    encoded = []
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + data).decode()
        start = -(-8 * shift // 6)  # the first character made of canary bits only
        encoded.append(text[start : (8 * (shift + len(data))) // 6])
    return (letters, letters[::-1], *encoded)


def _spaced_rule(letters: str) -> Rule:
    """The letters in any case, each optionally after a separator, anywhere (even in a word)."""
    head, rest = char(letters[0], True), letters[1:]
    full = head + "".join(f"{_CANARY_SEP}{char(ch, True)}" for ch in rest)
    # Any start of it, a trailing separator included (a complete one may be held back too).
    pending = (f"{head}{chain(rest, icase=True, sep=_CANARY_SEP)}\\Z",) if rest else ()
    return Rule(RedactionKind.CANARY, full, pending)


def _literal_rule(text: str) -> Rule:
    head, rest = char(text[0]), text[1:]
    pending = (f"{head}{chain(rest[:-1])}\\Z",) if rest else ()
    return Rule(RedactionKind.CANARY, head + "".join(char(ch) for ch in rest), pending)


def canary_rules(canaries: Sequence[str]) -> list[Rule]:
    """Rules for every form of every canary: spelt out (any case, spaced), reversed, base64."""
    rules = []
    for canary in sorted({c for c in canaries if c}, key=len, reverse=True):
        letters, backwards, *encoded = canary_forms(canary)
        if not letters:
            continue
        rules += [_spaced_rule(letters), _spaced_rule(backwards)]
        rules += [_literal_rule(text) for text in encoded if len(text) >= 8]
    return rules


# Priority order: at one position the longest match wins and ties go to the earlier rule.
BASE_RULES = (*secret_rules(), *markup_rules(), *contact_rules())
