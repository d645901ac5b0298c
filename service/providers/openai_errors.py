"""The one boundary where upstream model errors become Beacon's typed errors.

Both OpenAI clients end here: the OpenAI SDK / LangChain errors of the langchain adapter and
the ``connection_pool`` errors of the direct client.
"""

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
from service.providers.connection_pool import UpstreamProtocolError, UpstreamTimeout

log = structlog.get_logger("beacon.provider")


def parse_retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_for_status(status: int, *, retry_after: str | None) -> ProviderError:
    """The typed error for an upstream HTTP error status (shared by both OpenAI clients)."""
    delay = parse_retry_after(retry_after)
    if status == 429:
        return ProviderRateLimited(retry_after_s=delay)
    if status in (408, 504):
        return ProviderTimeout()
    if status >= 500:
        return ProviderUnavailable(retry_after_s=delay)
    return ProviderBadResponse()


def translate_openai_error(error: BaseException) -> ProviderError:
    """Map a third-party exception to a typed provider error (never leaking its text)."""
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, openai.APITimeoutError | asyncio.TimeoutError | TimeoutError):
        return ProviderTimeout()
    if isinstance(error, openai.APIConnectionError):
        return ProviderUnavailable()
    if isinstance(error, openai.APIStatusError):
        retry_after = error.response.headers.get("retry-after")
        return error_for_status(error.status_code, retry_after=retry_after)
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


def translate_direct_error(error: BaseException) -> ProviderError:
    """Map a direct-client failure (``connection_pool`` or decoding) to a typed provider error."""
    if isinstance(error, ProviderError):
        return error
    if isinstance(error, UpstreamTimeout | TimeoutError):
        return ProviderTimeout()
    if isinstance(error, UpstreamProtocolError | ValueError | KeyError | TypeError):
        return ProviderBadResponse()
    return ProviderUnavailable()  # connect errors, resets, early closes, anything else


@contextlib.contextmanager
def direct_errors_translated() -> Iterator[None]:
    try:
        yield
    except (asyncio.CancelledError, GeneratorExit):
        raise
    except Exception as error:
        translated = translate_direct_error(error)
        if translated is not error:
            log.warning("provider_failed", error_type=type(error).__name__, code=translated.code)
        raise translated from error
