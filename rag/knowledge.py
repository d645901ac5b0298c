"""The FAQ knowledge base: bilingual entries loaded from ``rag/kb/*.yaml`` and validated.

Every entry carries an id, a source and a version so an answer can be cited, and the whole
knowledge base has a content version (``kb-<sha256 prefix>``) that the index and any answer
cache key on: change one answer and the version changes.

A file may instead hold ``out_of_scope``: messages no entry answers, per language. They are never
answered or indexed; the intent matcher learns from them what is not evidence for any entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from rag.language import LANGS, Lang

_FIELDS = frozenset(
    {"id", "category", "intents", "source", "version", "question", "paraphrases", "answer"}
)


TOOL_ID_SEPARATOR = ":"
"""Tool results are cited as ``tool:key`` (``order:BC-…``); FAQ entry ids never hold it."""


class KnowledgeBaseError(ValueError):
    """A knowledge-base file or entry is malformed; the message names the file and entry."""


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One FAQ entry: a canonical question, its paraphrases and the answer, in both languages."""

    id: str
    category: str
    intents: tuple[str, ...]
    source: str
    version: int
    question: Mapping[Lang, str]
    paraphrases: Mapping[Lang, tuple[str, ...]]
    answer: Mapping[Lang, str]

    def title(self, lang: Lang) -> str:
        """Return the canonical question in ``lang``."""
        return self.question[lang]

    def answer_in(self, lang: Lang) -> str:
        """Return the answer in ``lang``."""
        return self.answer[lang]

    def texts(self) -> Iterator[tuple[Lang, str]]:
        """Yield each distinct (language, text) this entry is found by: questions, paraphrases."""
        seen: set[str] = set()
        for lang in LANGS:
            for text in (self.question[lang], *self.paraphrases.get(lang, ())):
                if text not in seen:
                    seen.add(text)
                    yield lang, text

    def to_json(self) -> dict[str, Any]:
        """Return a plain, JSON-serialisable view of the entry (used for the KB version)."""
        return {
            "id": self.id,
            "category": self.category,
            "intents": list(self.intents),
            "source": self.source,
            "version": self.version,
            "question": dict(self.question),
            "paraphrases": {lang: list(texts) for lang, texts in self.paraphrases.items()},
            "answer": dict(self.answer),
        }


@dataclass(frozen=True)
class KnowledgeBase:
    """An ordered, validated collection of FAQ entries with a content-derived version."""

    entries: tuple[FaqEntry, ...]
    out_of_scope: Mapping[Lang, tuple[str, ...]] = field(default_factory=dict)
    """Messages no entry answers (the matcher's negative examples)."""
    version: str = field(init=False)
    _by_id: Mapping[str, FaqEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        content: object = [entry.to_json() for entry in self.entries]
        if self.out_of_scope:
            negatives = {lang: list(texts) for lang, texts in self.out_of_scope.items()}
            content = {"entries": content, "out_of_scope": negatives}
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        object.__setattr__(self, "version", "kb-" + digest[:12])
        object.__setattr__(self, "_by_id", MappingProxyType({e.id: e for e in self.entries}))

    def get(self, entry_id: str) -> FaqEntry | None:
        """Return the entry with ``entry_id``, or None."""
        return self._by_id.get(entry_id)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[FaqEntry]:
        return iter(self.entries)


def knowledge_base_from_entries(entries: Iterable[FaqEntry]) -> KnowledgeBase:
    """Validate ``entries`` (unique ids, both languages, a paraphrase) and wrap them."""
    entries = tuple(entries)
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeBaseError(f"entry {entry.id!r}: duplicate id")
        seen.add(entry.id)
        _check_entry(entry)
    return KnowledgeBase(entries)


def load_knowledge_base(kb_dir: Path) -> KnowledgeBase:
    """Load every ``*.yaml`` file in ``kb_dir`` (sorted by name) into a validated KnowledgeBase."""
    paths = sorted(Path(kb_dir).glob("*.yaml"))
    if not paths:
        raise KnowledgeBaseError(f"{kb_dir}: no *.yaml knowledge-base files")
    entries: list[FaqEntry] = []
    origin: dict[str, Path] = {}
    out_of_scope: dict[Lang, tuple[str, ...]] = {}
    for path in paths:
        data = _read_file(path)
        if "out_of_scope" in data:
            for lang, texts in _out_of_scope(path, data).items():
                out_of_scope[lang] = (*out_of_scope.get(lang, ()), *texts)
            continue
        for entry in _load_entries(path, data):
            if entry.id in origin:
                first = origin[entry.id].name
                raise KnowledgeBaseError(
                    f"{path.name}: entry {entry.id!r}: duplicate id (also in {first})"
                )
            origin[entry.id] = path
            entries.append(entry)
    if not entries:
        raise KnowledgeBaseError(f"{kb_dir}: the knowledge-base files hold no entries")
    return KnowledgeBase(tuple(entries), out_of_scope)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path.name}: expected a mapping")
    return data


