"""Loading, validating and versioning the FAQ knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import rag
from rag.knowledge import (
    KnowledgeBase,
    KnowledgeBaseError,
    knowledge_base_from_entries,
    load_knowledge_base,
)
from tests.rag.conftest import SMALL_KB, write_kb

DEMO_KB_DIR = Path(rag.__file__).parent / "kb"


def test_load_knowledge_base_reads_entries_in_file_order(small_kb: KnowledgeBase) -> None:
    """Entries load with typed fields, bilingual texts, and are found by id."""
    assert [entry.id for entry in small_kb] == [raw["id"] for raw in SMALL_KB]
    assert len(small_kb) == 4
    entry = small_kb.get("order-cancel")
    assert entry is not None
    assert entry.version == 2
    assert entry.intents == ("cancel_order",)
    assert entry.title("zh") == "怎么取消订单？"
    assert entry.answer_in("en") == "Orders can be cancelled until they ship."
    assert entry.paraphrases["zh"][0] == "取消订单"
    assert small_kb.get("no-such-entry") is None
    assert small_kb.version.startswith("kb-") and len(small_kb.version) == 15


def test_load_knowledge_base_sorts_files_by_name(tmp_path: Path) -> None:
    """Files load in name order, so the same directory always gives the same KB."""
    write_kb(tmp_path, SMALL_KB[2:], name="b.yaml")
    write_kb(tmp_path, SMALL_KB[:2], name="a.yaml")
    assert [entry.id for entry in load_knowledge_base(tmp_path)] == [e["id"] for e in SMALL_KB]


def test_kb_version_changes_when_an_answer_changes(
    tmp_path: Path, entry_factory: Callable[..., dict[str, Any]]
) -> None:
    """Editing one answer changes the KB version; identical content keeps it."""
    first = load_knowledge_base(write_kb(tmp_path / "a", [entry_factory()]))
    same = load_knowledge_base(write_kb(tmp_path / "b", [entry_factory()]))
    edited = entry_factory(answer={"en": "Refunds take 5 days.", "zh": "退款需要 5 天。"})
    changed = load_knowledge_base(write_kb(tmp_path / "c", [edited]))
    assert first.version == same.version
    assert changed.version != first.version


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"answer": {"en": "only English"}}, "missing answer.zh"),
        ({"question": {"zh": "只有中文"}}, "missing question.en"),
        ({"paraphrases": {"en": [], "zh": []}}, "at least one paraphrase"),
        ({"version": "one"}, "'version' must be a positive integer"),
        ({"source": ""}, "'source' must be a non-empty string"),
        ({"answer": {"en": "a", "zh": "b", "fr": "c"}}, "unknown language 'fr'"),
        ({"paraphrases": {"en": "not a list"}}, "paraphrases.en must be a list"),
        ({"titel": "typo"}, "unknown fields ['titel']"),
    ],
)
def test_invalid_entry_raises_error_naming_file_and_entry(
    tmp_path: Path,
    entry_factory: Callable[..., dict[str, Any]],
    override: dict[str, Any],
    message: str,
) -> None:
    """A malformed entry raises KnowledgeBaseError naming the file, the entry and the problem."""
    write_kb(tmp_path, [entry_factory(**override)], name="refunds.yaml")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(tmp_path)
    assert "refunds.yaml: entry 'refund-request'" in str(caught.value)
    assert message in str(caught.value)


def test_an_id_in_the_tool_results_namespace_is_rejected(
    tmp_path: Path, entry_factory: Callable[..., dict[str, Any]]
) -> None:
    """``order:…`` names a tool result; an FAQ entry may not take such an id."""
    write_kb(tmp_path, [entry_factory(id="order:refunds")], name="refunds.yaml")
    with pytest.raises(KnowledgeBaseError, match="'id' must not contain ':'"):
        load_knowledge_base(tmp_path)


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path) -> None:
    """The same id in two files raises an error naming both files."""
    write_kb(tmp_path, SMALL_KB[:1], name="a.yaml")
    write_kb(tmp_path, SMALL_KB[:1], name="b.yaml")
    with pytest.raises(KnowledgeBaseError, match=r"b\.yaml: entry 'refund-request': duplicate id"):
        load_knowledge_base(tmp_path)


@pytest.mark.parametrize(
    "content", ["entries: [unclosed", "just a string", "entries: 3", "- id: x"]
)
def test_malformed_yaml_files_are_rejected(tmp_path: Path, content: str) -> None:
    """Unparseable YAML or a document without an entries list is a KnowledgeBaseError."""
    (tmp_path / "broken.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"broken\.yaml"):
        load_knowledge_base(tmp_path)


def test_empty_knowledge_base_is_an_error(tmp_path: Path) -> None:
    """No KB files, or files without entries, are an error rather than an empty KB."""
    with pytest.raises(KnowledgeBaseError, match=r"no \*\.yaml"):
        load_knowledge_base(tmp_path)
    (tmp_path / "empty.yaml").write_text("entries: []\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="no entries"):
        load_knowledge_base(tmp_path)


def test_knowledge_base_from_entries_validates(small_kb: KnowledgeBase) -> None:
    """Building a KB in code applies the same rules and gives the same version as loading."""
    assert knowledge_base_from_entries(small_kb.entries).version == small_kb.version
    with pytest.raises(KnowledgeBaseError, match="duplicate id"):
        knowledge_base_from_entries([*small_kb.entries, small_kb.entries[0]])


def test_shipped_knowledge_base_is_valid_and_bilingual() -> None:
    """The demo KB in rag/kb loads, and every entry has both languages and paraphrases."""
    kb = load_knowledge_base(DEMO_KB_DIR)
    assert len(kb) >= 20
    for entry in kb:
        assert entry.question["en"] and entry.question["zh"]
        assert entry.paraphrases.get("en") and entry.paraphrases.get("zh")


def write_out_of_scope(kb_dir: Path, texts: dict[str, list[str]], name: str = "zz.yaml") -> None:
    text = yaml.safe_dump({"out_of_scope": texts}, allow_unicode=True)
    (kb_dir / name).write_text(text, encoding="utf-8")


def test_out_of_scope_texts_load_apart_from_entries_and_version_the_kb(tmp_path: Path) -> None:
    """An ``out_of_scope`` file adds no entry; its texts are kept per language and are part of
    the KB's version (the matcher trains on them)."""
    plain = load_knowledge_base(write_kb(tmp_path / "a", SMALL_KB))
    kb_dir = write_kb(tmp_path / "b", SMALL_KB)
    write_out_of_scope(kb_dir, {"en": ["what's the weather"], "zh": ["今天天气怎么样"]})
    with_negatives = load_knowledge_base(kb_dir)
    assert [e.id for e in with_negatives] == [e.id for e in plain]
    assert with_negatives.out_of_scope == {"en": ("what's the weather",), "zh": ("今天天气怎么样",)}
    assert with_negatives.version != plain.version


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"out_of_scope": {"fr": ["bonjour"]}}, "unknown language 'fr'"),
        ({"out_of_scope": {"en": "not a list"}}, "out_of_scope.en must be a list"),
        ({"out_of_scope": {"en": [" "]}}, "empty out_of_scope text"),
        ({"out_of_scope": {"en": ["hi"]}, "entries": []}, "hold nothing else"),
    ],
)
def test_malformed_out_of_scope_files_are_rejected(
    tmp_path: Path, content: dict[str, Any], message: str
) -> None:
    kb_dir = write_kb(tmp_path, SMALL_KB)
    (kb_dir / "zz.yaml").write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=message) as caught:
        load_knowledge_base(kb_dir)
    assert "zz.yaml" in str(caught.value)
