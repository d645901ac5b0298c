"""Judge an answer against its evidence: each claim supported or not, each sentence scored.

A claim is supported when a claim with the same key appears in the evidence (the cited KB
entries, a tool result, the customer's own message); a bare number is supported when that value
appears in the evidence at all. Sentences without claims get a support score instead: the share
of their content words (English words, Chinese character pairs) found in the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from service.grounding.claims import MAX_TEXT_CHARS, Claim, ClaimKind, extract_claims
from service.grounding.numbers import fold

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")
_CONTENT = re.compile(r"[a-z]{3,}|[\u3400-\u4dbf\u4e00-\u9fff]+")
_NUMERIC_KINDS = frozenset(
    {ClaimKind.AMOUNT, ClaimKind.DURATION, ClaimKind.PERCENT, ClaimKind.NUMBER}
)


@dataclass(frozen=True, slots=True)
class EvidenceIndex:
    """What a set of evidence texts says, keyed for claim lookups."""

    keys: frozenset[tuple[str, ...]]
    numbers: frozenset[str]
    words: frozenset[str]

    def supports(self, claim: Claim) -> bool:
        if claim.key in self.keys:
            return True
        if claim.kind is ClaimKind.NUMBER:
            return all(value in self.numbers for value in claim.key[1:])
        return False


def index_evidence(texts: Iterable[str]) -> EvidenceIndex:
    """Index ``texts`` (each capped at ``MAX_TEXT_CHARS``) for ``supports`` and scores."""
    keys: set[tuple[str, ...]] = set()
    numbers: set[str] = set()
    words: set[str] = set()
    for text in texts:
        for claim in extract_claims(text):
            keys.add(claim.key)
            if claim.kind in _NUMERIC_KINDS:
                numbers.update(claim.key[-2:])
            elif claim.kind in (ClaimKind.TIME, ClaimKind.DATE):
                numbers.update(str(int(part)) for part in claim.key[1:] if part.isdigit())
        words.update(content_units(text[:MAX_TEXT_CHARS]))
    return EvidenceIndex(frozenset(keys), frozenset(numbers), frozenset(words))


def merge_indexes(indexes: Iterable[EvidenceIndex]) -> EvidenceIndex:
    """One index that supports what any of ``indexes`` supports."""
    keys: set[tuple[str, ...]] = set()
    numbers: set[str] = set()
    words: set[str] = set()
    for index in indexes:
        keys |= index.keys
        numbers |= index.numbers
        words |= index.words
    return EvidenceIndex(frozenset(keys), frozenset(numbers), frozenset(words))


def content_units(text: str) -> set[str]:
    """English words of three letters or more, and Chinese character pairs."""
    units: set[str] = set()
    for match in _CONTENT.finditer(fold(text).lower()):
        run = match.group()
        if run[0].isascii():
            units.add(run)
        else:
            units.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return units


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence; the end includes its punctuation."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    claim: Claim
    supported: bool


@dataclass(frozen=True, slots=True)
class SentenceSupport:
    start: int
    end: int
    score: float
    """Share of the sentence's content words found in the evidence (1.0 when it has none)."""


@dataclass(frozen=True, slots=True)
class GroundingReport:
    verdicts: tuple[ClaimVerdict, ...]
    sentences: tuple[SentenceSupport, ...]

    @property
    def unsupported(self) -> list[Claim]:
        return [verdict.claim for verdict in self.verdicts if not verdict.supported]

    @property
    def grounded(self) -> bool:
        """Every claim is supported."""
        return all(verdict.supported for verdict in self.verdicts)


def check_answer(answer: str, evidence: Sequence[str]) -> GroundingReport:
    """Judge every claim and sentence of ``answer`` (capped) against ``evidence``."""
    return check_with_index(answer, index_evidence(evidence))


def check_with_index(answer: str, index: EvidenceIndex) -> GroundingReport:
    text = answer[:MAX_TEXT_CHARS]
    verdicts = tuple(ClaimVerdict(claim, index.supports(claim)) for claim in extract_claims(text))
    sentences = tuple(
        SentenceSupport(start, end, support_score(text[start:end], index))
        for start, end in split_sentences(text)
    )
    return GroundingReport(verdicts, sentences)


def support_score(sentence: str, index: EvidenceIndex) -> float:
    units = content_units(sentence)
    if not units:
        return 1.0
    return round(len(units & index.words) / len(units), 4)
