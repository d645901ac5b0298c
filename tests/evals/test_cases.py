"""Suite files and dataset suites: shapes, validation and mapping to the knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.harness.cases import SuiteError, read_cases
from evals.harness.datasets import bitext_suite
from evals.harness.suites import SUITES_DIR, SuiteOptions, load_suite
from rag.knowledge import load_knowledge_base
from service.settings import DEFAULT_KB_DIR


def test_regression_suite_is_bilingual_and_covers_every_kind_of_case() -> None:
    """At least 120 cases in both languages, with handoffs, refusals and multi-part questions."""
    cases = read_cases(SUITES_DIR / "regression.yaml")
    assert len(cases) >= 120
    assert {"en", "zh", "mixed"} <= {case.lang for case in cases}
    routes = {case.expect_route for case in cases}
    assert {"faq", "hard", "risky", "out_of_scope"} <= routes
    known = {entry.id for entry in load_knowledge_base(DEFAULT_KB_DIR)}
    assert {e for case in cases for e in case.expected_entries} <= known


def test_smoke_cases_are_copied_from_regression() -> None:
    """Every smoke case is a regression case with the same id and question."""
    regression = {case.id: case for case in read_cases(SUITES_DIR / "regression.yaml")}
    for case in read_cases(SUITES_DIR / "smoke.yaml"):
        assert regression[case.id] == case


def test_bitext_suite_maps_every_request_to_a_kb_entry(tmp_path: Path) -> None:
    """All 4,514 Bitext requests expect the KB entry that lists their intent."""
    suite = bitext_suite(SuiteOptions(work_dir=tmp_path))
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    assert len(suite.cases) == 4514
    for case in suite.cases:
        entry = kb.get(case.expect_faq[0])
        assert entry is not None and case.tags[0] in entry.intents


def test_malformed_suite_files_are_rejected(tmp_path: Path) -> None:
    """Unknown fields, unknown routes and duplicate ids are errors that name the file."""
    bad = tmp_path / "bad.yaml"
    for body in (
        "cases: [{id: a, question: q, colour: red}]",
        "cases: [{id: a, question: q, expect_route: maybe}]",
        "cases: [{id: a, question: q}, {id: a, question: r}]",
    ):
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(SuiteError, match=r"bad\.yaml"):
            read_cases(bad)


def test_suite_can_be_a_jsonl_file_and_sampled(tmp_path: Path) -> None:
    """A .jsonl path works as a suite, and a sample keeps a fixed subset."""
    path = tmp_path / "mine.jsonl"
    lines = [
        f'{{"id": "c{i}", "question": "q{i}", "expect_faq": ["order-track"]}}' for i in range(9)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    options = SuiteOptions(work_dir=tmp_path, sample=4)
    first, again = load_suite(str(path), options), load_suite(str(path), options)
    assert len(first.cases) == 4 and first.cases == again.cases


def test_conversations_expand_into_ordered_turn_cases(tmp_path: Path) -> None:
    """Each turn of a conversation becomes a case named after it, inheriting lang and tags."""
    path = tmp_path / "multi.yaml"
    path.write_text(
        "conversations:\n"
        "  - id: c1\n    lang: zh\n    tags: [follow_up]\n    turns:\n"
        "      - {question: 怎么申请退款？, expect_faq: [refund-request]}\n"
        "      - {question: 那要多久？, expect_faq: [refund-track], expect_route: faq}\n",
        encoding="utf-8",
    )
    first, second = read_cases(path)
    assert (first.id, first.conversation, first.turn, first.lang) == ("c1-t1", "c1", 1, "zh")
    assert (second.id, second.turn, second.tags, second.expect_route) == (
        "c1-t2",
        2,
        ("follow_up",),
        "faq",
    )


def test_a_conversation_without_turns_is_rejected(tmp_path: Path) -> None:
    """A conversation must list its turns; the error names the file."""
    path = tmp_path / "bad.yaml"
    path.write_text("conversations:\n  - id: c1\n", encoding="utf-8")
    with pytest.raises(SuiteError, match=r"bad\.yaml: a conversation needs"):
        read_cases(path)
