"""The markers a deployment hides: its canary, extra canaries, and (evals only) case secrets.

Every marker is a canary for the redaction policy: an answer that reaches one is blocked, and the
logs and spans show a placeholder instead. ``extra_canaries`` are markers an operator adds (other
secrets a prompt holds). ``eval_system_prompts`` is the prompt-injection eval's seam: a JSON file
written by the eval, ``{conversation_id: {"system": text, "secret": marker}}``; a request of one
of those conversations gets ``system`` appended to its system prompt (the case's own prompt, with
its secret in it), so one server runs every case. Settings refuse it in prod.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from service.pipeline.generation import AnswerPlan
from service.providers.base import ChatMessage
from service.settings import MIN_CANARY_CHARS, Settings

__all__ = [
    "EvalSystemPrompts",
    "EvalSystemPromptsError",
    "extra_canaries",
    "load_eval_system_prompts",
    "with_system_addition",
]


class EvalSystemPromptsError(ValueError):
    """The eval's system-prompt file is unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class EvalSystemPrompts:
    """Per-conversation additions to the system prompt, and the secrets they carry."""

    texts: Mapping[str, str]
    secrets: tuple[str, ...]

    def for_conversation(self, conversation_id: str | None) -> str | None:
        return self.texts.get(conversation_id) if conversation_id is not None else None


NO_EVAL_PROMPTS = EvalSystemPrompts(texts={}, secrets=())


@functools.lru_cache(maxsize=4)
def load_eval_system_prompts(path: Path | None) -> EvalSystemPrompts:
    """Read the eval's file (cached: the app and its resources both ask for it)."""
    if path is None:
        return NO_EVAL_PROMPTS
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise EvalSystemPromptsError(f"{path}: cannot read eval system prompts: {exc}") from exc
    if not isinstance(data, dict):
        raise EvalSystemPromptsError(f"{path}: expected an object of conversation ids")
    texts, secrets = {}, []
    for conversation_id, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"system", "secret"}:
            raise EvalSystemPromptsError(f"{path}: {conversation_id}: needs system and secret")
        system, secret = entry["system"], entry["secret"]
        if not isinstance(system, str) or not isinstance(secret, str):
            raise EvalSystemPromptsError(f"{path}: {conversation_id}: texts must be strings")
        if len(secret.strip()) < MIN_CANARY_CHARS or secret not in system:
            raise EvalSystemPromptsError(
                f"{path}: {conversation_id}: the secret needs {MIN_CANARY_CHARS}+ characters "
                "and must appear in the system text"
            )
        texts[conversation_id] = system
        secrets.append(secret)
    return EvalSystemPrompts(texts=texts, secrets=tuple(secrets))


def extra_canaries(settings: Settings) -> tuple[str, ...]:
    """Every marker besides ``settings.canary``: the extra canaries, then the eval's secrets."""
    extra = tuple(marker.get_secret_value() for marker in settings.extra_canaries)
    return extra + load_eval_system_prompts(settings.eval_system_prompts).secrets


def with_system_addition(plan: AnswerPlan, text: str) -> AnswerPlan:
    """``plan`` with ``text`` appended to its system message (plans without a model: as is)."""
    request = plan.request
    if request is None or not request.messages or request.messages[0].role != "system":
        return plan
    first, *rest = request.messages
    system = ChatMessage("system", f"{first.content}\n\n{text}")
    return dataclasses.replace(plan, request=dataclasses.replace(request, messages=(system, *rest)))
