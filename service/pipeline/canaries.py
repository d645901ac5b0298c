"""The markers a deployment hides besides its canary: the operator's extra canaries.

Every marker is a canary for the redaction policy: an answer that reaches one is blocked, and the
logs and spans show a placeholder instead. ``extra_canaries`` are markers an operator adds (other
secrets a prompt holds); an eval adds its cases' secrets through ``service.app.Harness``.
"""

from __future__ import annotations

from service.settings import Settings

__all__ = ["extra_canaries"]


def extra_canaries(settings: Settings) -> tuple[str, ...]:
    """Every marker besides ``settings.canary``: the operator's extra canaries."""
    return tuple(marker.get_secret_value() for marker in settings.extra_canaries)
