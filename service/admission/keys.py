"""Who is asking: the API key, and the customer something unforgeable names.

Settings hold only SHA-256 digests of API keys; requests present the key itself, in
``Authorization: Bearer <key>`` or ``x-api-key: <key>``. Keys are random strings, so one
unsalted SHA-256 is enough to make a leaked settings file useless, and a set lookup on the digest
leaks nothing useful through timing.

The customer comes from one of two places the caller cannot forge:

* the key's tenant: ``api_key_customers`` maps a key digest to a customer id (a key issued to
  one customer's own integration);
* a customer token the support site signs (``customer_token.py``), for the site's own key, which
  speaks for many customers.

A key bound to a customer may not present a token for another one. Nothing in the request body
names the customer: without a key tenant or a valid token the caller has no customer, and the
order tool answers as if no order existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from service.admission.caller import Caller
from service.admission.customer_token import (
    CUSTOMER_TOKEN_HEADER,
    CustomerTokens,
    InvalidCustomerToken,
)
from service.errors import Unauthorized
from service.settings import AdmissionSettings

ANONYMOUS = "anonymous"
MAX_KEY_CHARS = 512  # longer is no key of ours; refused before it is hashed


def hash_api_key(key: str) -> str:
    """The digest to put in ``BEACON_ADMISSION__API_KEY_SHA256`` for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return headers.get("x-api-key") or None


class ApiKeys:
    """The accepted keys (none configured: every caller is let in, keyless) and the customer
    tokens' verifier (None: no token is accepted)."""

    def __init__(
        self,
        digests: Iterable[str],
        *,
        customers: Mapping[str, str] | None = None,
        tokens: CustomerTokens | None = None,
    ) -> None:
        self._customers = {digest.lower(): who for digest, who in (customers or {}).items()}
        self._digests = frozenset(digest.lower() for digest in digests) | self._customers.keys()
        self._tokens = tokens

    @classmethod
    def from_settings(cls, settings: AdmissionSettings) -> ApiKeys:
        secret = settings.customer_token_secret
        tokens = (
            CustomerTokens(secret.get_secret_value(), max_ttl_s=settings.customer_token_max_ttl_s)
            if secret is not None
            else None
        )
        return cls(settings.api_key_sha256, customers=settings.api_key_customers, tokens=tokens)

    @property
    def required(self) -> bool:
        return bool(self._digests)

    def identify(self, headers: Mapping[str, str]) -> Caller:
        """The caller, or raise ``Unauthorized`` (no or unknown key while keys are required) or
        ``InvalidCustomerToken`` (a token that does not verify, or names another customer)."""
        digest = self._key_digest(headers)
        bound = self._customers.get(digest) if digest is not None else None
        identity = digest or ANONYMOUS
        token = headers.get(CUSTOMER_TOKEN_HEADER)
        if token is None:
            return Caller(identity, bound)
        if self._tokens is None:
            raise InvalidCustomerToken("This service does not accept customer tokens.")
        customer_id = self._tokens.customer_id(token)
        if bound is not None and customer_id != bound:
            raise InvalidCustomerToken("The customer token names another customer than the key.")
        return Caller(identity, customer_id)

    def _key_digest(self, headers: Mapping[str, str]) -> str | None:
        if not self._digests:
            return None
        key = presented_key(headers)
        if key is None or len(key) > MAX_KEY_CHARS:
            raise Unauthorized()
        digest = hash_api_key(key)
        if digest not in self._digests:
            raise Unauthorized()
        return digest
