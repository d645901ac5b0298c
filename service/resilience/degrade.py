"""How a degradation is recorded: once in the log line, once in ``beacon_fallbacks_total``.

Every step is named from a closed set (``hard``, ``easy``, ``faq``, ``handoff``, ``retrieval``,
``tool``, ``router``), so ``from``/``to`` stay bounded metric labels. The first failure that
forced a fallback is the request's ``error_code``/``error_layer``: the log line then tells what
broke, and ``outcome`` tells whether the customer still got an answer.
"""

from __future__ import annotations

from typing import Any

from service.errors import ServiceError
from service.observability.ask_record import AskRecord
from service.observability.metrics import Metrics


def record_fallback(
    record: AskRecord, metrics: Metrics, *, source: str, target: str, cause: ServiceError
) -> None:
    record.fallbacks.append(f"{source}->{target}")
    metrics.fallbacks.labels(source, target).inc()
    if record.error_code is None:
        record.error_layer, record.error_code = cause.layer, cause.code


def fallback_fields(record: AskRecord) -> dict[str, Any]:
    """What the ``done`` event says about degradations: the steps taken, their cause, and the
    model that answered in the end (``none`` for a handoff)."""
    if not record.fallbacks:
        return {"fallbacks": []}
    return {
        "fallbacks": list(record.fallbacks),
        "degraded": {"code": record.error_code, "layer": record.error_layer},
        "answered_by": record.model,
    }
