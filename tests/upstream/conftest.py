"""One real simulator process for the whole package, started on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from evals.upstream import SimulatorProcess, start_simulator
from tests.upstream.chat import TEST_CONFIG


@pytest.fixture(scope="package")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=TEST_CONFIG) as process:
        yield process


@pytest.fixture
def client(simulator: SimulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator.base_url, timeout=10.0) as http:
        yield http
