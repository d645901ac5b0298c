"""How many questions one message asks, and what each one says.

A run of question marks ends one question ("expired??" is one); text after the last run is a
remark, not another question ("How do I buy? I've never done it before" asks one thing). A joiner
("and how", "also, what", "另外", "还有") starts another question inside a sentence. Both are
linear scans over a size-capped question.
"""

from __future__ import annotations

import itertools
import re

MAX_PARTS = 4  # a longer list is searched as one question

_QUESTION_MARKS = re.compile(r"[?？]+")
_JOINERS = re.compile(
    r"\b(?:and also|as well as|also,? (?:how|what|can|where|when|why|do|is)"
    r"|and (?:how|what|can|where|when|why|do|does|is|will)\b)"
    r"|另外|还有|以及|顺便|同时问|并且|此外",
    re.IGNORECASE,
)


def count_parts(question: str) -> int:
    """Estimate how many distinct questions the message asks."""
    # Every piece but the last is followed by a run of marks; a message that starts with one
    # leaves an empty first piece.
    pieces = _QUESTION_MARKS.split(question)[:-1]
    questions = sum(1 for piece in pieces if piece.strip())
    joiners = len(_JOINERS.findall(question))
    return max(1, questions, 1 + joiners)


def split_remark(question: str) -> tuple[str, str]:
    """The message up to its last run of question marks, and the remark after it ("How do I
    buy? I've never done it before"); a message with no remark is all question."""
    end = max((mark.end() for mark in _QUESTION_MARKS.finditer(question)), default=0)
    remark = question[end:].strip()
    asked = question[:end]
    return (asked, remark) if remark and asked.strip(" ?？") else (question, "")


def split_parts(question: str) -> list[str]:
    """The questions of a message, in order: split after each run of question marks and before
    each joiner. A trailing remark stays with the question before it."""
    sentences = _QUESTION_MARKS.split(question)
    if len(sentences) > 1:
        remark = sentences.pop()
        sentences[-1] = f"{sentences[-1]} {remark}"
    parts: list[str] = []
    for sentence in sentences:
        starts = [0, *(match.start() for match in _JOINERS.finditer(sentence)), len(sentence)]
        for start, end in itertools.pairwise(starts):
            part = sentence[start:end].strip(" ,，.。;；:：!！")
            if part:
                parts.append(part)
    return parts or [question]
