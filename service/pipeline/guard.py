"""The input guard: prompt-injection, extraction and smuggling signals, in Chinese and English.

Pure functions, no I/O. `inspect_question` normalises the question (invisible characters removed,
NFKC, Cyrillic/Greek look-alikes inside Latin text folded), looks for signals and decides:

- a strong signal (overriding the instructions, extracting the prompt, a secret or other users'
  data, a jailbreak "mode", an injection hidden in an encoded blob, an oversized question) ->
  refuse;
- one kind of weak or ambiguous signal (role play, invisible characters, homoglyphs, an encoded
  blob, embedded HTML, heavy repetition, asking about a named third party) -> conservative, two
  different kinds -> refuse;
- otherwise allow. PII is only noted (`pii_kinds`), so that logs can say so.

The phrase patterns live in `guard_phrases`.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby
from typing import TYPE_CHECKING

from service.errors import InputRejected
from service.pipeline.guard_phrases import CASED_PHRASES, PHRASES, GuardSignal
from service.pipeline.redact import RedactionKind, RedactionPolicy, redact_text

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.schemas import AskRequest

__all__ = ["GuardAction", "GuardSignal", "GuardVerdict", "inspect_question", "screen_question"]


class GuardAction(StrEnum):
    ALLOW = "allow"
    CONSERVATIVE = "conservative"  # answer with the conservative prompt
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    action: GuardAction
    signals: tuple[str, ...]
    pii_kinds: tuple[RedactionKind, ...]
    normalized: str  # after invisible-character removal, NFKC and homoglyph folding


S = GuardSignal
_EMOJI_JOINER = re.compile("(?<=[\u2600-\u27bf\U0001f000-\U0001faff])[\u200d\ufe0f]|^\ufeff")
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_TAGS = re.compile("[\U000e0020-\U000e007e]+")  # "ASCII smuggling": invisible copies of ASCII
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅαοιρτυνκχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijshdqwABEKMHOPCTXIJSaoiptuvkxABEZHIKMNOPTYX",
)
_FOREIGN_LOOKALIKE = re.compile("[аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅαοιρτυνκχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ]")
_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC_GREEK = re.compile("[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]")
_QUOTES = str.maketrans("‘’‛“”„", "'''\"\"\"")

_BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[ :]?){16,}")
_BINARY = re.compile(r"(?:[01]{8} ?){4,}")
_MORSE = re.compile(r"(?:[.\-]{1,6} +(?:/ +)?){6,}[.\-]{1,6}")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_VOWEL = re.compile("[aeiouyAEIOUY]")
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ROTATED = [_LOWER[n:] + _LOWER[:n] for n in range(1, 26)]
_CAESAR = [str.maketrans(_LOWER + _LOWER.upper(), r + r.upper()) for r in _ROTATED]
_TOKENS = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")
_CHAR_RUN = re.compile(r"(.)\1{15,}")

_PII_KINDS = (RedactionKind.EMAIL, RedactionKind.PHONE, RedactionKind.CARD, RedactionKind.CN_ID)


def inspect_question(text: str, *, max_chars: int = 2000, policy: RedactionPolicy) -> GuardVerdict:
    """Look for injection, extraction and smuggling signals in a customer's question."""
    visible, invisible, hidden = _strip_invisible(text)
    normalized, folded = _fold_homoglyphs(unicodedata.normalize("NFKC", visible))
    strong, weak = _phrase_signals(normalized)
    weak |= _shape_signals(invisible=invisible, folded=folded, text=normalized)
    if len(text) > max_chars:
        strong.add(S.OVERSIZED)
    decoded, blob = _decoded_payloads(normalized)
    if blob:
        weak.add(S.ENCODED_PAYLOAD)
    for part in (*hidden, *decoded):
        found_strong, found_weak = _phrase_signals(part)
        hidden_signals = (found_strong | found_weak) - strong - weak
        if hidden_signals:  # an instruction hidden from a human reader
            strong |= hidden_signals | {S.ENCODED_PAYLOAD}
    pii = _pii_kinds(normalized, policy)
    signals = strong | weak | ({S.PII} if pii else set())
    return GuardVerdict(
        action=_decide(strong, weak - strong),
        signals=tuple(s.value for s in GuardSignal if s in signals),
        pii_kinds=pii,
        normalized=normalized,
    )


def _decide(strong: set[GuardSignal], weak: set[GuardSignal]) -> GuardAction:
    if strong or len(weak) >= 2:
        return GuardAction.REFUSE
    return GuardAction.CONSERVATIVE if weak else GuardAction.ALLOW


def _phrase_signals(text: str) -> tuple[set[GuardSignal], set[GuardSignal]]:
    """(strong, weak) signals of the phrase patterns."""
    lowered = " ".join(text.translate(_QUOTES).split()).lower()
    strong: set[GuardSignal] = set()
    weak: set[GuardSignal] = set()
    for phrases, subject in ((PHRASES, lowered), (CASED_PHRASES, text)):
        for phrase in phrases:
            if phrase.pattern.search(subject):
                (strong if phrase.strong else weak).add(phrase.signal)
    return strong, weak


