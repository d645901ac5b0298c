"""Requests refused before the stream: one ``request_rejected`` line and their counts.

They never reach the pipeline, so they have no ``ask_completed`` line and no
``beacon_requests_total`` increment (that counter reconciles with terminal events). Each one is
counted in ``beacon_errors_total{layer,code}``. A refusal by a gate at the door is load shed and
also counts in ``beacon_shed_total{reason}``: the body limit passes ``shed_reason`` here, and
admission control (rate limit, queue) counts its own reasons, which only it can tell apart.
Schema errors (422) are the client's bug, not load: errors, never shed.
"""

from __future__ import annotations

import structlog

from service.errors import ServiceError
from service.observability.metrics import Metrics

log = structlog.get_logger("beacon.http")
# A refused request's path is the client's to choose (60 KB of it fits in a request line): only
# its start is logged, so the line stays small and its redaction cheap.
MAX_LOGGED_PATH_CHARS = 512


def record_rejection(
    metrics: Metrics,
    error: ServiceError,
    *,
    trace_id: str,
    path: str,
    shed_reason: str | None = None,
) -> None:
    metrics.errors.labels(error.layer, error.code).inc()
    if shed_reason is not None:
        metrics.shed.labels(shed_reason).inc()
    log.info(
        "request_rejected",
        trace_id=trace_id,
        path=path[:MAX_LOGGED_PATH_CHARS],
        status=error.status,
        error_layer=error.layer,
        error_code=error.code,
        shed_reason=shed_reason,
    )
