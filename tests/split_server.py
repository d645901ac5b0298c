"""A Beacon with ``internal_port``: its public app and its internal app on two live servers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from service.app import create_app
from service.internal_app import internal_app_of
from service.settings import Settings
from tests.live_server import LiveServer, serve_in_thread


@dataclass(frozen=True)
class SplitBeacon:
    public: LiveServer
    internal: LiveServer
    registry: CollectorRegistry


@contextmanager
def serve_split(settings: Settings) -> Iterator[SplitBeacon]:
    """Serve ``settings`` (which must set ``internal_port``) as ``beacon serve`` would, each
    app on an ephemeral loopback port; both are stopped when the block exits."""
    registry = CollectorRegistry()
    app = create_app(settings, registry=registry)
    internal = internal_app_of(app)
    if internal is None:
        raise ValueError("serve_split needs settings with internal_port")
    public = serve_in_thread(app)
    try:
        private = serve_in_thread(internal)
        try:
            yield SplitBeacon(public, private, registry)
        finally:
            private.stop()
    finally:
        public.stop()
