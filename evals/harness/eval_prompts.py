"""The prompt-injection eval's system prompts, installed around a Beacon from outside.

The eval writes a JSON file, ``{conversation_id: {"system": text, "secret": marker}}``. A
request of one of those conversations gets ``system`` appended to its system prompt (the case's
own prompt, with its secret in it), so one server runs every case; every secret becomes a
canary (blocked in answers, hidden in logs and spans). ``eval_harness`` wraps the planner;
``beacon serve`` has none of this.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from service.app import Harness
from service.pipeline.context import AskContext
from service.pipeline.plan import AnswerPlan
from service.pipeline.services import Planner, Services
from service.providers.base import ChatMessage
from service.schemas import AskRequest
from service.settings import MIN_CANARY_CHARS

__all__ = [
    "EvalSystemPrompts",
    "EvalSystemPromptsError",
    "eval_harness",
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


@functools.lru_cache(maxsize=4)
def load_eval_system_prompts(path: Path) -> EvalSystemPrompts:
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


def with_system_addition(plan: AnswerPlan, text: str) -> AnswerPlan:
    """``plan`` with ``text`` appended to its system message (plans without a model: as is)."""
    request = plan.request
    if request is None or not request.messages or request.messages[0].role != "system":
        return plan
    first, *rest = request.messages
    system = ChatMessage("system", f"{first.content}\n\n{text}")
    return dataclasses.replace(plan, request=dataclasses.replace(request, messages=(system, *rest)))


def planner_with_prompts(planner: Planner, prompts: EvalSystemPrompts) -> Planner:
    async def plan_case(ask: AskRequest, context: AskContext) -> AnswerPlan:
        answer_plan = await planner(ask, context)
        addition = prompts.for_conversation(ask.conversation_id)
        return answer_plan if addition is None else with_system_addition(answer_plan, addition)

    return plan_case


def eval_harness(path: Path) -> Harness:
    """The eval scaffolding: each case's system prompt, and its secret as a canary."""
    prompts = load_eval_system_prompts(path)

    def install(services: Services) -> Services:
        planner = planner_with_prompts(services.planner, prompts)
        return dataclasses.replace(services, planner=planner)

    return Harness(wrap_services=install, canaries=prompts.secrets)
