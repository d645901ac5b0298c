"""Faithfulness: is every checkable claim a customer was told supported by the evidence cited?

The eval checks what the client received, independently of any guard in the service: each
answer's claims (amounts, durations, percentages, dates, times, phone numbers, URLs, e-mail
addresses, order numbers, policy terms, numbers) against the cited KB entries, in both
languages, the customer's own question and the handoff ticket the service issued. An answer is
*checked* when it is an answer (no error, no refusal, some text) whose citations all resolve to
KB entries; a tool result (``order:…``) is not visible to the client, so those answers are left
unchecked and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.harness.cases import Case
from evals.harness.client import Observation
from evals.harness.grading import CaseResult
from rag.knowledge import load_knowledge_base
from service.grounding.check import check_answer

WORST_UNFAITHFUL = 10


@dataclass(frozen=True, slots=True)
class AnswerGrounding:
    """The grounding verdict of one attempt."""

    claims: int
    unsupported: tuple[str, ...]
    """``kind: text`` of each unsupported claim."""

    @property
    def faithful(self) -> bool:
        return not self.unsupported

    def to_json(self) -> dict[str, Any]:
        return {"claims": self.claims, "unsupported": list(self.unsupported)}


class EvidenceLibrary:
    """The answer texts of a knowledge base, both languages, by entry id."""

    def __init__(self, texts: Mapping[str, Sequence[str]]) -> None:
        self._texts = texts

    @classmethod
    def from_kb_dir(cls, kb_dir: Path) -> EvidenceLibrary:
        kb = load_knowledge_base(kb_dir)
        return cls({entry.id: tuple(entry.answer.values()) for entry in kb.entries})

    def evidence_for(self, entry_ids: Iterable[str]) -> list[str] | None:
        """The texts of every entry, or None when one is not in this library."""
        texts: list[str] = []
        for entry_id in entry_ids:
            if entry_id not in self._texts:
                return None
            texts += self._texts[entry_id]
        return texts


def judge(case: Case, seen: Observation, library: EvidenceLibrary) -> AnswerGrounding | None:
    """The attempt's verdict, or None when it is not a checkable answer."""
    if seen.error is not None or seen.refused or not seen.answer.strip() or not seen.citations:
        return None
    evidence = library.evidence_for(entry for entry, _ in seen.citations)
    if evidence is None:
        return None
    report = check_answer(seen.answer, [*evidence, case.question, seen.ticket_id])
    unsupported = tuple(f"{claim.kind}: {claim.text}" for claim in report.unsupported)
    return AnswerGrounding(claims=len(report.verdicts), unsupported=unsupported)


def annotate(results: Sequence[CaseResult], library: EvidenceLibrary) -> None:
    """Judge every attempt of every case and keep the verdict on its observation."""
    for result in results:
        for seen in result.attempts:
            seen.grounding = judge(result.case, seen, library)


def summarise_faithfulness(results: Sequence[CaseResult]) -> dict[str, float | None]:
    """``faithfulness`` (share of checked answers with every claim supported) and
    ``unsupported_claims_per_1k_answers``; None when no answer was checkable."""
    verdicts = [
        seen.grounding
        for result in results
        for seen in result.attempts
        if isinstance(seen.grounding, AnswerGrounding)
    ]
    if not verdicts:
        return {"faithfulness": None, "unsupported_claims_per_1k_answers": None}
    faithful = sum(verdict.faithful for verdict in verdicts)
    unsupported = sum(len(verdict.unsupported) for verdict in verdicts)
    return {
        "faithfulness": round(faithful / len(verdicts), 4),
        "unsupported_claims_per_1k_answers": round(unsupported / len(verdicts) * 1000, 1),
    }


def faithfulness_section(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Counts and the least faithful answers, with their trace_ids, for the reports."""
    checked = unchecked = 0
    worst: list[dict[str, Any]] = []
    for result in results:
        for seen in result.attempts:
            grounding = seen.grounding
            if not isinstance(grounding, AnswerGrounding):
                unchecked += 1
                continue
            checked += 1
            if not grounding.faithful:
                worst.append(_worst_record(result.case, seen, grounding))
    worst.sort(key=lambda record: -len(record["unsupported"]))
    return {
        "checked_answers": checked,
        "unchecked_answers": unchecked,
        "unfaithful_answers": len(worst),
        "worst": worst[:WORST_UNFAITHFUL],
    }


def _worst_record(case: Case, seen: Observation, grounding: AnswerGrounding) -> dict[str, Any]:
    return {
        "id": case.id,
        "question": case.question,
        "cited": [entry for entry, _ in seen.citations],
        "unsupported": list(grounding.unsupported),
        "answer": seen.answer[:300],
        "trace_id": seen.trace_id,
    }
