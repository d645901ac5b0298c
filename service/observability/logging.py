"""structlog configuration: JSON lines to stdout, trace ids from contextvars, one place only."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import orjson
import structlog

from service.pipeline.redact import RedactionPolicy, redact_value
from service.settings import ObservabilitySettings

EventDict = MutableMapping[str, Any]
Processor = Callable[[Any, str, EventDict], EventDict]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(settings: ObservabilitySettings, *, redact: Processor | None = None) -> None:
    """Configure structlog for the process (``create_app`` does, once per app); ``redact`` is
    the redaction policy's processor, run last before rendering so nothing raw reaches stdout."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    if redact is not None:
        processors.append(redact)
    if settings.log_format == "json":
        processors.append(structlog.processors.JSONRenderer(serializer=orjson.dumps))
        factory: Any = structlog.BytesLoggerFactory()  # sys.stdout, looked up per logger
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
        factory = structlog.PrintLoggerFactory()
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[settings.log_level]),
        logger_factory=factory,
        # Not cached: each app configures its own policy and canary (tests build many apps in
        # one process), and a log call is made once per request, not per token.
        cache_logger_on_first_use=False,
    )


# Values the service itself produces in a fixed format, never user text. A random trace id
# can look like a phone or card number (about 3 in 1,000 do), and redacting it would cut the
# log line off from its trace.
UNREDACTED_KEYS = frozenset({"trace_id", "span_id", "event", "level", "timestamp"})
REDACTION_CACHE_SIZE = 4096
# Only short values are cached: the ones that repeat (routes, models, versions, FAQ ids) are
# short, and a cache of attacker-chosen paths would hold up to 4,096 x 8 KB otherwise.
CACHED_VALUE_CHARS = 256


def redaction_processor(policy: RedactionPolicy, *, canaries: tuple[str, ...]) -> Processor:
    """The log sink's copy of the stream redaction policy: every other value, nested ones
    included, is redacted before rendering, so a PII value or the canary never reaches stdout.

    Redacting a string is deterministic, and most values repeat from line to line (routes,
    models, versions, FAQ ids), so results are cached: a line costs a few lookups, not a scan
    per field."""

    @functools.lru_cache(maxsize=REDACTION_CACHE_SIZE)
    def redact_short(text: str) -> object:
        return redact_value(text, policy, canaries=canaries)

    def redact(value: object) -> object:
        if isinstance(value, str):
            if len(value) <= CACHED_VALUE_CHARS:
                return redact_short(value)
            return redact_value(value, policy, canaries=canaries)  # cut to MAX_VALUE_CHARS
        if isinstance(value, dict):
            return {key: redact(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            items = [redact(item) for item in value]
            return items if isinstance(value, list) else tuple(items)
        return value

    def redact_event(_: Any, __: str, event_dict: EventDict) -> EventDict:
        return {
            key: value if key in UNREDACTED_KEYS else redact(value)
            for key, value in event_dict.items()
        }

    return redact_event
