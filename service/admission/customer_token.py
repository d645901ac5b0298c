"""Customer tokens: the support site vouches for which customer is asking.

The support site knows who is logged in; Beacon does not. The site signs a short-lived JSON Web
Token with a secret it shares with Beacon (``BEACON_ADMISSION__CUSTOMER_TOKEN_SECRET``) and sends
it in the ``x-beacon-customer-token`` header. The token is a standard HS256 JWT (PyJWT here; any
JWT library on the site's side), with these claims, all required::

    {"sub": "<customer id>", "aud": "beacon", "iat": <unix time>, "exp": <unix time>}

Only HS256 is accepted (no ``none``, no algorithm confusion), ``iat`` and ``exp`` are integers,
``exp - iat`` may not exceed ``customer_token_max_ttl_s`` (a token minted for a year is refused,
not trusted for a year), and clocks may differ by ``LEEWAY_S``. A token that is malformed,
forged, tampered with, expired or too long-lived is refused with 401 ``invalid_customer_token``
instead of being treated as anonymous: a site with a wrong secret or a skewed clock should fail
loudly, not quietly lose its customers' orders. A body field never names the customer.

PyJWT's checks cost ~0.2 ms; a site sends one token for a whole session, so verified tokens are
remembered (only ones that verified, at most ``VERIFIED_CACHE_SIZE``), and their times are
checked again on every use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import jwt

from service.errors import Unauthorized
from service.settings import CUSTOMER_ID_PATTERN, MIN_TOKEN_SECRET_BYTES

CUSTOMER_TOKEN_HEADER = "x-beacon-customer-token"
AUDIENCE = "beacon"
ALGORITHM = "HS256"
LEEWAY_S = 30.0
MAX_TOKEN_CHARS = 1024  # a real token is ~200 characters; nothing longer is parsed
VERIFIED_CACHE_SIZE = 4096  # x 1 KB at most; only tokens signed with the secret get in
CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)


class InvalidCustomerToken(Unauthorized):
    code = "invalid_customer_token"
    default_message = (
        "The customer token (header: x-beacon-customer-token) is invalid or expired; "
        "sign a new one."
    )


class CustomerTokens:
    """Verifies (and, for the support site and tests, issues) customer tokens."""

    def __init__(
        self, secret: str, *, max_ttl_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret.encode("utf-8")) < MIN_TOKEN_SECRET_BYTES:
            raise ValueError(f"the customer token secret needs {MIN_TOKEN_SECRET_BYTES}+ bytes")
        self._secret = secret
        self.max_ttl_s = max_ttl_s
        self._clock = clock
        self._verified: dict[str, tuple[str, int, int]] = {}  # token -> (customer, iat, exp)

    def customer_id(self, token: str) -> str:
        """The customer a valid token names; raise ``InvalidCustomerToken`` otherwise."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidCustomerToken()
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = verified
        customer_id, issued, expires = verified
        now = self._clock()
        if not issued - LEEWAY_S <= now <= expires + LEEWAY_S:
            raise InvalidCustomerToken()
        return customer_id

    def _verify(self, token: str) -> tuple[str, int, int]:
        """Signature, audience and claims; the times against this verifier's clock."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={
                    "require": ["sub", "aud", "iat", "exp"],
                    "verify_exp": False,  # both checked below, against self._clock
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:  # the one boundary for PyJWT's errors
            raise InvalidCustomerToken() from error
        subject, issued, expires = claims["sub"], claims["iat"], claims["exp"]
        if not isinstance(subject, str) or CUSTOMER_ID.fullmatch(subject) is None:
            raise InvalidCustomerToken()
        if not all(type(value) is int for value in (issued, expires)):
            raise InvalidCustomerToken()
        if not 0 < expires - issued <= self.max_ttl_s:
            raise InvalidCustomerToken()
        return subject, issued, expires

    def issue(
        self, customer_id: str, *, ttl_s: float | None = None, now: float | None = None
    ) -> str:
        """A token for ``customer_id``, valid ``ttl_s`` (default: the longest allowed)."""
        if CUSTOMER_ID.fullmatch(customer_id) is None:
            raise ValueError("customer ids are 1-128 characters of A-Z a-z 0-9 . _ : -")
        issued = int(self._clock() if now is None else now)
        lifetime = int(self.max_ttl_s if ttl_s is None else ttl_s)
        claims = {"sub": customer_id, "aud": AUDIENCE, "iat": issued, "exp": issued + lifetime}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)
