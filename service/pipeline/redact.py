"""Redaction of PII, secrets, prompt canaries and unsafe markup, for streams, logs and spans.

`StreamRedactor` is fed an answer chunk by chunk and releases text as soon as no pattern can still
cover it; `redact_text` is the one-shot form and `redact_value` walks log and span values. All
three apply one `RedactionPolicy` (`redaction_policy.yaml`), so the client stream, the logs and the
spans hide the same things. The rules live in `redaction_patterns`, the scanner that decides
them on a growing buffer in `redaction_scanner`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from service.pipeline.redaction_patterns import RedactionKind
from service.pipeline.redaction_policy import (
    POLICY_PATH,
    RedactionAction,
    RedactionPolicy,
    RedactionPolicyError,
    load_redaction_policy,
    parse_redaction_policy,
)
from service.pipeline.redaction_scanner import CONTEXT, CompiledRule, Hit, pattern_set
from service.pipeline.text_fold import FOLD_TABLE, dropped_offsets

__all__ = [
    "POLICY_PATH",
    "RedactedText",
    "RedactionAction",
    "RedactionKind",
    "RedactionPolicy",
    "RedactionPolicyError",
    "StreamRedactor",
    "load_redaction_policy",
    "parse_redaction_policy",
    "redact_text",
    "redact_value",
]

# A log or span value is cut to this many characters before it is redacted: paths, headers and
# exception texts are attacker-sized (a 56 KB User-Agent), and a log line needs none of that.
MAX_VALUE_CHARS = 8_192
TRUNCATED = "…[truncated]"


class StreamRedactor:
    """Redacts a text stream incrementally; pure, no I/O, one per answer.

    `feed` returns the text that is now safe to release and holds back only a tail that could
    still be (part of) a pattern; `flush` releases the rest. For any split of the input into
    chunks, the concatenated output equals `redact_text` of the whole input. After a block-action
    kind (by default a canary) `blocked` is set and nothing more is released.

    Patterns match a folded copy of the text (`text_fold`: full-width forms, odd spaces, dashes,
    look-alikes, invisible characters dropped); what is released is cut from the original text.
    """

    __slots__ = (
        "_blocking",
        "_buf",
        "_element",
        "_gaps",
        "_patterns",
        "_placeholders",
        "_pos",
        "_raw",
        "blocked_kind",
        "counts",
    )

    def __init__(self, policy: RedactionPolicy, *, canaries: Sequence[str] = (), lang: str = "en"):
        self._patterns = pattern_set(tuple(sorted({c.strip() for c in canaries} - {""})))
        self._placeholders = {kind: policy.placeholder(kind, lang) for kind in RedactionKind}
        self._blocking = policy.blocking
        self._buf = ""  # folded text: a little released context, then the held-back tail
        self._raw = ""  # the same text as it came
        self._gaps: list[int] = []  # offsets in _buf before which a character was dropped
        self._pos = 0  # where the held-back tail starts in _buf
        self._element: CompiledRule | None = None  # inside a removed element (e.g. <script>)
        self.counts: Counter[RedactionKind] = Counter()
        self.blocked_kind: RedactionKind | None = None

    @property
    def blocked(self) -> bool:
        return self.blocked_kind is not None

    @property
    def held(self) -> int:
        """Characters held back right now."""
        return len(self._raw) - self._raw_at(self._pos)

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that no later chunk can change."""
        if self.blocked_kind is not None:
            return ""
        buf = self._append(chunk)
        pos = self._pos
        cut = self._patterns.plain_cut(buf, pos) if self._element is None else None
        if cut is None:
            return self._drain(final=False)
        # The common case: nothing to redact before the cut.
        out = self._raw[self._raw_at(pos) : self._raw_at(cut)] if self._gaps else self._raw[pos:cut]
        self._advance(cut)
        return out

    def flush(self, last: str = "") -> str:
        """End of stream: add `last` and release everything still held back."""
        if self.blocked_kind is not None:
            return ""
        self._append(last)
        out = self._drain(final=True)
        self._reset()
        return out

    def _append(self, chunk: str) -> str:
        folded = chunk
        if not chunk.isascii():
            folded = chunk.translate(FOLD_TABLE)
            if len(folded) != len(chunk):
                self._gaps += [len(self._buf) + gap for gap in dropped_offsets(chunk)]
        self._raw += chunk
        self._buf += folded
        return self._buf

    def _raw_at(self, at: int) -> int:
        """Offset in the original text of folded offset `at` (dropped characters go right)."""
        return at + bisect_left(self._gaps, at) if self._gaps else at

    def _reset(self) -> None:
        self._buf, self._raw, self._gaps, self._pos, self._element = "", "", [], 0, None

    def _drain(self, *, final: bool) -> str:
        out: list[str] = []
        while self._element is None or self._skip_element(final=final):
            scan = self._patterns.scan(self._buf, self._pos, final=final, blocking=self._blocking)
            out.append(self._render(scan.hits, scan.cut))
            stop = scan.stop
            if stop is None:
                self._advance(scan.cut)
                break
            self.counts[stop.kind] += 1
            if stop.kind in self._blocking:
                self.blocked_kind = stop.kind
                self._reset()
                break
            out.append(self._placeholders[stop.kind])  # an element left open: drop until it ends
            self._element = stop.rule
            self._advance(stop.value_end)
        return "".join(out)

    def _skip_element(self, *, final: bool) -> bool:
        """Drop text up to the open element's terminator; True once it has ended."""
        rule = self._element
        assert rule is not None and rule.until is not None  # only such rules leave elements open
        closing = rule.until.search(self._buf, self._pos)
        if closing is not None:
            self._element = None
            self._advance(closing.end())
            return True
        if final:
            self._pos = len(self._buf)
            return False
        partial = rule.until_pending.search(self._buf, self._pos) if rule.until_pending else None
        self._advance(partial.start() if partial else len(self._buf))
        return False

    def _render(self, hits: list[Hit], cut: int) -> str:
        raw, at = self._raw, self._pos
        if not hits:
            return raw[self._raw_at(at) : self._raw_at(cut)]
        parts: list[str] = []
        for hit in hits:
            parts.append(raw[self._raw_at(at) : self._raw_at(hit.value_start)])
            parts.append(self._placeholders[hit.kind])
            parts.append(raw[self._raw_at(hit.value_end) : self._raw_at(hit.end)])
            self.counts[hit.kind] += 1
            at = hit.end
        parts.append(raw[self._raw_at(at) : self._raw_at(cut)])
        return "".join(parts)

    def _advance(self, cut: int) -> None:
        keep = cut - CONTEXT  # lookbehinds read at most CONTEXT released characters
        if keep <= 0:
            self._pos = cut
            return
        if self._gaps:
            self._raw = self._raw[self._raw_at(keep) :]
            self._gaps = [gap - keep for gap in self._gaps if gap >= keep]
        else:
            self._raw = self._raw[keep:]
        self._buf = self._buf[keep:]
        self._pos = CONTEXT


