"""Identity at the HTTP door: a refused customer token is a 401 with its own code."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from service.admission.customer_token import CUSTOMER_TOKEN_HEADER, CustomerTokens
from service.settings import AdmissionSettings
from tests.conftest import AppHandle

SECRET = "http-test-customer-token-secret-0123456789abcdef"


@pytest.fixture
def beacon_with_tokens(beacon_factory: Callable[..., AppHandle]) -> AppHandle:
    return beacon_factory(admission=AdmissionSettings(customer_token_secret=SecretStr(SECRET)))


@pytest.mark.parametrize("accept", ["text/event-stream", "application/json"])
def test_a_forged_token_gets_401_invalid_customer_token(
    beacon_with_tokens: AppHandle, accept: str
) -> None:
    """A token signed with another secret is refused before any byte of answer, in SSE and
    JSON mode alike, with the code, a trace id, and no echo of the token."""
    forged = CustomerTokens("not-the-shared-secret-" + "z" * 32, max_ttl_s=900).issue("demo-bo")
    response = httpx.post(
        f"{beacon_with_tokens.url}/ask",
        json={"question": "Where is my order BC-123456?"},
        headers={CUSTOMER_TOKEN_HEADER: forged, "accept": accept},
        timeout=30,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "invalid_customer_token"
    assert body["trace_id"] == response.headers["x-trace-id"]
    assert forged not in response.text
    shed = beacon_with_tokens.metric("beacon_shed_total", reason="unauthorized")
    assert shed == 1
