"""Model-sized pieces of text and token estimates, without a real tokenizer.

The simulator stands in for an external model, so it deliberately shares no code with Beacon's
own language handling: a bug there must not be mirrored here and cancel out in tests.

Splitting mimics what a BPE tokenizer gives closely enough for streaming tests: an English word
of up to six letters is one piece (with its leading space, as in GPT tokens), longer words are
cut into even pieces of at most four letters, punctuation is its own piece, and runs of Han
characters are cut into pieces of two and one characters in turn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{HAN}]+")
_LATIN_WORD = re.compile(f"[^\\W\\d_{HAN}]+")
# Every character of the input belongs to exactly one match, so the pieces join back to it.
_PIECE = re.compile(f"\\s*(?:[{HAN}]+|[^\\W_{HAN}]+|\\S)|\\s+")

WHOLE_WORD_MAX = 6
WORD_PIECE_MAX = 4
HAN_PIECE_SIZES = (2, 1)
# A Chinese message reads as such when Han characters are at least this share of its words.
ZH_SHARE = 0.3
# Per-message overhead of the chat format (role and separators), as in OpenAI's own estimate.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into the pieces a model would stream; ``"".join`` gives ``text`` back."""
    pieces: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        word = piece.lstrip()
        lead = piece[: len(piece) - len(word)]
        if _HAN_RUN.fullmatch(word):
            pieces += attach_lead(lead, split_han(word))
        elif len(word) > WHOLE_WORD_MAX:
            pieces += attach_lead(lead, split_word(word))
        else:
            pieces.append(piece)
    return pieces


def split_han(run: str) -> list[str]:
    pieces, start, turn = [], 0, 0
    while start < len(run):
        size = HAN_PIECE_SIZES[turn % len(HAN_PIECE_SIZES)]
        pieces.append(run[start : start + size])
        start, turn = start + size, turn + 1
    return pieces


def split_word(word: str) -> list[str]:
    count = math.ceil(len(word) / WORD_PIECE_MAX)
    size = math.ceil(len(word) / count)
    return [word[start : start + size] for start in range(0, len(word), size)]


def attach_lead(lead: str, pieces: list[str]) -> list[str]:
    return [lead + pieces[0], *pieces[1:]] if lead else pieces


def estimate_tokens(text: str) -> int:
    """Estimate tokens as one per Han character plus ceil(other characters / 4)."""
    han = sum(len(run) for run in _HAN_RUN.findall(text))
    return han + math.ceil((len(text) - han) / 4)


def estimate_prompt_tokens(texts: Iterable[str]) -> int:
    """Estimate ``usage.prompt_tokens`` for a conversation whose message texts are ``texts``."""
    return TOKENS_PER_REPLY + sum(TOKENS_PER_MESSAGE + estimate_tokens(text) for text in texts)


def is_chinese(text: str) -> bool:
    """Return True when Han characters make up a meaningful share of ``text``'s words."""
    han = sum(len(run) for run in _HAN_RUN.findall(text))
    if han == 0:
        return False
    return han / (han + len(_LATIN_WORD.findall(text))) >= ZH_SHARE
