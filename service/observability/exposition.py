"""``GET /metrics`` at exactly that path (a mount would redirect it to ``/metrics/``).

prometheus-client's ASGI app negotiates the format: a scraper that sends
``Accept: application/openmetrics-text`` gets OpenMetrics, the only format with exemplars.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.types import Receive, Scope, Send


class MetricsEndpoint:
    """An ASGI app (not a function), so Starlette's ``Route`` passes it the raw scope."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.app = make_asgi_app(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