def _out_of_scope(path: Path, data: dict[str, Any]) -> dict[Lang, tuple[str, ...]]:
    if set(data) != {"out_of_scope"}:
        raise KnowledgeBaseError(f"{path.name}: 'out_of_scope' files hold nothing else")
    try:
        texts = _lang_map(data["out_of_scope"], "out_of_scope", list)
    except KnowledgeBaseError as exc:
        raise KnowledgeBaseError(f"{path.name}: {exc}") from None
    if any(not text.strip() for lang_texts in texts.values() for text in lang_texts):
        raise KnowledgeBaseError(f"{path.name}: empty out_of_scope text")
    return {lang: tuple(lang_texts) for lang, lang_texts in texts.items()}


def _load_entries(path: Path, data: dict[str, Any]) -> list[FaqEntry]:
    if not isinstance(data.get("entries"), list):
        raise KnowledgeBaseError(f"{path.name}: expected a mapping with an 'entries' list")
    entries = []
    for position, raw in enumerate(data["entries"]):
        name = raw.get("id", f"#{position}") if isinstance(raw, dict) else f"#{position}"
        try:
            entry = _parse_entry(raw)
            _check_entry(entry)
        except KnowledgeBaseError as exc:
            raise KnowledgeBaseError(f"{path.name}: entry {name!r}: {exc}") from None
        entries.append(entry)
    return entries


def _parse_entry(raw: object) -> FaqEntry:
    if not isinstance(raw, dict):
        raise KnowledgeBaseError("expected a mapping")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise KnowledgeBaseError(f"unknown fields {sorted(unknown)}")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise KnowledgeBaseError("'version' must be a positive integer")
    intents = raw.get("intents", [])
    if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
        raise KnowledgeBaseError("'intents' must be a list of strings")
    paraphrases = _lang_map(raw.get("paraphrases", {}), "paraphrases", list)
    return FaqEntry(
        id=_string(raw, "id"),
        category=_string(raw, "category"),
        intents=tuple(intents),
        source=_string(raw, "source"),
        version=version,
        question=_lang_map(raw.get("question"), "question", str),
        paraphrases={lang: tuple(texts) for lang, texts in paraphrases.items()},
        answer=_lang_map(raw.get("answer"), "answer", str),
    )


def _string(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeBaseError(f"{key!r} must be a non-empty string")
    return value


def _lang_map(value: object, key: str, kind: type) -> dict[Lang, Any]:
    if not isinstance(value, dict):
        raise KnowledgeBaseError(f"{key!r} must be a mapping of language to {kind.__name__}")
    out: dict[Lang, Any] = {}
    for lang, item in value.items():
        if lang not in LANGS:
            raise KnowledgeBaseError(f"{key!r}: unknown language {lang!r} (expected en, zh)")
        if not isinstance(item, kind) or (
            isinstance(item, list) and not all(isinstance(t, str) for t in item)
        ):
            raise KnowledgeBaseError(f"{key}.{lang} must be a {kind.__name__} of text")
        out[lang] = item
    return out


def _check_entry(entry: FaqEntry) -> None:
    if not entry.id.strip():
        raise KnowledgeBaseError("'id' must be a non-empty string")
    if TOOL_ID_SEPARATOR in entry.id:
        raise KnowledgeBaseError(f"'id' must not contain {TOOL_ID_SEPARATOR!r} (tool results' ids)")
    for key, mapping in (("question", entry.question), ("answer", entry.answer)):
        for lang in LANGS:
            if not str(mapping.get(lang, "")).strip():
                raise KnowledgeBaseError(f"missing {key}.{lang}")
    texts = [t for ts in entry.paraphrases.values() for t in ts]
    if not texts:
        raise KnowledgeBaseError("needs at least one paraphrase")
    if any(not t.strip() for t in texts):
        raise KnowledgeBaseError("empty paraphrase")
