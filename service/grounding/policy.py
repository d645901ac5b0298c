"""What the customer sees instead of a sentence whose claim the evidence does not support."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class UnsupportedAction(StrEnum):
    REPLACE = "replace"
    """Replace the held part of the sentence with a pointer to the cited entry."""
    HANDOFF = "handoff"
    """Replace it with an offer of a human agent and end the answer there."""
    OBSERVE = "observe"
    """Release it unchanged and only report it (for evals that measure the raw model)."""


_POINTER = {
    "en": "— please check “{title}” in our help centre for the exact details.",
    "zh": "——具体请以帮助中心“{title}”中的说明为准。",
}
_POINTER_UNTITLED = {
    "en": "— please check our help centre for the exact details.",
    "zh": "——具体请以帮助中心的说明为准。",
}
_HUMAN = {
    "en": "— I'd rather not guess at the details, so a human agent can confirm them for you: "
    "reply “agent” to be transferred.",
    "zh": "——这部分细节我不便妄下结论，可以由人工客服为你确认：回复“人工”即可转接。",
}


@dataclass(frozen=True, slots=True)
class GroundingPolicy:
    """The action for an unsupported claim, and its wording per language."""

    action: UnsupportedAction = UnsupportedAction.REPLACE
    pointer: Mapping[str, str] = field(default_factory=lambda: dict(_POINTER))
    pointer_untitled: Mapping[str, str] = field(default_factory=lambda: dict(_POINTER_UNTITLED))
    human: Mapping[str, str] = field(default_factory=lambda: dict(_HUMAN))

    def replacement(self, lang: str, title: str | None) -> str:
        key = "zh" if lang.lower().startswith("zh") else "en"
        if self.action is UnsupportedAction.HANDOFF:
            return self.human[key]
        if title:
            return self.pointer[key].format(title=title)
        return self.pointer_untitled[key]
