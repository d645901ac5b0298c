"""The scanner that decides redaction rules on a growing buffer.

`PatternSet.scan` walks candidates leftmost-first. At one position every rule is tried: the longest
match wins, ties go to rule order, and a block-action kind beats any mask. When a position's
outcome could still change with more text (a rule's pending pattern matches there), the scan stops:
a stream must hold back from there, and everything before it is final. So any split of the input
into chunks yields the same result as one pass over the whole text with `final=True`, where pending
patterns are ignored. Lookbehinds read one character before a match; streams keep `CONTEXT`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from service.pipeline.redaction_patterns import BASE_RULES, RedactionKind, Rule, canary_rules

CONTEXT = 4  # raw characters a stream keeps before its held-back tail, for lookbehinds
OPEN = -1  # Hit.end of an element whose terminator has not arrived yet


class CompiledRule(NamedTuple):
    rule: Rule
    full: re.Pattern[str]
    pending: re.Pattern[str] | None
    until: re.Pattern[str] | None
    until_pending: re.Pattern[str] | None
    lead: re.Pattern[str]  # the first character of the full or a pending pattern


class Hit(NamedTuple):
    """A decided match; `end == OPEN` is an element still open at the end of the text so far."""

    kind: RedactionKind
    start: int
    end: int
    value_start: int
    value_end: int  # for an open element: where the search for its terminator starts
    rule: CompiledRule


class Scan(NamedTuple):
    hits: list[Hit]
    cut: int  # text before `cut` is final; with a `stop`, cut == stop.start
    stop: Hit | None  # a block-action hit, or an open element


class _Pending:
    """Outcome at a position that more text could still change."""


PENDING = _Pending()


def _compile(rule: Rule) -> CompiledRule:
    def optional(pattern: str | None) -> re.Pattern[str] | None:
        return re.compile(pattern) if pattern else None

    pending = "|".join(f"(?:{p})" for p in rule.pending)
    leads = {_first_token(p) for p in (rule.full, *rule.pending)}
    return CompiledRule(
        rule,
        re.compile(rule.full),
        optional(pending),
        optional(rule.until),
        optional(rule.until_pending),
        re.compile("|".join(sorted(leads))),
    )


def _first_token(pattern: str) -> str:
    token = _TOKEN.match(pattern)
    if token is None:
        raise ValueError(f"a rule pattern must start with one character: {pattern!r}")
    return token.group()


_TOKEN = re.compile(r"\[(?:\\.|[^\]\\])*\]|\\.|[^()\[\]|?*+{}.^$\\]")  # literal, escape, class
_LEAD = re.compile(
    rf"(?:{_TOKEN.pattern})"
    r"(?:\(\?<!(?P<behind>\[(?:\\.|[^\]\\])*\]|\\.|[^()\[\]\\])\.\))?"  # `(?<!X.)`
)
_WORD_START = "[A-Za-z0-9"  # a lookbehind class starting so only matches at a word start


def _alternation(alternatives: list[tuple[str, str]]) -> re.Pattern[str]:
    """One regex for (group name, pattern) pairs; `lastgroup` names the one that matched.

    Alternatives are grouped by their lead (first character token and lookbehind), with the group
    marker after it, so the engine rules out a whole group with one character test; groups that
    only start at a word start sit behind one shared lookbehind, so a letter inside a word costs
    one test. Inner groups become anonymous because group names must be unique.
    """
    by_lead: dict[str, list[str]] = {}
    word_start: dict[str, None] = {}  # ordered, so the compiled pattern is deterministic
    for name, pattern in alternatives:
        lead = _LEAD.match(pattern)
        if lead is None:
            raise ValueError(f"a rule pattern must start with one character: {pattern!r}")
        rest = pattern[lead.end() :].replace("(?P<value>", "(?:")
        by_lead.setdefault(lead.group(), []).append(f"(?P<{name}>){rest}")
        if (lead.group("behind") or "").startswith(_WORD_START):
            word_start[lead.group()] = None
    groups = {lead: f"{lead}(?:{'|'.join(rests)})" for lead, rests in by_lead.items()}
    inner = "|".join(g for lead, g in groups.items() if lead in word_start)
    outer = [g for lead, g in groups.items() if lead not in word_start]
    if inner:
        firsts = "".join(_class_body(lead) for lead in word_start)
        outer.insert(0, f"(?<![A-Za-z0-9])(?=[{firsts}])(?:{inner})")
    return re.compile("|".join(outer))


def _class_body(lead: str) -> str:
    """The leading token of a lead as the body of a character class."""
    token = _TOKEN.match(lead)
    assert token is not None
    text = token.group()
    return (
        text[1:-1] if text.startswith("[") else text if text.startswith("\\") else re.escape(text)
    )


class PatternSet:
    """Rules in priority order, compiled into one finder for streams and one for final text."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = [_compile(rule) for rule in rules]
        self._by_char: dict[str, list[CompiledRule]] = {}
        final = [(f"f{i}", rule.full) for i, rule in enumerate(rules)]
        partial = [(f"p{i}_{j}", p) for i, r in enumerate(rules) for j, p in enumerate(r.pending)]
        self._stream = _alternation(partial + final)
        self._final = _alternation(final)
        canaries = [r for r in rules if r.kind is RedactionKind.CANARY]
        self._canary_reach = max((_max_width(r.full) for r in canaries), default=0)
        self._canary_final = re.compile("|".join(r.full for r in canaries)) if canaries else None
        pending = "|".join(p for r in canaries for p in r.pending) or "(?!)"
        self._canary_stream = (
            re.compile(f"(?P<p>{pending})|(?P<f>{self._canary_final.pattern})")
            if self._canary_final
            else None
        )

    def _candidates(self, ch: str) -> list[CompiledRule]:
        """The rules whose patterns can start with `ch`, in priority order (cached per char)."""
        rules = self._by_char.get(ch)
        if rules is None:
            rules = [rule for rule in self._rules if rule.lead.match(ch)]
            if len(self._by_char) < 4_096:  # bounded: a text of many distinct characters
                self._by_char[ch] = rules
        return rules

    def plain_cut(self, text: str, pos: int) -> int | None:
        """Where a stream must hold back, if nothing from `pos` to there needs redacting."""
        m = self._stream.search(text, pos)
        if m is None:
            return len(text)
        return m.start() if str(m.lastgroup).startswith("p") else None

    def scan(self, text: str, pos: int, *, final: bool, blocking: frozenset[RedactionKind]) -> Scan:
        """Decide matches from `pos` on, up to the first position more text could change."""
        finder = self._final if final else self._stream
        hits: list[Hit] = []
        while (m := finder.search(text, pos)) is not None:
            q = m.start()
            if str(m.lastgroup).startswith("p"):
                return Scan(hits, q, None)
            outcome = self._decide(text, q, final=final, blocking=blocking)
            if outcome is None:
                pos = q + 1
            elif isinstance(outcome, _Pending):
                return Scan(hits, q, None)
            elif outcome.kind in blocking or outcome.end == OPEN:
                return Scan(hits, q, outcome)
            else:
                hits.append(outcome)
                pos = outcome.end
        return Scan(hits, len(text), None)

    def _decide(
        self, text: str, q: int, *, final: bool, blocking: frozenset[RedactionKind]
    ) -> Hit | _Pending | None:
        best: Hit | None = None
        for rule in self._candidates(text[q]):
            if not final and rule.pending is not None and rule.pending.match(text, q):
                return PENDING
            hit = _hit(rule, text, q, final=final)
            if hit is None:
                continue
            if hit.kind in blocking:  # a block beats any mask, whatever their lengths
                return hit
            if best is None or _reach(hit) > _reach(best):
                best = hit
        if best is None or best.kind is RedactionKind.MARKUP or best.end == OPEN:
            return best  # dropped whole (markup, an open element): nothing inside it is released
        return self._canary_inside(best, text, final=final, blocking=blocking)

    def _canary_inside(
        self, hit: Hit, text: str, *, final: bool, blocking: frozenset[RedactionKind]
    ) -> Hit | _Pending:
        # A canary that starts inside a masked match could leak its tail: block at the match.
        # Only a canary starting before hit.end matters, so the search stops `_canary_reach`
        # past it (searching to the end of the text made redaction quadratic). Where that
        # limit is inside the text, every such canary has fully arrived: no pending case.
        if self._canary_final is None or RedactionKind.CANARY not in blocking:
            return hit
        limit = hit.end + self._canary_reach
        finder = self._canary_stream if not final and limit >= len(text) else self._canary_final
        assert finder is not None
        m = finder.search(text, hit.start + 1, min(limit, len(text)))
        if m is None or m.start() >= hit.end:
            return hit
        if m.lastgroup == "p":
            return PENDING
        return hit._replace(kind=RedactionKind.CANARY)


