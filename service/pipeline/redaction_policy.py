"""The redaction policy: what to do with each kind, and the words the client sees instead.

Read from `redaction_policy.yaml` (beside this module) and validated strictly: unknown kinds,
actions or keys are errors, so a typo cannot switch a kind off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml

from service.pipeline.redaction_patterns import RedactionKind

__all__ = [
    "LANGS",
    "POLICY_PATH",
    "RedactionAction",
    "RedactionPolicy",
    "RedactionPolicyError",
    "load_redaction_policy",
    "parse_redaction_policy",
]

POLICY_PATH = Path(__file__).with_name("redaction_policy.yaml")
LANGS = ("en", "zh")


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
    RedactionKind.IBAN: {"en": "[iban]", "zh": "[银行账号]"},
    RedactionKind.SSN: {"en": "[ssn]", "zh": "[社保号]"},
    RedactionKind.IP_ADDRESS: {"en": "[ip]", "zh": "[IP地址]"},
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
