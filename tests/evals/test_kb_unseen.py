"""The demo KB's paraphrases and out-of-scope texts train the matcher; the eval suites must stay
unseen by it.

A question copied from a suite (or from Bitext) into the KB would pass its case by memory, not
by retrieval. Texts are compared on their letters, digits and Han characters only, so a copy with
other punctuation, spacing or case is still caught.

``multi_turn`` and ``known_errors`` ask the KB's own questions on purpose (they measure
follow-ups and faithfulness, not retrieval), so they are not checked here.
"""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter

import pytest

from evals.harness.cases import read_cases
from evals.harness.datasets import BITEXT_CSV
from evals.harness.suites import SUITES_DIR
from rag.knowledge import load_knowledge_base
from rag.language import normalize_text
from service.settings import DEFAULT_KB_DIR


def matching_key(text: str) -> str:
    return "".join(
        char for char in normalize_text(text) if unicodedata.category(char)[0] in ("L", "N")
    )


OUT_OF_SCOPE = "(out of scope)"


def kb_rows() -> list[tuple[str, str]]:
    """(entry id, text) for every question and paraphrase of the demo KB, and its out-of-scope
    texts (the matcher trains on them too) under ``OUT_OF_SCOPE``."""
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    return [
        *(
            (entry.id, text)
            for entry in kb
            for lang, question in entry.question.items()
            for text in (question, *entry.paraphrases.get(lang, []))
        ),
        *((OUT_OF_SCOPE, text) for texts in kb.out_of_scope.values() for text in texts),
    ]


def kb_texts() -> dict[str, str]:
    """Every question and paraphrase of the demo KB, by matching key, with its entry id."""
    return {matching_key(text): entry for entry, text in kb_rows()}


def test_each_kb_text_is_written_once() -> None:
    """A repeated paraphrase weighs twice in training; one in two entries teaches a confusion."""
    keys = Counter(matching_key(text) for _, text in kb_rows())
    assert [key for key, count in keys.items() if count > 1] == []


RETRIEVAL_SUITES = ("regression.yaml", "smoke.yaml", "kb_heldout.yaml", "dev_out_of_scope.yaml")


@pytest.mark.parametrize("suite", RETRIEVAL_SUITES)
def test_no_suite_question_is_in_the_kb(suite: str) -> None:
    known = kb_texts()
    copied = [
        (case.id, known[key])
        for case in read_cases(SUITES_DIR / suite)
        if (key := matching_key(case.question)) in known
    ]
    assert copied == []


def test_no_bitext_request_is_in_the_kb() -> None:
    """Two-word keyword requests ("track order") are what anyone writes; longer ones are not."""
    known = kb_texts()
    with BITEXT_CSV.open(encoding="utf-8", newline="") as fh:
        requests = [row["instruction"] for row in csv.DictReader(fh)]
    assert len(requests) == 4514
    copied = [text for text in requests if matching_key(text) in known]
    assert [text for text in copied if len(text.split()) > 2] == []


def test_the_key_ignores_case_spacing_and_punctuation() -> None:
    assert matching_key("Where's my  PARCEL?") == matching_key("wheres my parcel")
    assert matching_key("退货要多久？") == matching_key("退货要多久")
    assert matching_key("refund policy") != matching_key("refund policy please")