def _max_width(pattern: str) -> int:
    """The most characters `pattern` can match (rule patterns are bounded by construction)."""
    width = re._parser.parse(pattern).getwidth()[1]  # type: ignore[attr-defined]
    if width >= re._constants.MAXREPEAT:  # type: ignore[attr-defined]
        raise ValueError(
            f"an unbounded canary pattern cannot be searched in linear time: {pattern!r}"
        )
    return int(width)


def _reach(hit: Hit) -> float:
    return float("inf") if hit.end == OPEN else hit.end


def _hit(rule: CompiledRule, text: str, q: int, *, final: bool) -> Hit | None:
    m = rule.full.match(text, q)
    span = rule.rule.extract(m) if m is not None else None
    if span is None:
        return None
    kind = rule.rule.kind
    if rule.until is None:
        return Hit(kind, q, span.end, span.value_start, span.value_end, rule)
    closing = rule.until.search(text, span.end)
    if closing is not None:
        return Hit(kind, q, closing.end(), q, closing.end(), rule)
    if final:
        return Hit(kind, q, len(text), q, len(text), rule)
    return Hit(kind, q, OPEN, q, span.end, rule)


@functools.lru_cache(maxsize=64)
def pattern_set(canaries: tuple[str, ...] = ()) -> PatternSet:
    """The compiled rules for these canaries (cached: canaries rarely change between requests)."""
    return PatternSet([*canary_rules(canaries), *BASE_RULES])
