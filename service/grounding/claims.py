"""Checkable claims in an answer or an evidence text, with one language-neutral key each.

A claim is what a customer could act on and a support team could be held to: an amount and its
currency, a duration or day count (ranges included: "5–10 business days", "5-10 个工作日",
"five to ten days" and "五到十天" share one key), a percentage, a date, a time of day, a phone
number, a URL, an e-mail address, an order or ticket number, a policy term ("store credit",
"原路退回") and, failing all of those, any other written number. Two claims with the same key say
the same thing, whatever language or form they were written in.

Matching is linear: the patterns are literal alternations, single character classes and bounded
repeats (nothing can backtrack), the e-mail scanner expands around each '@' at most a fixed
distance, and callers cap the text first (``MAX_TEXT_CHARS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from service.grounding.numbers import (
    EN_NUMBERS,
    english_value,
    fold,
    normalise,
    parse_chinese,
    parse_decimal,
)
from service.grounding.vocabulary import (
    CURRENCY_BEFORE,
    MONTHS,
    RANGE_SEPARATORS,
    TERMS,
    UNITS_AFTER,
    Unit,
    UnitKind,
)

MAX_TEXT_CHARS = 20_000
MAX_LOCAL_PART = 64
MAX_DOMAIN = 253


class ClaimKind(StrEnum):
    AMOUNT = "amount"
    DURATION = "duration"
    PERCENT = "percent"
    DATE = "date"
    TIME = "time"
    PHONE = "phone"
    URL = "url"
    EMAIL = "email"
    IDENTIFIER = "identifier"
    TERM = "term"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class Claim:
    """One checkable statement: where it is, what it says, and its normalised key."""

    kind: ClaimKind
    start: int
    end: int
    text: str
    key: tuple[str, ...]


_URL_START = re.compile(r"https?://|www\.", re.IGNORECASE)
_URL_TAIL = re.compile(r"[^\s<>\"'()\[\]{}，。！？；、（）“”‘’]*")
_URL_TRAILING = ".,;:!?"
# An order, ticket or tracking number: BC-100001, HO-5d0a2ca57d67, TRK1234567890.
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2,5}-?[0-9][0-9A-Za-z]{3,31}(?![A-Za-z0-9])")
_ISO_DATE = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?![0-9])")
_CN_DATE = re.compile(
    r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})月([0-9]{1,2}|[一二三四五六七八九十]{1,3})[日号]"
)
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}[0-9]")
_NUMBER_WORD = "|".join(sorted(EN_NUMBERS, key=len, reverse=True))
# Digits, a run of Chinese numerals, or an English number word ("twenty-four" included).
_NUMBER = re.compile(
    r"[0-9]+(?:[.,:][0-9]+)*|[零〇一二两三四五六七八九十百千万]+"
    rf"|(?<![A-Za-z])(?:{_NUMBER_WORD})(?:-(?:{_NUMBER_WORD}))?(?![A-Za-z])",
    re.IGNORECASE,
)
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_PHONE_MIN_DIGITS = 7


def extract_claims(text: str) -> list[Claim]:
    """Every claim in ``text`` (capped at ``MAX_TEXT_CHARS``), in order of position."""
    folded = fold(text[:MAX_TEXT_CHARS])
    taken: list[Claim] = []
    for finder in (_urls, _emails, _identifiers, _iso_dates, _cn_dates, _phones, _terms):
        taken += [claim for claim in finder(folded) if not _overlaps(claim, taken)]
    taken += _numeric_claims(folded, taken)
    return sorted(taken, key=lambda claim: claim.start)


def _overlaps(claim: Claim, taken: list[Claim]) -> bool:
    return any(claim.start < other.end and other.start < claim.end for other in taken)


def _urls(text: str) -> list[Claim]:
    claims: list[Claim] = []
    for start in _URL_START.finditer(text):
        if claims and start.start() < claims[-1].end:
            continue  # "www." inside "https://www.…"
        tail = _URL_TAIL.match(text, start.end())
        end = tail.end() if tail else start.end()
        while end > start.end() and text[end - 1] in _URL_TRAILING:
            end -= 1
        written = text[start.start() : end]
        key = re.sub(r"^(?:https?://)?(?:www\.)?", "", written.lower()).rstrip("/")
        claims.append(Claim(ClaimKind.URL, start.start(), end, written, ("url", key)))
    return claims


def _emails(text: str) -> list[Claim]:
    claims: list[Claim] = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < MAX_LOCAL_PART and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        end = at + 1
        while end < len(text) and end - at <= MAX_DOMAIN and text[end] in _DOMAIN_CHARS:
            end += 1
        while end > at + 1 and text[end - 1] in ".-":
            end -= 1
        domain = text[at + 1 : end]
        if start < at and "." in domain and not domain.startswith("."):
            written = text[start:end]
            claims.append(Claim(ClaimKind.EMAIL, start, end, written, ("email", written.lower())))
        at = text.find("@", at + 1)
    return claims


def _identifiers(text: str) -> list[Claim]:
    return [
        Claim(ClaimKind.IDENTIFIER, m.start(), m.end(), m.group(), ("identifier", m.group()))
        for m in _IDENTIFIER.finditer(text)
    ]


def _iso_dates(text: str) -> list[Claim]:
    return [
        Claim(ClaimKind.DATE, m.start(), m.end(), m.group(), ("date", *_ints(m.groups())))
        for m in _ISO_DATE.finditer(text)
    ]


def _cn_dates(text: str) -> list[Claim]:
    claims = []
    for match in _CN_DATE.finditer(text):
        month, day = (
            str(int(part)) if part.isdigit() else str(parse_chinese(part))
            for part in match.groups()
        )
        key = ("date", month, day)
        claims.append(Claim(ClaimKind.DATE, match.start(), match.end(), match.group(), key))
    return claims


def _ints(parts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(int(part)) for part in parts)


def _phones(text: str) -> list[Claim]:
    claims = []
    for match in _PHONE.finditer(text):
        digits = "".join(char for char in match.group() if char.isdigit())
        if len(digits) >= _PHONE_MIN_DIGITS:
            claims.append(
                Claim(ClaimKind.PHONE, match.start(), match.end(), match.group(), ("phone", digits))
            )
    return claims


def _terms(text: str) -> list[Claim]:
    lowered = text.lower()
    claims = []
    for match in TERMS.pattern.finditer(lowered):
        concept = TERMS.concepts[match.group()]
        written = text[match.start() : match.end()]
        claims.append(Claim(ClaimKind.TERM, match.start(), match.end(), written, ("term", concept)))
    return claims


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    value: Decimal
    written: bool  # digits (always a claim) rather than a number word (a claim only with a unit)


def _atoms(text: str, taken: list[Claim]) -> list[_Atom]:
    atoms = []
    for match in _NUMBER.finditer(text):
        word = match.group()
        if word[0].isdigit():
            value = parse_decimal(word) if ":" not in word else None
            if value is None and ":" not in word:
                continue
            atom = _Atom(match.start(), match.end(), value or Decimal(-1), True)
        else:
            number = parse_chinese(word) if word[0] >= "\u3400" else english_value(word)
            if number is None:
                continue
            atom = _Atom(match.start(), match.end(), Decimal(number), False)
        probe = Claim(ClaimKind.NUMBER, atom.start, atom.end, word, ())
        if not _overlaps(probe, taken):
            atoms.append(atom)
    return atoms


def _numeric_claims(text: str, taken: list[Claim]) -> list[Claim]:
    """Amounts, durations, percentages, times, dates and bare numbers, ranges joined."""
    atoms = _atoms(text, taken)
    claims: list[Claim] = []
    index = 0
    while index < len(atoms):
        first = last = atoms[index]
        index += 1
        if index < len(atoms) and _is_range(text, first, atoms[index]):
            last = atoms[index]
            index += 1
        claims += _classify(text, first, last)
    return claims


def _is_range(text: str, first: _Atom, second: _Atom) -> bool:
    between = text[first.end : second.start].strip().lower()
    for symbol in CURRENCY_BEFORE:
        between = between.removesuffix(symbol).strip()
    return between in RANGE_SEPARATORS


def _classify(text: str, first: _Atom, last: _Atom) -> list[Claim]:
    if ":" in text[first.start : last.end]:
        return _times(text, first, last)
    unit, unit_end = _unit_after(text, last.end)
    before, start = _currency_before(text, first.start)
    end = max(unit_end, last.end)
    written, values = text[start:end], (normalise(first.value), normalise(last.value))
    if before == "percent" or (unit is not None and unit.kind is UnitKind.PERCENT):
        return [Claim(ClaimKind.PERCENT, start, end, written, ("percent", *values))]
    if before is not None or (unit is not None and unit.kind is UnitKind.AMOUNT):
        code = before or (unit.name if unit else "")
        return [Claim(ClaimKind.AMOUNT, start, end, written, ("amount", code, *values))]
    if unit is not None and unit.kind is UnitKind.TIME:
        return [Claim(ClaimKind.TIME, start, end, written, _clock_key(unit, last.value))]
    if unit is not None:
        return [Claim(ClaimKind.DURATION, start, end, written, ("duration", unit.name, *values))]
    month = _month_before(text, first.start)
    if month is not None and first is last and first.written:
        return [Claim(ClaimKind.DATE, start, end, written, ("date", month, values[0]))]
    if not (first.written and last.written):
        return []  # "one of our agents": a number word without a unit claims nothing
    return [Claim(ClaimKind.NUMBER, start, end, written, ("number", *sorted(set(values))))]


def _clock_key(unit: Unit, value: Decimal) -> tuple[str, ...]:
    hour = int(value) % 12 + (12 if unit.written.startswith("p") else 0)
    return ("time", str(hour if unit.written != "点" else int(value)), "00")


def _times(text: str, first: _Atom, last: _Atom) -> list[Claim]:
    claims = []
    for atom in {first.start: first, last.start: last}.values():
        written = text[atom.start : atom.end]
        hours, _, minutes = written.partition(":")
        key = ("time", str(int(hours)), minutes[:2])
        claims.append(Claim(ClaimKind.TIME, atom.start, atom.end, written, key))
    return claims


def _unit_after(text: str, end: int) -> tuple[Unit | None, int]:
    window = text[end : end + 24]
    stripped = window.lstrip(" ")
    offset = end + len(window) - len(stripped)
    lowered = stripped.lower()
    for unit in UNITS_AFTER:
        if lowered.startswith(unit.written):
            after = offset + len(unit.written)
            if _is_letter(unit.written[-1]) and after < len(text) and _is_letter(text[after]):
                continue  # "days" must not match the start of "daystar"
            return unit, after
    return None, end


def _currency_before(text: str, start: int) -> tuple[str | None, int]:
    """The currency (or 百分之) written just before ``start``, and where it begins."""
    prefix = text[max(0, start - 6) : start]
    trimmed = prefix.rstrip(" ").lower()
    for symbol, code in CURRENCY_BEFORE.items():
        if trimmed.endswith(symbol):
            begins = start - len(prefix) + len(trimmed) - len(symbol)
            if _is_letter(symbol[0]) and begins > 0 and _is_letter(text[begins - 1]):
                continue  # "usd" inside a word
            return code, begins
    return None, start


def _is_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _month_before(text: str, start: int) -> str | None:
    words = text[max(0, start - 12) : start].split()
    return MONTHS.get(words[-1].lower().rstrip(".")) if words else None
