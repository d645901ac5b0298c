"""API keys: settings hold only their SHA-256 digests, requests present the key itself.

A key is read from ``Authorization: Bearer <key>`` or ``x-api-key: <key>``. Keys are random
strings, so one unsalted SHA-256 is enough to make a leaked settings file useless, and a set
lookup on the digest leaks nothing useful through timing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

ANONYMOUS = "anonymous"


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
    """The accepted keys; with none configured every request is let in as ``anonymous``."""

    def __init__(self, digests: Iterable[str]) -> None:
        self._digests = frozenset(digest.lower() for digest in digests)

    @property
    def required(self) -> bool:
        return bool(self._digests)

    def identify(self, headers: Mapping[str, str]) -> str | None:
        """The caller's identity (its key's digest), ``anonymous`` when keys are off, or None
        when a key is required and missing or unknown."""
        if not self._digests:
            return ANONYMOUS
        key = presented_key(headers)
        if key is None:
            return None
        digest = hash_api_key(key)
        return digest if digest in self._digests else None
