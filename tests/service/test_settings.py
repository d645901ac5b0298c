"""Settings come from BEACON_* variables with __ nesting, and prod refuses demo secrets."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """BEACON_LLM__HARD_MODEL reaches settings.llm.hard_model."""
    monkeypatch.setenv("BEACON_PROVIDER", "openai")
    monkeypatch.setenv("BEACON_LLM__HARD_MODEL", "gpt-4o")
    monkeypatch.setenv("BEACON_ROUTER__FAQ_MIN_SCORE", "0.7")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.provider == "openai"
    assert settings.llm.hard_model == "gpt-4o"
    assert settings.router.faq_min_score == 0.7


def test_production_refuses_the_demo_canary() -> None:
    """env=prod fails fast while the canary is the shipped demo value."""
    with pytest.raises(ValidationError, match="BEACON_CANARY"):
        Settings(_env_file=None, env="prod")  # type: ignore[call-arg]


def test_secrets_stay_masked_in_the_startup_dump() -> None:
    """The settings dump logged at startup never contains the API key."""
    settings = Settings(_env_file=None, llm={"api_key": "sk-live-very-secret"})  # type: ignore[call-arg]
    assert "sk-live-very-secret" not in str(settings.masked())


def test_unknown_settings_are_rejected() -> None:
    """A misspelt option is an error, not silently ignored."""
    with pytest.raises(ValidationError):
        Settings(_env_file=None, router={"faq_min_scor": 0.5})  # type: ignore[call-arg]
