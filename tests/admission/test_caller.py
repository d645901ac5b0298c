"""Who is asking: API keys, their tenants, and the support site's signed customer tokens."""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError

from service.admission import Admission, hash_api_key
from service.admission.caller import Caller
from service.admission.customer_token import (
    CUSTOMER_TOKEN_HEADER,
    LEEWAY_S,
    MAX_TOKEN_CHARS,
    CustomerTokens,
    InvalidCustomerToken,
)
from service.admission.keys import ApiKeys
from service.errors import Unauthorized
from service.observability.metrics import Metrics
from service.settings import CUSTOMER_ID_PATTERN, AdmissionSettings

SECRET = "test-only-customer-token-secret-0123456789abcdef"
SITE_KEY, TENANT_KEY = "site-key-for-tests", "tenant-key-for-tests"
TOKENS = CustomerTokens(SECRET, max_ttl_s=900)


def keys(**overrides: Any) -> ApiKeys:
    values: dict[str, Any] = {
        "api_key_sha256": (hash_api_key(SITE_KEY),),
        "api_key_customers": {hash_api_key(TENANT_KEY): "demo-bo"},
        "customer_token_secret": SecretStr(SECRET),
        **overrides,
    }
    return ApiKeys.from_settings(AdmissionSettings(**values))


def site(token: str | None = None, key: str = SITE_KEY) -> dict[str, str]:
    headers = {"authorization": f"Bearer {key}"}
    return headers | ({CUSTOMER_TOKEN_HEADER: token} if token is not None else {})


def test_a_plain_key_has_no_customer() -> None:
    """The support site's own key identifies the site, not a customer."""
    assert keys().identify(site()) == Caller(hash_api_key(SITE_KEY), None)


def test_a_tenant_key_names_its_customer() -> None:
    """A key bound in api_key_customers carries that customer."""
    caller = keys().identify({"x-api-key": TENANT_KEY})
    assert caller == Caller(hash_api_key(TENANT_KEY), "demo-bo")


def test_a_valid_token_names_its_customer() -> None:
    """A token the site signed names the customer, with the site's key or with keys off."""
    token = TOKENS.issue("demo-alice")
    assert keys().identify(site(token)).customer_id == "demo-alice"
    keyless = keys(api_key_sha256=(), api_key_customers={})
    assert keyless.identify({CUSTOMER_TOKEN_HEADER: token}) == Caller("anonymous", "demo-alice")


def test_keys_off_make_an_anonymous_caller_that_shares_one_bucket() -> None:
    """Without configured keys the caller has no customer and the anonymous bucket."""
    assert ApiKeys(()).identify({"x-api-key": "anything"}) == Caller("anonymous", None)


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": "k" * 10_000}])
def test_a_missing_or_unknown_key_is_unauthorized(headers: dict[str, str]) -> None:
    """No key, a wrong key or an oversized one: 401 unauthorized."""
    with pytest.raises(Unauthorized) as refused:
        keys().identify(headers)
    assert refused.value.code == "unauthorized"


def forged() -> str:
    return CustomerTokens("another-secret-" + "x" * 40, max_ttl_s=900).issue("demo-alice")


def expired() -> str:
    return TOKENS.issue("demo-alice", ttl_s=60, now=time.time() - 600)


def long_lived() -> str:
    return CustomerTokens(SECRET, max_ttl_s=10**9).issue("demo-alice", ttl_s=86_400)


def tampered() -> str:
    """A real token whose payload now names another customer, signature kept."""
    header, _, signature = TOKENS.issue("demo-alice").split(".")
    claims = {"sub": "demo-bo", "aud": "beacon", "iat": int(time.time()), "exp": 2**40}
    payload = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def unsigned() -> str:
    now = int(time.time())
    claims = {"sub": "demo-alice", "aud": "beacon", "iat": now, "exp": now + 60}
    return jwt.encode(claims, None, algorithm="none")


