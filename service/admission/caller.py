"""Who is asking: the authenticated caller that admission hands down the request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    identity: str
    """The API key's digest, or ``anonymous`` when keys are off: the rate-limit bucket."""
    customer_id: str | None = None
    """The customer the caller acts for, when known (scopes tools such as order lookups)."""
