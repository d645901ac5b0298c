"""structlog configuration: JSON lines to stdout, trace ids from contextvars, one place only."""

from __future__ import annotations

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
    """Configure structlog once per process; ``redact`` is the redaction policy's processor,
    run last before rendering so nothing raw reaches stdout."""
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


def redaction_processor(policy: RedactionPolicy, *, canaries: tuple[str, ...]) -> Processor:
    """The log sink's copy of the stream redaction policy: every value is redacted before
    rendering, so a PII value or the canary never reaches stdout raw."""

    def redact_event(_: Any, __: str, event_dict: EventDict) -> EventDict:
        redacted = redact_value(dict(event_dict), policy, canaries=canaries)
        assert isinstance(redacted, dict)
        return redacted

    return redact_event
