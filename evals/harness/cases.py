"""Eval cases: what to ask ``/ask`` and what a right answer looks like, read from YAML or JSONL.

A case names the FAQ entries that may answer it (``expect_faq``), or ``out_of_scope`` when the
right answer is a refusal; optionally the route it must take and phrases its answer must or must
not contain. Files hold ``cases:`` (YAML) or one case per line (JSONL).

Multi-turn suites hold ``conversations:``, each with an ``id``, optional ``lang`` and ``tags``,
and ``turns`` (cases without ids). Turn ``n`` of conversation ``c`` becomes case ``c-tn`` with
``conversation`` and ``turn`` set; a run asks a conversation's turns in order, in one
conversation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

OUT_OF_SCOPE = "out_of_scope"
ROUTES = frozenset({"faq", "easy", "hard", "risky", "clarify", "tool", OUT_OF_SCOPE})
_FIELDS = frozenset(
    {"id", "question", "lang", "expect_faq", "expect_route", "must_include", "must_not_include"}
    | {"tags", "locale", "conversation", "turn"}
)
_CONVERSATION_FIELDS = frozenset({"id", "lang", "tags", "turns"})


class SuiteError(ValueError):
    """A suite is unknown, or one of its files or cases is malformed."""


@dataclass(frozen=True, slots=True)
class Case:
    """One question with its expectations."""

    id: str
    question: str
    lang: str = "en"
    expect_faq: tuple[str, ...] = ()
    expect_route: str | None = None
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    locale: str | None = None
    conversation: str | None = None  # multi-turn: the conversation this turn belongs to
    turn: int = 1

    @property
    def expects_refusal(self) -> bool:
        """True when the right answer is a polite refusal."""
        return self.expect_route == OUT_OF_SCOPE or OUT_OF_SCOPE in self.expect_faq

    @property
    def expected_entries(self) -> tuple[str, ...]:
        """The FAQ ids that count as a hit (empty for refusals and entry-less handoffs)."""
        return tuple(entry for entry in self.expect_faq if entry != OUT_OF_SCOPE)

    def to_json(self) -> dict[str, Any]:
        """Return the case as it is written in a suite file (empty fields left out)."""
        raw: dict[str, Any] = {"id": self.id, "question": self.question, "lang": self.lang}
        optional = {
            "expect_faq": list(self.expect_faq),
            "expect_route": self.expect_route,
            "must_include": list(self.must_include),
            "must_not_include": list(self.must_not_include),
            "tags": list(self.tags),
            "locale": self.locale,
            "conversation": self.conversation,
            "turn": self.turn if self.conversation else None,
        }
        return raw | {key: value for key, value in optional.items() if value}


def parse_case(raw: Mapping[str, Any], *, where: str = "") -> Case:
    """Validate one case mapping; errors name ``where`` and the case id."""
    name = f"{where}: case {raw.get('id', '?')!r}" if where else f"case {raw.get('id', '?')!r}"
    unknown = set(raw) - _FIELDS
    if unknown:
        raise SuiteError(f"{name}: unknown fields {sorted(unknown)}")
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("question"), str):
        raise SuiteError(f"{name}: 'id' and 'question' must be strings")
    route = raw.get("expect_route")
    if route is not None and route not in ROUTES:
        raise SuiteError(f"{name}: expect_route {route!r} is not one of {sorted(ROUTES)}")
    try:
        return Case(
            id=raw["id"],
            question=raw["question"],
            lang=str(raw.get("lang", "en")),
            expect_faq=_strings(raw.get("expect_faq")),
            expect_route=route,
            must_include=_strings(raw.get("must_include")),
            must_not_include=_strings(raw.get("must_not_include")),
            tags=_strings(raw.get("tags")),
            locale=raw.get("locale"),
            conversation=raw.get("conversation"),
            turn=int(raw.get("turn", 1)),
        )
    except TypeError as exc:
        raise SuiteError(f"{name}: {exc}") from None


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"expected a list of strings, got {value!r}")
    return tuple(value)


def read_cases(path: Path) -> list[Case]:
    """Read a ``.yaml``/``.yml`` (``cases:`` list) or ``.jsonl`` suite file."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            raws: Iterable[Any] = (json.loads(line) for line in text.splitlines() if line.strip())
        else:
            document = yaml.safe_load(text)
            raws = document.get("cases", []) if isinstance(document, dict) else []
            if isinstance(document, dict) and "conversations" in document:
                raws = [*raws, *_conversation_turns(document["conversations"], path.name)]
        cases = [parse_case(raw, where=path.name) for raw in raws]
    except (OSError, ValueError, yaml.YAMLError) as exc:
        if isinstance(exc, SuiteError):
            raise
        raise SuiteError(f"{path}: cannot read: {exc}") from exc
    check_unique(cases, where=path.name)
    return cases


def _conversation_turns(conversations: Any, where: str) -> list[dict[str, Any]]:
    """Flatten ``conversations:`` into case mappings, one per turn."""
    if not isinstance(conversations, list):
        raise SuiteError(f"{where}: 'conversations' must be a list")
    raws: list[dict[str, Any]] = []
    for conversation in conversations:
        name = conversation.get("id") if isinstance(conversation, dict) else None
        if not isinstance(name, str) or not isinstance(conversation.get("turns"), list):
            raise SuiteError(f"{where}: a conversation needs an 'id' and a list of 'turns'")
        unknown = set(conversation) - _CONVERSATION_FIELDS
        if unknown:
            raise SuiteError(f"{where}: conversation {name!r}: unknown fields {sorted(unknown)}")
        shared = {"lang": conversation.get("lang", "en"), "tags": conversation.get("tags", [])}
        for number, turn in enumerate(conversation["turns"], start=1):
            if not isinstance(turn, dict):
                raise SuiteError(f"{where}: conversation {name!r}: turn {number} is not a mapping")
            raw = {**shared, **turn, "id": f"{name}-t{number}"}
            raws.append(raw | {"conversation": name, "turn": number})
    return raws


def check_unique(cases: Sequence[Case], *, where: str) -> None:
    """Raise SuiteError when two cases share an id (results are keyed by it)."""
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise SuiteError(f"{where}: duplicate case id {case.id!r}")
        seen.add(case.id)