def _shape_signals(*, invisible: bool, folded: bool, text: str) -> set[GuardSignal]:
    """Signals from how the question is written rather than what it says."""
    shapes = {S.INVISIBLE_CHARS: invisible, S.HOMOGLYPHS: folded}
    shapes[S.REPETITIVE] = _is_repetitive(text.lower())
    return {signal for signal, present in shapes.items() if present}


def _strip_invisible(text: str) -> tuple[str, bool, list[str]]:
    """Drop invisible characters; say if there were any and return ASCII hidden in tags.

    Joiners and variation selectors inside emoji sequences are removed without counting.
    """
    hidden = ["".join(chr(ord(ch) - 0xE0000) for ch in run.group()) for run in _TAGS.finditer(text)]
    text = _EMOJI_JOINER.sub("", text)
    return _INVISIBLE.sub("", text), _INVISIBLE.search(text) is not None, hidden


def _fold_homoglyphs(text: str) -> tuple[str, bool]:
    """Fold Cyrillic/Greek look-alikes in Latin words (or all-look-alike words in Latin text)."""
    latin_text = len(_LATIN.findall(text)) > len(_CYRILLIC_GREEK.findall(text))
    folded = False

    def fold(m: re.Match[str]) -> str:
        nonlocal folded
        word = m.group()
        if not _FOREIGN_LOOKALIKE.search(word):
            return word
        mixed = _LATIN.search(word) is not None
        if mixed or (latin_text and not _CYRILLIC_GREEK.search(word.translate(_LOOKALIKES))):
            folded = True
            return word.translate(_LOOKALIKES)
        return word

    return _WORD.sub(fold, text), folded


def _decoded_payloads(text: str) -> tuple[list[str], bool]:
    """Texts decoded from Base64, hex, binary or a Caesar shift, and whether a blob was seen."""
    decoded: list[str] = []
    blob_found = _MORSE.search(text) is not None or _looks_pig_latin(text)
    for pattern, decode in ((_BASE64, _from_base64), (_HEX, _from_hex), (_BINARY, _from_binary)):
        for blob in pattern.findall(text):
            plain = decode(blob)
            if plain is not None:
                decoded.append(plain)
            mixed = re.search(r"\d", blob) and re.search(r"[A-Za-z]", blob)
            blob_found |= plain is not None or (len(blob) >= 40 and bool(mixed))
    if _looks_shifted(text):
        blob_found = True
        decoded += (text.translate(shift) for shift in _CAESAR)
    return decoded, blob_found


def _looks_shifted(text: str) -> bool:
    """Many vowel-less words: a Caesar or ROT shift of English (whose shifts are then scanned)."""
    words = _LATIN_WORD.findall(text)
    return len(words) >= 5 and sum(not _VOWEL.search(w) for w in words) >= 0.3 * len(words)


def _looks_pig_latin(text: str) -> bool:
    words = _LATIN_WORD.findall(text.lower())
    return len(words) >= 4 and sum(w.endswith("ay") for w in words) >= 0.6 * len(words)


def _printable(data: bytes) -> str | None:
    try:
        plain = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in plain)
    return plain if len(plain) >= 12 and letters >= 0.8 * len(plain) else None


def _from_base64(blob: str) -> str | None:
    try:
        return _printable(base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True))
    except (binascii.Error, ValueError):
        return None


def _from_hex(blob: str) -> str | None:
    try:
        return _printable(bytes.fromhex(re.sub(r"[ :]", "", blob)))
    except ValueError:
        return None


def _from_binary(blob: str) -> str | None:
    return _printable(bytes(int(octet, 2) for octet in re.findall("[01]{8}", blob)))


def _is_repetitive(lowered: str) -> bool:
    """The same token or character over and over: a divergence attack, not a question."""
    if _CHAR_RUN.search(lowered):
        return True
    tokens = _TOKENS.findall(lowered)
    if len(tokens) < 10:
        return False
    top_count = Counter(tokens).most_common(1)[0][1]
    longest_run = max(len(list(run)) for _, run in groupby(tokens))
    return (
        longest_run >= 8
        or (top_count >= 8 and top_count >= 0.5 * len(tokens))
        or (len(tokens) >= 20 and len(set(tokens)) < 0.25 * len(tokens))
    )


def _pii_kinds(text: str, policy: RedactionPolicy) -> tuple[RedactionKind, ...]:
    counts = redact_text(text, policy).counts
    return tuple(kind for kind in (*_PII_KINDS, RedactionKind.SECRET) if counts.get(kind))


async def screen_question(ask: AskRequest, context: AskContext) -> GuardVerdict:
    """Step: the input guard; a refusal raises ``InputRejected`` before anything else runs."""
    services = context.services
    with context.span("beacon.guard") as span:
        verdict = inspect_question(
            ask.question, max_chars=services.config.max_question_chars, policy=services.policy
        )
        span.set_attribute("beacon.guard.action", verdict.action.value)
        span.set_attribute("beacon.guard.signals", list(verdict.signals))
    if verdict.action is GuardAction.REFUSE:
        raise InputRejected(signals=verdict.signals)
    return verdict
