"""The internal app: ``/metrics``, ``/readyz`` and ``/healthz`` on a port of their own.

With ``internal_port`` set, the public app serves neither ``/metrics`` nor ``/readyz``: what the
service's counters say and whether it is ready are for the cluster (Prometheus, the kubelet),
not for whoever can reach the API. ``beacon serve`` runs both apps' servers in one process
(``service/servers.py``). The internal app shares the public app's metrics registry and, once
the public lifespan has built them, its resources; until then ``/readyz`` answers 503.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from service.api import health
from service.observability.exposition import MetricsEndpoint
from service.resources import Resources

INTERNAL_PATHS = frozenset({"/metrics", "/readyz"})


class ResourceSlot:
    """Where the public app's lifespan leaves its resources for the internal app to read."""

    def __init__(self) -> None:
        self.resources: Resources | None = None


def create_internal_app(registry: CollectorRegistry, slot: ResourceSlot) -> Starlette:
    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse(await health.healthz())

    async def readyz(_: Request) -> JSONResponse:
        if slot.resources is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return await health.readyz(slot.resources)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", MetricsEndpoint(registry)),
        ]
    )


def internal_app_of(app: ASGIApp) -> ASGIApp | None:
    """The internal app ``create_app`` built beside ``app``, or None without ``internal_port``."""
    internal: ASGIApp | None = getattr(getattr(app, "state", None), "internal_app", None)
    return internal
