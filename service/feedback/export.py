"""Thumbs-down answers as candidate regression cases, in the regression suite's YAML format.

Each case carries the customer's question and, as its expectation, the entries that were cited
(a reviewer keeps them if they were right and the answer's wording was the problem, or replaces
them). What the customer said, what was cited and the start of the answer travel as comments
above the case, so the file still loads with ``evals.harness.cases.read_cases``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from service.feedback.store import RatedAnswer

ANSWER_PREVIEW_CHARS = 200
HEADER = (
    "# Candidate regression cases from thumbs-down feedback (`beacon eval feedback export`).\n"
    "# Review each one: fix expect_faq/expect_route to the right answer, drop the\n"
    "# `needs-review` tag, and move accepted cases into evals/suites/regression.yaml.\n"
)


@dataclass(frozen=True, slots=True)
class CandidateExport:
    text: str  # the YAML file
    cases: int
    missing: int  # thumbs-down items with no recorded answer (expired, or an unknown trace)


def regression_candidates(rated: Sequence[RatedAnswer]) -> CandidateExport:
    """The thumbs-down items of ``rated`` as a suite file of cases to review."""
    blocks: list[str] = []
    missing = 0
    for item in rated:
        if item.feedback.rating != "down":
            continue
        if item.answer is None:
            missing += 1
            continue
        blocks.append(_case_block(item))
    text = HEADER + ("cases:\n" + "".join(blocks) if blocks else "cases: []\n")
    return CandidateExport(text, len(blocks), missing)


def _case_block(item: RatedAnswer) -> str:
    answer = item.answer
    assert answer is not None
    case: dict[str, object] = {
        "id": f"fb-{item.feedback.trace_id[:16]}",
        "question": answer.question,
        "lang": answer.lang or "en",
    }
    cited = [c.id for c in answer.citations]
    if cited:
        case["expect_faq"] = cited
    case["tags"] = ["feedback", "needs-review"]
    comments = [
        f"trace_id: {item.feedback.trace_id}",
        f"customer said: {item.feedback.comment or '(no comment)'}",
        "cited: " + ("; ".join(f"{c.title} ({c.source})" for c in answer.citations) or "nothing"),
        f"route: {answer.route or '?'}",
        f"answer: {_preview(answer.answer)}",
    ]
    # Chinese stays readable; text with characters YAML reads as line breaks (NEL, U+2028) or
    # control characters is written with escapes instead, so it loads back unchanged.
    readable = all(ch.isprintable() and ch not in "\x85\u2028\u2029" for ch in answer.question)
    dumped = yaml.safe_dump([case], allow_unicode=readable, sort_keys=False, width=100)
    body = "".join(f"  {line}\n" for line in dumped.splitlines())
    return "".join(f"  # {_one_line(text)}\n" for text in comments) + body


def _preview(text: str) -> str:
    return text if len(text) <= ANSWER_PREVIEW_CHARS else text[:ANSWER_PREVIEW_CHARS] + "…"


def _one_line(text: str) -> str:
    """A comment must stay one line of printable text whatever the customer typed."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
