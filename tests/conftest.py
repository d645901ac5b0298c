"""Shared fixtures: apps are built from ``Settings`` objects, never from ``os.environ``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from rag.index import build_index
from rag.knowledge import load_knowledge_base
from service.app import Harness
from service.settings import DEFAULT_KB_DIR, RetrievalSettings, Settings
from tests.live_server import LiveServer, serve_in_thread


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo KB's index, built once per test session."""
    index_dir = tmp_path_factory.mktemp("index")
    build_index(load_knowledge_base(DEFAULT_KB_DIR), index_dir=index_dir, embeddings_name="hashing")
    return index_dir


@pytest.fixture
def settings_factory(demo_index_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        overrides.setdefault(
            "retrieval", RetrievalSettings(index_dir=demo_index_dir, build_if_missing=False)
        )
        return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]

    return make


class AppHandle:
    """A live Beacon on an ephemeral port, with its registry and span exporter to inspect."""

    def __init__(
        self, server: LiveServer, registry: CollectorRegistry, spans: InMemorySpanExporter
    ):
        self.server = server
        self.registry = registry
        self.spans = spans

    @property
    def url(self) -> str:
        return self.server.url

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def beacon_factory(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., AppHandle]]:
    from service.app import create_app

    handles: list[AppHandle] = []

    def start(*, harness: Harness | None = None, **overrides: Any) -> AppHandle:
        """``harness``: drill or eval scaffolding, installed the way their servers do."""
        registry, spans = CollectorRegistry(), InMemorySpanExporter()
        settings = settings_factory(**overrides)
        app = create_app(settings, registry=registry, span_exporter=spans, harness=harness)
        handle = AppHandle(serve_in_thread(app), registry, spans)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.server.stop()


@pytest.fixture
def beacon(beacon_factory: Callable[..., AppHandle]) -> AppHandle:
    """Beacon on the embedded defaults (the `faq` provider)."""
    return beacon_factory()