class RedactedText(NamedTuple):
    text: str
    counts: Counter[RedactionKind]
    blocked_kind: RedactionKind | None


def redact_text(
    text: str, policy: RedactionPolicy, *, canaries: Sequence[str] = (), lang: str = "en"
) -> RedactedText:
    """Redact a whole text at once; after a block, `text` is what came before it."""
    redactor = StreamRedactor(policy, canaries=canaries, lang=lang)
    out = redactor.flush(text)
    return RedactedText(out, redactor.counts, redactor.blocked_kind)


def redact_value(
    value: object,
    policy: RedactionPolicy,
    *,
    canaries: Sequence[str] = (),
    max_chars: int = MAX_VALUE_CHARS,
) -> object:
    """A redacted copy of a log or span value: strings inside dicts, lists and tuples.

    A string that hits a block-action kind becomes that kind's placeholder as a whole. A string
    longer than `max_chars` is cut first; of the cut text only what no further character could
    have changed is kept (a value cut mid-secret loses the whole secret, not just its tail).
    """
    if isinstance(value, str):
        return _redact_string(value, policy, canaries=canaries, max_chars=max_chars)
    if isinstance(value, dict):
        return {
            key: redact_value(item, policy, canaries=canaries, max_chars=max_chars)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [
            redact_value(item, policy, canaries=canaries, max_chars=max_chars) for item in value
        ]
        return items if isinstance(value, list) else tuple(items)
    return value


def _redact_string(
    text: str, policy: RedactionPolicy, *, canaries: Sequence[str], max_chars: int
) -> str:
    redactor = StreamRedactor(policy, canaries=canaries)
    if len(text) <= max_chars:
        out = redactor.flush(text)
    else:
        out = redactor.feed(text[:max_chars]) + TRUNCATED
    blocked = redactor.blocked_kind
    return out if blocked is None else policy.placeholder(blocked)