def claims_token(**claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "demo-alice", "aud": "beacon", "iat": now, "exp": now + 60}
    values = {key: value for key, value in {**base, **claims}.items() if value is not None}
    return jwt.encode(values, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forged(), id="forged"),
        pytest.param(expired(), id="expired"),
        pytest.param(long_lived(), id="lives-too-long"),
        pytest.param(tampered(), id="tampered"),
        pytest.param(unsigned(), id="alg-none"),
        pytest.param(claims_token(aud="someone-else"), id="wrong-audience"),
        pytest.param(claims_token(exp=None), id="no-expiry"),
        pytest.param(claims_token(iat=None), id="no-issued-at"),
        pytest.param(claims_token(sub="a b/c"), id="odd-customer-id"),
        pytest.param(claims_token(iat=int(time.time()) + 3600), id="issued-in-the-future"),
        pytest.param(claims_token(exp=time.time() + 60.5), id="fractional-expiry"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param("a" * (MAX_TOKEN_CHARS + 1), id="oversized"),
    ],
)
def test_a_bad_token_is_refused_with_its_own_code(token: str) -> None:
    """Forged, expired, too long-lived, tampered, unsigned or malformed tokens: 401
    invalid_customer_token, never an anonymous pass and never another exception."""
    with pytest.raises(InvalidCustomerToken) as refused:
        keys().identify(site(token))
    assert (refused.value.status, refused.value.code) == (401, "invalid_customer_token")


def test_a_remembered_token_still_expires() -> None:
    """A token verified once (and remembered) is refused after its expiry plus the leeway, and
    before its issue time minus the leeway."""
    now = [1_900_000_000.0]
    tokens = CustomerTokens(SECRET, max_ttl_s=900, clock=lambda: now[0])
    token = tokens.issue("demo-chen", ttl_s=300)
    assert tokens.customer_id(token) == "demo-chen"
    now[0] += 300 + LEEWAY_S + 1
    with pytest.raises(InvalidCustomerToken):
        tokens.customer_id(token)
    now[0] -= 300 + 2 * LEEWAY_S + 2
    with pytest.raises(InvalidCustomerToken):
        tokens.customer_id(token)


@given(st.text(max_size=MAX_TOKEN_CHARS + 50))
def test_any_text_as_a_token_is_refused_cleanly(text: str) -> None:
    """Arbitrary header text never verifies and never raises anything but the 401."""
    with pytest.raises(InvalidCustomerToken):
        TOKENS.customer_id(text)


@given(st.from_regex(CUSTOMER_ID_PATTERN, fullmatch=True))
def test_issued_tokens_round_trip(customer_id: str) -> None:
    """Every valid customer id survives issue and verify unchanged."""
    assert TOKENS.customer_id(TOKENS.issue(customer_id)) == customer_id


def test_a_tenant_key_cannot_speak_for_another_customer() -> None:
    """A key bound to one customer with a token for another is refused."""
    headers = site(TOKENS.issue("demo-alice"), key=TENANT_KEY)
    with pytest.raises(InvalidCustomerToken):
        keys().identify(headers)
    same = site(TOKENS.issue("demo-bo"), key=TENANT_KEY)
    assert keys().identify(same).customer_id == "demo-bo"


def test_a_token_is_refused_where_no_secret_is_configured() -> None:
    """A service without customer_token_secret refuses tokens instead of ignoring them."""
    with pytest.raises(InvalidCustomerToken):
        keys(customer_token_secret=None).identify(site(TOKENS.issue("demo-alice")))


def test_a_refused_token_counts_as_unauthorized_shed() -> None:
    """Admission counts a bad token under beacon_shed_total{reason="unauthorized"}."""
    registry = CollectorRegistry()
    settings = AdmissionSettings(customer_token_secret=SecretStr(SECRET))
    gate = Admission(settings, Metrics(registry))
    with pytest.raises(InvalidCustomerToken):
        gate.authenticate({CUSTOMER_TOKEN_HEADER: forged()})
    assert registry.get_sample_value("beacon_shed_total", {"reason": "unauthorized"}) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"customer_token_secret": SecretStr("too-short")},
        {"api_key_customers": {SITE_KEY: "demo-bo"}},
        {"api_key_customers": {hash_api_key(SITE_KEY): "not a customer id"}},
    ],
)
def test_weak_or_malformed_identity_settings_are_rejected(overrides: dict[str, Any]) -> None:
    """A short token secret, a raw key instead of a digest, or a bad customer id fail fast."""
    with pytest.raises(ValidationError):
        AdmissionSettings(**overrides)
