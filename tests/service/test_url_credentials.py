"""URLs are logged without their credentials: user-info and secret-named query values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from service.settings import LLMSettings, ObservabilitySettings, Settings
from service.url_credentials import hide_credentials_in, hide_url_credentials

SECRETISH = st.text(alphabet="abcdefghijkmnpqrstuvwxyz23456789-_~", min_size=6, max_size=40)
HOSTS = st.sampled_from(["gw.example", "10.0.0.7", "[::1]", "llm.internal.svc", "模型.example"])


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("https://user:pw@host/v1", "https://***@host/v1"),
        ("https://token@github.example/x.git", "https://***@github.example/x.git"),
        ("http://a:b@c:d@host:8080/p", "http://***@host:8080/p"),
        ("https://h/v1?api_key=sk-1&model=m", "https://h/v1?api_key=***&model=m"),
        ("https://h/v1?token=t&Access_Token=u&x=1", "https://h/v1?token=***&Access_Token=***&x=1"),
        (
            "https://h/?X-Amz-Signature=abc&X-Amz-Security-Token=def",
            "https://h/?X-Amz-Signature=***&X-Amz-Security-Token=***",
        ),
        ("https://h/v1?password=&q", "https://h/v1?password=***&q"),
        ("http://127.0.0.1:8100/v1", "http://127.0.0.1:8100/v1"),
        ("redis://:s3cret@redis:6379/0", "redis://***@redis:6379/0"),
        ("http://[::1", "***"),
    ],
)
def test_known_credential_shapes_are_hidden(url: str, logged: str) -> None:
    """Passwords, bare tokens in user-info and secret query parameters become ***."""
    assert hide_url_credentials(url) == logged


@given(user=SECRETISH, password=SECRETISH, token=SECRETISH, host=HOSTS)
def test_no_credential_survives_and_the_address_does(
    user: str, password: str, token: str, host: str
) -> None:
    """For any user, password and token, the logged URL keeps scheme, host and path and
    contains none of the three."""
    url = f"https://{user}:{password}@{host}/v1/chat?token={token}&model=gpt"
    logged = hide_url_credentials(url)
    assert logged == f"https://***@{host}/v1/chat?token=***&model=gpt"
    assert user not in logged and password not in logged and token not in logged


def test_the_settings_dump_hides_every_url_credential() -> None:
    """masked() cleans every URL in the settings, nested anywhere, and leaves other text alone."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        canary=SecretStr("per-deployment-canary-42"),
        llm=LLMSettings(base_url="https://u:Pa55word@gw.example/v1"),
        observability=ObservabilitySettings(otlp_endpoint="https://otel/v1/traces?auth=Zm9vYmFy"),
    )
    dumped = str(settings.masked())
    assert "Pa55word" not in dumped and "Zm9vYmFy" not in dumped
    assert "https://***@gw.example/v1" in dumped and "https://otel/v1/traces?auth=***" in dumped


def test_json_values_are_walked_without_changing_non_urls() -> None:
    """Lists and dicts are walked; strings without :// and numbers pass through."""
    value = {"a": ["x:y@z", "http://u:p@h/"], "b": 3, "c": None}
    assert hide_credentials_in(value) == {"a": ["x:y@z", "http://***@h/"], "b": 3, "c": None}
