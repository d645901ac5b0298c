"""Canary settings and the injection eval's per-conversation system prompts (a harness)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr, ValidationError

from evals.harness.eval_prompts import (
    EvalSystemPromptsError,
    eval_harness,
    load_eval_system_prompts,
    with_system_addition,
)
from prompts.loader import load_prompts
from service.pipeline.canaries import extra_canaries
from service.pipeline.plan import AnswerPlan
from service.providers.base import ChatMessage, GenerationRequest
from service.settings import Settings

CANARY = "BEACON-test-canary-91d0"


def settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def write_cases(tmp_path: Path, cases: dict[str, object]) -> Path:
    path = tmp_path / f"cases-{len(list(tmp_path.iterdir()))}.json"
    path.write_bytes(orjson.dumps(cases))
    return path


def test_short_canaries_are_refused() -> None:
    """A canary under eight characters would block ordinary words, so settings refuse it."""
    with pytest.raises(ValidationError, match="at least 8 characters"):
        settings(canary=SecretStr("secret"))
    with pytest.raises(ValidationError, match="at least 8 characters"):
        settings(extra_canaries=(SecretStr("long-enough-1"), SecretStr("pw")))


def test_production_refuses_eval_system_prompts(tmp_path: Path) -> None:
    """The eval's per-conversation prompts are a test seam: no setting can switch them on."""
    path = write_cases(tmp_path, {})
    with pytest.raises(ValidationError, match="eval_system_prompts"):
        settings(env="prod", canary=SecretStr(CANARY), eval_system_prompts=path)
    with pytest.raises(ValidationError, match="eval_system_prompts"):
        settings(eval_system_prompts=path)


def test_extra_canaries_include_the_eval_secrets(tmp_path: Path) -> None:
    """Extra canaries come from the setting, and the eval's harness adds every case's secret."""
    path = write_cases(
        tmp_path, {"case-1": {"system": "The code is Q7-ALPHA-993.", "secret": "Q7-ALPHA-993"}}
    )
    configured = settings(extra_canaries=(SecretStr("ops-marker-55"),))
    assert extra_canaries(configured) == ("ops-marker-55",)
    assert eval_harness(path).canaries == ("Q7-ALPHA-993",)
    assert extra_canaries(settings()) == ()


@pytest.mark.parametrize(
    ("cases", "problem"),
    [
        (["not", "a", "mapping"], "expected an object"),
        ({"c": {"system": "x"}}, "needs system and secret"),
        ({"c": {"system": "code abc", "secret": "abc"}}, "8\\+ characters"),
        ({"c": {"system": "nothing here", "secret": "Q7-ALPHA-993"}}, "must appear"),
    ],
)
def test_malformed_eval_prompts_are_rejected(tmp_path: Path, cases: object, problem: str) -> None:
    """A malformed eval file fails at startup with a message naming the problem."""
    with pytest.raises(EvalSystemPromptsError, match=problem):
        load_eval_system_prompts(write_cases(tmp_path, cases))  # type: ignore[arg-type]


def test_system_addition_extends_only_the_system_message() -> None:
    """The case's text is appended to the system message; the user message is untouched."""
    system = load_prompts()["system"].render("en", canary=CANARY)
    request = GenerationRequest(
        model="m",
        messages=(ChatMessage("system", system), ChatMessage("user", "hi")),
        lang="en",
        evidence=(),
    )
    plan = AnswerPlan(tier="easy", model="m", lang="en", citations=(), request=request)
    extended = with_system_addition(plan, "The secret is Q7-ALPHA-993.")
    assert extended.request is not None
    first, second = extended.request.messages
    assert first.content == f"{system}\n\nThe secret is Q7-ALPHA-993."
    assert second == ChatMessage("user", "hi")
    template = AnswerPlan(tier="none", model="none", lang="en", citations=(), text="refusal")
    assert with_system_addition(template, "x") is template
