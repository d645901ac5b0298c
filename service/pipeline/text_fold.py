"""Folding text for matching: full-width forms, look-alikes, odd spaces and dashes, invisibles.

The redactor matches on a folded copy of the text and writes out the original. Every character
folds to one character or to none, so offsets map back with one list: the folded offsets before
which a character was dropped (`gaps`, usually empty). Folds:

- NFKC, where it gives one ASCII letter, digit or address symbol: full-width forms (`１３８`, `＠`,
  `＋`), circled and superscript digits; other decimal digits (Arabic-Indic, ...) to ASCII;
- Unicode spaces (NBSP, the ideographic space, ...) to a space, Unicode dashes to `-`;
- Cyrillic and Greek letters that look Latin to the Latin letter (for canaries and keys);
- zero-width and other invisible formatting characters are dropped.
"""

from __future__ import annotations

import unicodedata

__all__ = ["FOLD_TABLE", "dropped_offsets", "fold_text"]

_DROPPED = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d"
    "\ufe0e\ufe0f\ufeff\uffa0"
)
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u2028\u2029\u202f\u205f\u3000"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
# Full-width symbols that are part of addresses, numbers and keys. CJK punctuation (，。：（）！)
# stays as it is: it separates text, and `＜` is not markup to a browser.
_SYMBOLS = "@+.-_/=#%&~"
_LOOKALIKES = dict(
    zip(
        "аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅαοιρτυνκχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
        "aeopcyxijshdqwABEKMHOPCTXIJSaoiptuvkxABEZHIKMNOPTYX",
        strict=True,
    )
)


def _fold_char(ch: str) -> str | None:
    """The folded form of one character: one character, or None when it is dropped."""
    if ch in _DROPPED or unicodedata.category(ch) == "Cf":
        return None
    if ch in _SPACES:
        return " "
    if ch in _DASHES:
        return "-"
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    digit = unicodedata.decimal(ch, None)
    if digit is not None:
        return str(digit)
    nfkc = unicodedata.normalize("NFKC", ch)
    if len(nfkc) == 1 and nfkc.isascii() and (nfkc.isalnum() or nfkc in _SYMBOLS):
        return nfkc
    return ch


class _FoldTable(dict[int, "int | None"]):
    """`str.translate` table that folds each character once, on first sight (then a lookup)."""

    def __missing__(self, code: int) -> int | None:
        folded = _fold_char(chr(code))
        value = None if folded is None else ord(folded)
        if len(self) < 65_536:  # bounded: a text of many distinct characters cannot grow it
            self[code] = value
        return value


FOLD_TABLE = _FoldTable()  # `text.translate(FOLD_TABLE)` folds `text` (ASCII folds to itself)


def dropped_offsets(text: str) -> list[int]:
    """The folded offsets of `text` before which a character was dropped."""
    gaps, at = [], 0
    for ch in text:
        if FOLD_TABLE[ord(ch)] is None:
            gaps.append(at)
        else:
            at += 1
    return gaps


def fold_text(text: str) -> tuple[str, list[int]]:
    """`text` folded for matching, and the folded offsets before which a character was dropped."""
    if text.isascii():
        return text, []
    folded = text.translate(FOLD_TABLE)
    return folded, [] if len(folded) == len(text) else dropped_offsets(text)
