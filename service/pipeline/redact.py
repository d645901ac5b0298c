"""Redaction of PII, secrets, prompt canaries and unsafe markup, for streams, logs and spans.

`StreamRedactor` is fed an answer chunk by chunk and releases text as soon as no pattern can still
cover it; `redact_text` is the one-shot form and `redact_value` walks log and span values. All
three apply one `RedactionPolicy` (`redaction_policy.yaml`), so the client stream, the logs and the
spans hide the same things. The rules live in `redaction_patterns`, the scanner that decides
them on a growing buffer in `redaction_scanner`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple, TypeVar

import yaml

from service.pipeline.redaction_patterns import RedactionKind
from service.pipeline.redaction_scanner import CONTEXT, CompiledRule, Hit, pattern_set

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

POLICY_PATH = Path(__file__).with_name("redaction_policy.yaml")
LANGS = ("en", "zh")
# A log or span value is cut to this many characters before it is redacted: paths, headers and
# exception texts are attacker-sized (a 56 KB User-Agent), and a log line needs none of that.
MAX_VALUE_CHARS = 8_192
TRUNCATED = "…[truncated]"


class RedactionAction(StrEnum):
    MASK = "mask"  # replace the match with the kind's placeholder
    BLOCK = "block"  # stop the answer; the client gets the policy's block message


class RedactionPolicyError(ValueError):
    """The redaction policy file is unreadable or malformed."""


_DEFAULT_PLACEHOLDERS: Mapping[RedactionKind, Mapping[str, str]] = {
    RedactionKind.EMAIL: {"en": "[email]", "zh": "[邮箱]"},
    RedactionKind.PHONE: {"en": "[phone]", "zh": "[电话]"},
    RedactionKind.CARD: {"en": "[card]", "zh": "[银行卡]"},
    RedactionKind.CN_ID: {"en": "[id]", "zh": "[身份证号]"},
    RedactionKind.SECRET: {"en": "[secret]", "zh": "[密钥]"},
    RedactionKind.CANARY: {"en": "[redacted]", "zh": "[已隐去]"},
    RedactionKind.MARKUP: {"en": "", "zh": ""},
}


def _lang(lang: str) -> str:
    return "zh" if lang.lower().startswith("zh") else "en"


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """What to do with each kind, and the words the client sees instead."""

    actions: Mapping[RedactionKind, RedactionAction]
    placeholders: Mapping[RedactionKind, Mapping[str, str]]
    block_messages: Mapping[str, str]
    blocking: frozenset[RedactionKind] = field(init=False)

    def __post_init__(self) -> None:
        blocking = frozenset(k for k, a in self.actions.items() if a is RedactionAction.BLOCK)
        object.__setattr__(self, "blocking", blocking)

    def action(self, kind: RedactionKind) -> RedactionAction:
        return self.actions[kind]

    def placeholder(self, kind: RedactionKind, lang: str = "en") -> str:
        return self.placeholders[kind][_lang(lang)]

    def block_message(self, lang: str = "en") -> str:
        return self.block_messages[_lang(lang)]


def load_redaction_policy(path: Path | None = None) -> RedactionPolicy:
    """Read and validate a policy file (default: the one shipped beside this module)."""
    source = path or POLICY_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RedactionPolicyError(f"{source}: cannot read redaction policy: {exc}") from exc
    return parse_redaction_policy(data, source=str(source))


def parse_redaction_policy(data: object, *, source: str = "<policy>") -> RedactionPolicy:
    """Validate a decoded policy document; unknown kinds, actions or keys are errors."""
    root = _mapping(data, source, allowed={"version", "kinds", "block_message"})
    actions = {k: RedactionAction.MASK for k in RedactionKind}
    actions[RedactionKind.CANARY] = RedactionAction.BLOCK
    placeholders = dict(_DEFAULT_PLACEHOLDERS)
    for name, entry in _mapping(root.get("kinds", {}), f"{source}: kinds").items():
        kind = _choice(RedactionKind, name, f"{source}: kinds: unknown redaction kind")
        where = f"{source}: kinds.{kind}"
        fields = _mapping(entry, where, allowed={"action", "placeholder"})
        if "action" in fields:
            actions[kind] = _choice(RedactionAction, fields["action"], f"{where}: unknown action")
        if "placeholder" in fields:
            placeholders[kind] = _by_lang(fields["placeholder"], f"{where}.placeholder")
    if "block_message" not in root:
        raise RedactionPolicyError(f"{source}: block_message (en, zh) is required")
    messages = _by_lang(root["block_message"], f"{source}: block_message", required=True)
    return RedactionPolicy(actions, placeholders, messages)


def _mapping(value: object, where: str, *, allowed: set[str] | None = None) -> dict[str, object]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise RedactionPolicyError(f"{where}: expected a mapping")
    unknown = set(value) - allowed if allowed is not None else set()
    if unknown:
        raise RedactionPolicyError(f"{where}: unknown keys {sorted(unknown)}")
    return value


_E = TypeVar("_E", bound=StrEnum)


def _choice(enum: type[_E], value: object, message: str) -> _E:
    try:
        return enum(str(value))
    except ValueError:
        expected = ", ".join(member.value for member in enum)
        raise RedactionPolicyError(f"{message} {value!r} (expected one of: {expected})") from None


def _by_lang(value: object, where: str, *, required: bool = False) -> dict[str, str]:
    texts = {lang: value for lang in LANGS} if isinstance(value, str) else value
    fields = _mapping(texts, where, allowed=set(LANGS))
    if set(fields) != set(LANGS) or not all(isinstance(t, str) for t in fields.values()):
        raise RedactionPolicyError(f"{where}: needs a text for each of {', '.join(LANGS)}")
    if required and not all(fields.values()):
        raise RedactionPolicyError(f"{where}: texts must not be empty")
    return {lang: str(text) for lang, text in fields.items()}


class StreamRedactor:
    """Redacts a text stream incrementally; pure, no I/O, one per answer.

    `feed` returns the text that is now safe to release and holds back only a tail that could
    still be (part of) a pattern; `flush` releases the rest. For any split of the input into
    chunks, the concatenated output equals `redact_text` of the whole input. After a block-action
    kind (by default a canary) `blocked` is set and nothing more is released.
    """

    __slots__ = (
        "_blocking",
        "_buf",
        "_element",
        "_patterns",
        "_placeholders",
        "_pos",
        "blocked_kind",
        "counts",
    )

    def __init__(self, policy: RedactionPolicy, *, canaries: Sequence[str] = (), lang: str = "en"):
        self._patterns = pattern_set(tuple(sorted({c.strip() for c in canaries} - {""})))
        self._placeholders = {kind: policy.placeholder(kind, lang) for kind in RedactionKind}
        self._blocking = policy.blocking
        self._buf = ""  # raw text: a little released context, then the held-back tail
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
        return len(self._buf) - self._pos

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that no later chunk can change."""
        if self.blocked_kind is not None:
            return ""
        buf = self._buf = self._buf + chunk
        pos = self._pos
        cut = self._patterns.plain_cut(buf, pos) if self._element is None else None
        if cut is None:
            return self._drain(final=False)
        self._advance(cut)  # the common case: nothing to redact before the cut
        return buf[pos:cut]

    def flush(self, last: str = "") -> str:
        """End of stream: add `last` and release everything still held back."""
        if self.blocked_kind is not None:
            return ""
        self._buf += last
        out = self._drain(final=True)
        self._buf, self._pos, self._element = "", 0, None
        return out

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
                self._buf, self._pos = "", 0
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
        buf, at = self._buf, self._pos
        if not hits:
            return buf[at:cut]
        parts: list[str] = []
        for hit in hits:
            parts += (buf[at : hit.value_start], self._placeholders[hit.kind])
            parts.append(buf[hit.value_end : hit.end])
            self.counts[hit.kind] += 1
            at = hit.end
        parts.append(buf[at:cut])
        return "".join(parts)

    def _advance(self, cut: int) -> None:
        keep = max(0, cut - CONTEXT)  # lookbehinds read at most CONTEXT released characters
        if keep:
            self._buf = self._buf[keep:]
        self._pos = cut - keep


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
