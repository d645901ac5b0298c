"""Unfaithful mode: answers quote the evidence but a seeded share says what it does not support."""

from __future__ import annotations

import httpx
import pytest

from evals.upstream.answer import compose_unfaithful_answer
from evals.upstream.request import Message
from evals.upstream.unfaithful import Mutation, corrupt
from rag.knowledge import load_knowledge_base
from rag.language import Lang
from service.grounding.check import check_answer
from service.settings import DEFAULT_KB_DIR
from tests.upstream.chat import stream_body, stream_chat

EVIDENCE = "Standard delivery takes 3–5 business days and costs $4.99."


def test_rate_zero_leaves_the_sentence_alone() -> None:
    """With rate 0 no answer is corrupted."""
    result = corrupt(EVIDENCE, evidence=EVIDENCE, seed=12345, rate=0.0, chinese=False)
    assert (result.sentence, result.mutation) == (EVIDENCE, None)


@pytest.mark.parametrize("seed", range(12))
def test_rate_one_always_corrupts_and_the_same_seed_corrupts_the_same_way(seed: int) -> None:
    """With rate 1 every answer is corrupted, deterministically for its seed."""
    seed = seed * 2**32 + 7
    first = corrupt(EVIDENCE, evidence=EVIDENCE, seed=seed, rate=1.0, chinese=False)
    again = corrupt(EVIDENCE, evidence=EVIDENCE, seed=seed, rate=1.0, chinese=False)
    assert first == again
    assert first.mutation is not None
    assert first.sentence != EVIDENCE


def test_each_mutation_is_applied_as_described() -> None:
    """A changed number is absent from the evidence; a dropped condition loses "business"."""
    by_mutation = {}
    for index in range(30):
        result = corrupt(EVIDENCE, evidence=EVIDENCE, seed=index * 2**32, rate=1.0, chinese=False)
        assert result.mutation is not None
        by_mutation[result.mutation] = result.sentence
    assert by_mutation[Mutation.DROPPED_CONDITION] == (
        "Standard delivery takes 3–5 days and costs $4.99."
    )
    assert "https://help.example-shop.com/articles/" in by_mutation[Mutation.INVENTED_URL]
    changed = by_mutation[Mutation.CHANGED_NUMBER]
    assert changed in {
        "Standard delivery takes 6–5 business days and costs $4.99.",
        "Standard delivery takes 3–6 business days and costs $4.99.",
        "Standard delivery takes 3–5 business days and costs $6.99.",
        "Standard delivery takes 3–5 business days and costs $4.100.",
    }


def test_share_of_corrupted_answers_follows_the_rate() -> None:
    """Over many different requests the corrupted share is the asked rate."""
    corrupted = 0
    for index in range(4000):
        messages = [Message("user", f"<evidence>{EVIDENCE}</evidence> question {index}")]
        corrupted += compose_unfaithful_answer(messages, rate=0.3)[1] is not None
    assert abs(corrupted / 4000 - 0.3) < 0.02


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grounding_checker_catches_every_mutation_on_the_demo_kb(lang: Lang) -> None:
    """On every demo KB entry, in both languages, a corrupted answer is flagged and a faithful
    one is not: what the known-error suite measures is exactly what was injected."""
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    question = "请问怎么办？" if lang == "zh" else "What should I do?"
    for entry in kb.entries:
        texts = [entry.answer["en"], entry.answer["zh"]]
        prompt = f"<evidence>\n{entry.answer[lang]}\n(source: {entry.id}, version 1)\n</evidence>"
        for salt in range(6):
            messages = [Message("system", f"rules {salt}"), Message("user", f"{prompt}{question}")]
            answer, mutation = compose_unfaithful_answer(messages, rate=1.0 if salt else 0.0)
            report = check_answer(answer, texts)
            assert report.grounded == (mutation is None), (entry.id, answer, mutation)


@pytest.mark.slow
def test_unfaithful_suffix_and_rate_header_reach_the_answer(client: httpx.Client) -> None:
    """``+unfaithful`` with ``x-sim-unfaithful-rate: 1`` corrupts the answer and counts it."""
    client.post("/stats/reset")
    system = f"<evidence>\n{EVIDENCE}\n</evidence>"
    body = stream_body("How long is delivery?", system=system, model="beacon-easy+unfaithful")
    result = stream_chat(client, body, headers={"x-sim-unfaithful-rate": "1"})
    faithful = stream_chat(client, body, headers={"x-sim-unfaithful-rate": "0"})
    helpful = stream_chat(client, stream_body("How long is delivery?", system=system))
    assert faithful.content == helpful.content
    assert result.content != helpful.content
    assert not check_answer(result.content, [EVIDENCE]).grounded
    counts = client.get("/stats").json()["unfaithful_mode_answers"]
    assert counts["none"] == 1
    assert sum(counts.values()) == 2
