"""Fixtures for the browser tests: one Chromium, real ``beacon serve`` processes, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from evals.drills.service_process import BeaconProcess
from evals.drills.tcp_proxy import TcpProxy
from evals.upstream.process import SimulatorProcess
from tests.served import SLOW_ANSWER, model_beacon_behind_proxy, serve_beacon, slow_model
from tests.web.browser import ChatPage, start_chromium

ANSWER = SLOW_ANSWER


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def served_beacon(
    demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BeaconProcess]:
    """Beacon on the embedded defaults (the `faq` provider), as `make run` serves it."""
    with serve_beacon(demo_index_dir, tmp_path_factory.mktemp("beacon-web")) as beacon:
        yield beacon


@pytest.fixture
def chat(chromium: webdriver.Chrome, served_beacon: BeaconProcess) -> ChatPage:
    """The chat page of ``served_beacon``, with an empty conversation."""
    return ChatPage(chromium, served_beacon.url).open()


@pytest.fixture(scope="module")
def upstream() -> Iterator[SimulatorProcess]:
    """The upstream simulator as the model, slow enough to watch the answer arrive."""
    with slow_model() as simulator:
        yield simulator


@pytest.fixture(scope="module")
def proxy(
    upstream: SimulatorProcess, demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TcpProxy]:
    """Beacon answering with the simulator's model, reached through a proxy we can cut."""
    work = tmp_path_factory.mktemp("beacon-model")
    with model_beacon_behind_proxy(upstream, demo_index_dir, work) as proxy:
        yield proxy


@pytest.fixture
def model_chat(chromium: webdriver.Chrome, proxy: TcpProxy, upstream: SimulatorProcess) -> ChatPage:
    """The chat page of a Beacon that answers with a (simulated) model, counters reset."""
    upstream.reset_stats()
    return ChatPage(chromium, proxy.url("http")).open()
