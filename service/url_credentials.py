"""URLs without their credentials, for log lines: ``https://***@host/v1?api_key=***``.

An operator may put a password in a URL (``https://user:pass@gateway/v1``) or a key in its
query (``?api_key=...``, ``?token=...``); the startup log prints every setting, so every URL in
it loses the user-info part and the values of query parameters whose name says they are secret.
Parsing is ``urllib.parse`` (linear, no pattern over the text), and only strings with ``://``
are treated as URLs.
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

MASK = "***"
# A query parameter whose lower-cased name contains one of these holds a credential.
SECRET_PARAMETER_PARTS = (
    "key", "token", "secret", "pass", "pwd", "auth", "sig", "credential", "session",
)  # fmt: skip


def hide_url_credentials(url: str) -> str:
    """``url`` with its user-info and secret-named query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 host: nothing of it is safe to show
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(_masked_parameter(pair) for pair in parts.query.split("&"))
    return SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment).geturl()


def hide_credentials_in(value: object) -> object:
    """A JSON-shaped value (dicts, lists, strings) with every URL in it made safe to log."""
    if isinstance(value, str):
        return hide_url_credentials(value) if "://" in value else value
    if isinstance(value, dict):
        return {key: hide_credentials_in(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [hide_credentials_in(item) for item in value]
    return value


def _masked_parameter(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    lowered = unquote(name).lower()
    if equals and any(part in lowered for part in SECRET_PARAMETER_PARTS):
        return f"{name}={MASK}"
    return pair
