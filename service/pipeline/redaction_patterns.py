"""What the redactor looks for: the kinds, their validators and the rule table.

Each `Rule` has a *full* pattern (a candidate; a validator such as Luhn may still reject it) and
*pending* patterns: an over-approximation of "the full pattern, tried here, would read past the end
of the text so far". `redaction_scanner` uses them to decide how much of a stream to hold back.
A pending pattern may over-approximate (a longer hold-back, never a different result) but must
never miss a case; the streaming property tests guard that.

Every pattern starts with a one-character token (a literal or a class) and puts its lookbehind
right after it, as `(?<!X.)`: in the scanner's combined alternation a rule is then skipped with a
single character test, which is what keeps a typical chunk at a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class RedactionKind(StrEnum):
    """What was redacted; the values are the `kind` label of `beacon_redactions_total`."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    CN_ID = "cn_id"
    SECRET = "secret"
    CANARY = "canary"
    MARKUP = "markup"


class Span(NamedTuple):
    """End of a match, and the part of it that the placeholder replaces."""

    end: int
    value_start: int
    value_end: int


Extract = Callable[["re.Match[str]"], Span | None]


def _whole(m: re.Match[str]) -> Span:
    return Span(m.end(), m.start(), m.end())


def _value_group(m: re.Match[str]) -> Span:
    return Span(m.end(), m.start("value"), m.end("value"))


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of decimal digits (any script)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id_valid(number: str) -> bool:
    """GB 11643 check character of an 18-character resident ID."""
    total = sum(int(ch) * w for ch, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


_CARD_INDUSTRIES = frozenset({2, 3, 4, 5, 6, 9})  # ISO 7812 major industry ids of bank cards


def _card(m: re.Match[str]) -> Span | None:
    # The longest run of whole digit groups with 13-19 digits, a bank card's first digit and a
    # valid Luhn sum: "<card> 2023" is still a card; a non-Luhn run, or an order number starting
    # with 1, 7 or 8 (Luhn-valid ones are common), is not.
    groups = list(re.finditer(r"\d+", m.group()))
    if int(m.group()[0]) not in _CARD_INDUSTRIES:
        return None
    for n in range(len(groups), 0, -1):
        digits = "".join(g.group() for g in groups[:n])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            end = m.start() + groups[n - 1].end()
            return Span(end, m.start(), end)
    return None


def _cn_id(m: re.Match[str]) -> Span | None:
    return _whole(m) if cn_id_valid(m.group()) else None


def _assignment(m: re.Match[str]) -> Span | None:
    # "password: Settings" is prose; a secret has a digit or a symbol, or is long.
    value = m.group("value")
    secretish = len(value) >= 16 or not value.isalpha()
    return _value_group(m) if secretish else None


def _char(ch: str, icase: bool) -> str:
    if icase and ch.lower() != ch.upper():
        return f"[{re.escape(ch.upper())}{re.escape(ch.lower())}]"
    return re.escape(ch)


def chain(word: str, tail: str = "", *, icase: bool = False) -> str:
    """A regex for any prefix of `word` (the empty one too), or `word` then `tail`."""
    inner = f"(?:{tail})?" if tail else ""
    for ch in reversed(word):
        inner = f"(?:{_char(ch, icase)}{inner})?"
    return inner


def trie(words: Iterable[str], *, icase: bool = False) -> str:
    """A regex for any prefix of any of `words` (the empty one too)."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch.lower() if icase else ch, {})

    def render(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        alts = sorted(_char(ch, icase) + render(child) for ch, child in node.items())
        return f"(?:{'|'.join(alts)})?" if alts else ""

    return render(root)


@dataclass(frozen=True, slots=True)
class Rule:
    """One way a kind shows up in text; `until` makes it an element dropped up to a terminator."""

    kind: RedactionKind
    full: str
    pending: tuple[str, ...] = ()
    extract: Extract = _whole
    until: str | None = None  # the element ends at this terminator, or at the end of the text
    until_pending: str | None = None  # a terminator that has only partly arrived


_TOKEN = r"A-Za-z0-9\-._~+/"  # a bearer token
_VALUE = r"A-Za-z0-9!#$%&*+\-./=?@^_|~"  # an assigned secret value
_KEYS = (
    "api_key", "api-key", "apikey", "api_secret", "access_token", "access-token", "auth_token",
    "secret_key", "secret-key", "secret", "client_secret", "refresh_token", "token",
    "password", "passwd", "pwd", "密码", "密钥", "口令",
)  # fmt: skip


def _assignment_rules() -> list[Rule]:
    """`password = hunter22`, `api_key: ...`, `密码：...`: one rule per first character."""
    by_first: dict[str, list[str]] = {}
    for key in _KEYS:
        by_first.setdefault(key[0], []).append(key[1:])
    rules = []
    for first, rests in by_first.items():
        head = f"{_char(first, True)}(?<![A-Za-z0-9_].)"
        key = "(?i:" + "|".join(re.escape(r) for r in sorted(rests, key=len, reverse=True)) + ")"
        rules.append(
            Rule(
                RedactionKind.SECRET,
                rf"{head}{key}[\"']?[ \t]{{0,3}}[=:：][ \t]{{0,3}}[\"']?"
                rf"(?P<value>[{_VALUE}]{{6,200}})(?![{_VALUE}])",
                (
                    rf"{head}{trie(rests, icase=True)}\Z",
                    rf"{head}{key}[\"']?[ \t]{{0,3}}"
                    rf"(?:[=:：][ \t]{{0,3}}[\"']?[{_VALUE}]{{0,210}})?\Z",
                ),
                _assignment,
            )
        )
    return rules


def _secret_rules() -> list[Rule]:
    bearer_tail = rf"[ \t]{{1,4}}[{_TOKEN}=]{{0,2100}}"
    return [
        Rule(
            RedactionKind.SECRET,
            r"s(?<![A-Za-z0-9_\-].)k-[A-Za-z0-9_\-]{20,250}+(?![A-Za-z0-9_\-])",
            (r"s(?<![A-Za-z0-9_\-].)(?:k(?:-[A-Za-z0-9_\-]{0,250}+)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"[sr](?<![A-Za-z0-9_].)k_(?:live|test)_[A-Za-z0-9]{16,250}(?![A-Za-z0-9])",
            (r"[sr](?<![A-Za-z0-9_].)(?:k(?:_[a-z]{0,4}(?:_[A-Za-z0-9]{0,250})?)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"A(?<![A-Za-z0-9].)[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])",
            (r"A(?<![A-Za-z0-9].)(?:[KS](?:I(?:A[0-9A-Z]{0,16})?)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"g(?<![A-Za-z0-9_].)(?:h[pousr]_[A-Za-z0-9]{30,255}|ithub_pat_[A-Za-z0-9_]{30,255})"
            r"(?![A-Za-z0-9_])",
            (
                r"g(?<![A-Za-z0-9_].)(?:h(?:[pousr](?:_[A-Za-z0-9]{0,255})?)?)?\Z",
                rf"g(?<![A-Za-z0-9_].){chain('ithub_pat_', '[A-Za-z0-9_]{1,255}')}\Z",
            ),
        ),
        Rule(
            RedactionKind.SECRET,
            rf"[Bb](?<![A-Za-z0-9_].)(?i:earer)[ \t]{{1,4}}"
            rf"(?P<value>[{_TOKEN}]{{16,2048}}={{0,3}})(?![{_TOKEN}=])",
            (rf"[Bb](?<![A-Za-z0-9_].){chain('earer', bearer_tail, icase=True)}\Z",),
            _value_group,
        ),
        *_assignment_rules(),
    ]


def _markup_rules() -> list[Rule]:
    js_tail = r"[ \t]{1,3}"
    tag_end = r">|(?=<)"  # an opening tag ends at '>', or where the next tag starts
    space = r"[ \t\r\n]"
    name_end = r"(?![A-Za-z0-9_:\-])"
    return [
        Rule(
            RedactionKind.MARKUP,
            rf"<(?i:script){name_end}",
            (r"<(?:[A-Za-z][^<>]{0,640}+)?\Z",),  # any unfinished tag: covers the tag rules below
            until=rf"<(?i:/script){space}{{0,16}}>",
            until_pending=rf"<{chain('/script', space + '{1,16}', icase=True)}\Z",
        ),
        Rule(RedactionKind.MARKUP, rf"<(?i:iframe){name_end}", until=tag_end),
        Rule(
            RedactionKind.MARKUP,
            rf"<(?i:img){name_end}[^<>]{{0,512}}?[ \t\r\n/\"'](?i:src){space}{{0,4}}="
            rf"{space}{{0,4}}[\"']?{space}{{0,4}}(?i:(?:https?:)?//)",
            until=tag_end,
        ),
        Rule(  # any tag with an event-handler attribute (onerror=, onclick=, ...)
            RedactionKind.MARKUP,
            rf"<[A-Za-z][A-Za-z0-9\-]{{0,30}}(?![A-Za-z0-9\-])[^<>]{{0,512}}?[ \t\r\n/\"']"
            rf"(?i:on[a-z]{{2,30}}){space}{{0,4}}=",
            until=tag_end,
        ),
        Rule(
            RedactionKind.MARKUP,
            r"[Jj](?<![A-Za-z0-9].)(?i:avascript)[ \t]{0,3}:",
            (rf"[Jj](?<![A-Za-z0-9].){chain('avascript', js_tail, icase=True)}\Z",),
        ),
        Rule(  # a remote image is fetched by the client: an exfiltration channel
            RedactionKind.MARKUP,
            r"!\[[^\]\n]{0,256}\]\([ \t]{0,4}<?[ \t]{0,4}(?i:(?:https?:)?//)",
            (r"!(?:\[[^\]\n]{0,256}(?:\](?:\([ \t<]{0,9}[A-Za-z:/]{0,7})?)?)?\Z",),
            until=r"\)|(?=\n)",
        ),
    ]


_LOCAL = r"A-Za-z0-9._%+\-"  # an email's local part
# Every numeric rule reads at most 64 characters of digits and separators: hold such a tail.
_NUMBER_PENDING = (r"\d(?<!\d.)[\d .\-()Xx]{0,64}+\Z", r"\+(?<![\d+].)[\d .\-()]{0,64}+\Z")


def _contact_rules() -> list[Rule]:
    return [
        Rule(
            RedactionKind.EMAIL,
            rf"[{_LOCAL}](?<![{_LOCAL}].)[{_LOCAL}]{{0,63}}+@(?:[A-Za-z0-9\-]{{1,63}}\.){{1,8}}"
            r"[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])",
            (rf"[{_LOCAL}](?<![{_LOCAL}].)[{_LOCAL}]{{0,63}}+(?:@[A-Za-z0-9.\-]{{0,600}}+)?\Z",),
        ),
        Rule(RedactionKind.CN_ID, r"\d(?<!\d.)\d{16}[\dXx](?![\dXx])", _NUMBER_PENDING, _cn_id),
        Rule(  # Chinese mobile, 3-4-4, optionally after 86 / 0086
            RedactionKind.PHONE,
            r"[018](?<![\d+].)(?:(?<=0)086[ \-]?1|(?<=8)6[ \-]?1|(?<=1))[3-9]\d"
            r"(?:[ \-]?\d{4}){2}(?!\d)",
        ),
        Rule(  # E.164: + and 8-15 digits, with spaces, dots, dashes or parentheses between
            RedactionKind.PHONE,
            r"\+(?<![\d+].)\(?\d(?:\)?[ .\-]?\(?\d){7,14}(?!\)?[ .\-]?\(?\d)",
        ),
        Rule(RedactionKind.CARD, r"\d(?<!\d.)\d{12,18}(?!\d)", extract=_card),
        Rule(RedactionKind.CARD, r"\d(?<!\d.)\d{3}(?:[ \-]\d{3,6}){2,5}(?!\d)", extract=_card),
        Rule(RedactionKind.CARD, r"\d(?<!\d.)(?:[ \-]\d){12,18}(?![ \-]\d)", extract=_card),
    ]


def canary_rules(canaries: Sequence[str]) -> list[Rule]:
    """One rule per canary: exact text, any letter case, anywhere (even inside a word)."""
    rules = []
    for word in sorted({c.lower() for c in canaries if c}, key=len, reverse=True):
        head, rest = _char(word[0], True), word[1:]
        full = f"{head}(?i:{re.escape(rest)})" if rest else head
        pending = (f"{head}{chain(rest[:-1], icase=True)}\\Z",) if rest else ()
        rules.append(Rule(RedactionKind.CANARY, full, pending))
    return rules


# Priority order: at one position the longest match wins and ties go to the earlier rule.
BASE_RULES = (*_secret_rules(), *_markup_rules(), *_contact_rules())
