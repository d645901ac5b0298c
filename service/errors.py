"""Beacon's one error tree; the only place that maps errors to HTTP statuses and events.

ServiceError
├── InputError               layer=input  (bad requests; 4xx before the first byte)
│   ├── InvalidRequest        422 invalid_request
│   ├── BodyTooLarge          413 body_too_large
│   ├── Unauthorized          401 unauthorized
│   ├── InputRejected         400 input_rejected   (the input guard refused the question)
│   ├── ConversationNotFound  404 conversation_not_found (unknown, expired, deleted or not yours)
│   └── ConversationBusy      409 conversation_busy  (another turn of it is still being answered)
├── Shed                     layer=input  (admission control; 429 with Retry-After)
│   ├── RateLimited           429 rate_limited
│   └── Overloaded            429 overloaded   (queue full)
│       └── QueueTimeout      429 overloaded   (waited in the queue too long)
├── ProviderError            layer=model
│   ├── ProviderTimeout       504 model_timeout
│   ├── ProviderRateLimited   429 model_rate_limited
│   ├── ProviderUnavailable   502 model_unavailable
│   └── ProviderBadResponse   502 model_bad_response
├── ToolError                layer=tool
│   ├── ToolTimeout           504 tool_timeout
│   └── ToolFailed            502 tool_failed
├── DataError                layer=data
│   ├── IndexUnavailable      503 index_unavailable
│   ├── RetrievalFailed       503 retrieval_failed
│   ├── ConversationsUnavailable 503 conversations_unavailable (the store cannot be read)
│   └── FeedbackUnavailable   503 feedback_unavailable (the rating could not be stored)
└── InternalError            layer=internal, 500 internal_error

Every error carries a safe, human-readable message; exception text from third parties never
reaches a client, a log line's ``error_code`` or a metric label.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from starlette.responses import JSONResponse

Layer = Literal["input", "model", "tool", "data", "internal"]


class ServiceError(Exception):
    code: ClassVar[str] = "internal_error"
    layer: ClassVar[Layer] = "internal"
    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False
    default_message: ClassVar[str] = "Something went wrong on our side. Please try again."

    def __init__(self, message: str | None = None, *, retry_after_s: float | None = None) -> None:
        self.message = message or self.default_message
        self.retry_after_s = retry_after_s
        super().__init__(self.message)

    def to_payload(self) -> dict[str, object]:
        """The JSON shape shared by HTTP error bodies and the SSE ``error`` event."""
        return {
            "code": self.code,
            "layer": self.layer,
            "retryable": self.retryable,
            "message": self.message,
        }


class InputError(ServiceError):
    layer = "input"
    status = 400
    code = "invalid_request"
    default_message = "The request is not valid."


class InvalidRequest(InputError):
    status = 422
    code = "invalid_request"


class BodyTooLarge(InputError):
    status = 413
    code = "body_too_large"
    default_message = "The request body is too large."


class Unauthorized(InputError):
    status = 401
    code = "unauthorized"
    default_message = "A valid API key is required (header: Authorization: Bearer <key>)."


class InputRejected(InputError):
    status = 400
    code = "input_rejected"
    default_message = (
        "We can't process this message. Please rephrase your question about your order, "
        "account or payment."
    )

    def __init__(self, message: str | None = None, *, signals: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.signals = signals  # the guard's findings, for the log line (never the client)


class ConversationNotFound(InputError):
    status = 404
    code = "conversation_not_found"
    default_message = "No such conversation."


class ConversationBusy(InputError):
    status = 409
    code = "conversation_busy"
    retryable = True
    default_message = "Another message of this conversation is still being answered. Retry shortly."


class Shed(ServiceError):
    layer = "input"
    status = 429
    retryable = True


class RateLimited(Shed):
    code = "rate_limited"
    default_message = "Too many requests for this API key. Retry after the indicated delay."


class Overloaded(Shed):
    code = "overloaded"
    default_message = "The service is at capacity. Retry after the indicated delay."


class QueueTimeout(Overloaded):
    default_message = "The service is at capacity and your request waited too long. Retry later."


class ProviderError(ServiceError):
    layer = "model"
    status = 502
    retryable = True
    code = "model_unavailable"
    default_message = "The answer service is not available right now. Please try again."


class ProviderTimeout(ProviderError):
    status = 504
    code = "model_timeout"
    default_message = "The answer took too long. Please try again."


class ProviderRateLimited(ProviderError):
    status = 429
    code = "model_rate_limited"


class ProviderUnavailable(ProviderError):
    code = "model_unavailable"


class ProviderBadResponse(ProviderError):
    code = "model_bad_response"
    default_message = "The answer could not be completed. Please try again."


class ToolError(ServiceError):
    layer = "tool"
    status = 502
    retryable = True
    code = "tool_failed"
    default_message = "We couldn't look that up right now. Please try again shortly."


class ToolTimeout(ToolError):
    status = 504
    code = "tool_timeout"


class ToolFailed(ToolError):
    code = "tool_failed"


class DataError(ServiceError):
    layer = "data"
    status = 503
    retryable = True
    code = "retrieval_failed"
    default_message = "Our help centre search is unavailable right now. Please try again."


class IndexUnavailable(DataError):
    code = "index_unavailable"


class RetrievalFailed(DataError):
    code = "retrieval_failed"


class ConversationsUnavailable(DataError):
    code = "conversations_unavailable"
    default_message = "Conversation history is unavailable right now. Please try again."


class FeedbackUnavailable(DataError):
    code = "feedback_unavailable"
    default_message = "Your rating could not be saved right now. Please try again."


class InternalError(ServiceError):
    pass


def error_response(error: ServiceError, trace_id: str, **extra: object) -> JSONResponse:
    """The HTTP form of an error: status, JSON body with ``trace_id``, ``Retry-After`` if set."""
    headers = {"x-trace-id": trace_id} if trace_id else {}
    if error.retry_after_s is not None:
        headers["retry-after"] = str(max(1, math.ceil(error.retry_after_s)))
    body: dict[str, object] = {"error": {**error.to_payload(), "trace_id": trace_id}}
    body["trace_id"] = trace_id
    body.update(extra)
    return JSONResponse(body, status_code=error.status, headers=headers)
