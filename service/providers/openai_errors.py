"""The one boundary where OpenAI SDK and LangChain errors become Beacon's typed errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import openai
import structlog

from service.errors import (
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)

log = structlog.get_logger("beacon.provider")


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate_openai_error(error: BaseException) -> ProviderError:
    """Map a third-party exception to a typed provider error (never leaking its text)."""
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, openai.APITimeoutError | asyncio.TimeoutError | TimeoutError):
        return ProviderTimeout()
    if isinstance(error, openai.RateLimitError):
        return ProviderRateLimited(retry_after_s=_retry_after(error))
    if isinstance(error, openai.APIConnectionError):
        return ProviderUnavailable()
    if isinstance(error, openai.APIStatusError):
        if error.status_code >= 500:
            return ProviderUnavailable(retry_after_s=_retry_after(error))
        return ProviderBadResponse()
    if isinstance(error, openai.APIResponseValidationError | ValueError | KeyError):
        return ProviderBadResponse()
    return ProviderUnavailable()


@contextlib.contextmanager
def openai_errors_translated() -> Iterator[None]:
    try:
        yield
    except (asyncio.CancelledError, GeneratorExit):
        raise
    except Exception as error:
        translated = translate_openai_error(error)
        # The type name helps on-call; the message may quote upstream text, so it stays out.
        log.warning("provider_failed", error_type=type(error).__name__, code=translated.code)
        raise translated from error
