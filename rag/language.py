"""Language detection, text normalisation and tokenisation shared by every retrieval signal.

Beacon serves Chinese and English, and customers mix them ("我的 order 怎么 cancel"). The
helpers here are cheap: they run on every query. Chinese words come from ``rjieba`` (jieba-rs:
its dictionary is compiled into the wheel, nothing is downloaded; about 1 µs per short run).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import rjieba

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

# Han ideographs (URO, extension A, compatibility). Kana and Hangul are not Chinese.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
# A token is a run of Han characters or a run of other letters/digits (never crossing into Han).
_TOKEN = re.compile(f"[{_HAN}]+|[^\\W_{_HAN}]+")
_LATIN_WORD = re.compile(f"[^\\W\\d_{_HAN}]+")
# Zero-width and invisible formatting characters that survive NFKC and break matching.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\ufeff"))

# One Han character carries roughly as much as a short word; a question whose Han characters
# are at least this share of (Han characters + other words) reads as Chinese.
ZH_SHARE = 0.3


def normalize_text(text: str) -> str:
    """Return the canonical form of ``text`` for matching and caching.

    NFKC folds full-width forms ("ＡＢＣ１２３" → "abc123"), casefold lowers (also "ß" → "ss"),
    invisible characters are dropped and whitespace runs become one space. Idempotent.
    """
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).casefold()
    # casefold can decompose ("ǰ" becomes j + U+030C); a second NFKC keeps the output NFKC-normal.
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return " ".join(text.split())


def detect_language(text: str) -> Lang:
    """Return "zh" when Han characters make up a meaningful share of ``text``, else "en"."""
    han = sum(len(run) for run in _HAN_RUN.findall(text))
    if han == 0:
        return "en"
    words = len(_LATIN_WORD.findall(text))
    return "zh" if han / (han + words) >= ZH_SHARE else "en"


def is_han(token: str) -> bool:
    """Return True when ``token`` (a token from :func:`tokenize`) is a run of Han characters."""
    return bool(_HAN_RUN.fullmatch(token))


def tokenize(normalized: str) -> list[str]:
    """Split already-normalised text into Han runs and latin/digit words, dropping punctuation."""
    return _TOKEN.findall(normalized)


# A run of this many digits or more is an identifier (an order, phone or card number): it tells
# nothing about what is asked, and as an unseen word it would dilute every match.
IDENTIFIER_DIGITS = 5


def content_tokens(normalized: str) -> list[str]:
    """The tokens of already-normalised text that carry meaning: identifiers left out."""
    return [
        token
        for token in _TOKEN.findall(normalized)
        if not (len(token) >= IDENTIFIER_DIGITS and token.isdigit())
    ]


def han_words(run: str) -> list[str]:
    """The words of a run of Han characters ("退货要在多少天之内" → 退货 要 在 多少 天 之内)."""
    return rjieba.cut(run)
