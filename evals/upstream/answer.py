"""The simulated model's answer: deterministic and derived from the request.

Tests check that Beacon's prompt reached the model by looking for what the answer quotes: the
first sentence of the first ``<evidence>`` … ``</evidence>`` block in any message, in the
language of the customer's last message. Which text wins, highest first: the ``x-sim-answer``
header, compliant mode, unfaithful mode (the derived answer, corrupted for a seeded share of
requests: see ``unfaithful``), the ``--answer`` option, the derived answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evals.upstream.config import Mode
from evals.upstream.request import Message
from evals.upstream.tokens import is_chinese
from evals.upstream.unfaithful import Mutation, corrupt, seed_of

_EVIDENCE = re.compile(r"<evidence\b[^>]*>(.*?)</evidence>", re.DOTALL)
# A latin full stop ends a sentence only before whitespace, so "v1.2" and "3.5" stay whole.
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？]")

EN_PREFIX = "According to our help centre: "
EN_SUFFIX = " If anything is still unclear, just reply and we will help."
EN_FALLBACK = "Most requests are answered by our support team within one business day."
ZH_PREFIX = "根据我们的帮助中心："
ZH_SUFFIX = "如有其他问题，请随时告诉我们。"
ZH_FALLBACK = "大多数请求会在一个工作日内由客服团队答复。"


def compose_answer(messages: Sequence[Message], *, mode: Mode, fixed: str | None) -> str:
    """Return the answer for ``messages``; ``fixed`` is the ``--answer`` text, if any."""
    if mode is Mode.COMPLIANT:
        return compose_compliant_answer(messages)
    if fixed is not None:
        return fixed
    evidence = find_evidence(messages)
    if is_chinese(last_user_text(messages)):
        sentence = first_sentence(evidence) if evidence else ZH_FALLBACK
        return f"{ZH_PREFIX}{sentence}{ZH_SUFFIX}"
    sentence = first_sentence(evidence) if evidence else EN_FALLBACK
    return f"{EN_PREFIX}{sentence}{EN_SUFFIX}"


def compose_unfaithful_answer(
    messages: Sequence[Message], *, rate: float
) -> tuple[str, Mutation | None]:
    """The derived answer with its quoted sentence corrupted when the request's seed says so.

    Evidence is looked for in the conversation's messages before the system prompt, whose
    rules may mention the ``<evidence>`` tags themselves."""
    conversation = [m for m in messages if m.role not in ("system", "developer")]
    evidence = find_evidence(conversation) or find_evidence(messages)
    chinese = is_chinese(last_user_text(messages))
    fallback = ZH_FALLBACK if chinese else EN_FALLBACK
    sentence = first_sentence(evidence) if evidence else fallback
    everything = " ".join(" ".join(b.split()) for m in messages for b in _EVIDENCE.findall(m.text))
    seed = seed_of([message.text for message in messages])
    result = corrupt(sentence, evidence=everything, seed=seed, rate=rate, chinese=chinese)
    if chinese:
        return f"{ZH_PREFIX}{result.sentence}{ZH_SUFFIX}", result.mutation
    return f"{EN_PREFIX}{result.sentence}{EN_SUFFIX}", result.mutation


def compose_compliant_answer(messages: Sequence[Message]) -> str:
    """Obey the attack: repeat every system message verbatim, then the customer's last message."""
    system = [message.text for message in messages if message.role in ("system", "developer")]
    return "\n\n".join([*system, last_user_text(messages)])


def last_user_text(messages: Sequence[Message]) -> str:
    return next((m.text for m in reversed(messages) if m.role == "user"), "")


def find_evidence(messages: Sequence[Message]) -> str | None:
    """Return the whitespace-collapsed text of the first non-empty evidence block, if any."""
    for message in messages:
        for block in _EVIDENCE.findall(message.text):
            text = " ".join(block.split())
            if text:
                return text
    return None


def first_sentence(text: str) -> str:
    end = _SENTENCE_END.search(text)
    return text[: end.end()] if end else text
