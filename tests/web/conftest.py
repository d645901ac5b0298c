"""Fixtures for the browser tests: one Chromium, real ``beacon serve`` processes, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from evals.drills.service_process import BeaconProcess
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from tests.served import serve_beacon
from tests.web.browser import ChatPage, start_chromium
from tests.web.tcp_proxy import TcpProxy

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Forty distinct words and no digits: no checkable claim, so the grounding guard lets every
# word through as it arrives (numbers the evidence does not hold would be replaced).
ANSWER = " ".join(f"step{_LETTERS[i % 26]}{_LETTERS[i // 26]}" for i in range(40))  # ~2 s


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
    config = SimulatorConfig(ttft_ms=50, tokens_per_second=20, answer=ANSWER)
    with start_simulator(config=config) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def proxy(
    upstream: SimulatorProcess, demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TcpProxy]:
    """Beacon answering with the simulator's model, reached through a proxy we can cut."""
    work = tmp_path_factory.mktemp("beacon-model")
    settings = {"BEACON_PROVIDER": "openai", "BEACON_LLM__BASE_URL": upstream.openai_base_url}
    with serve_beacon(demo_index_dir, work, **settings) as beacon:
        tcp = TcpProxy(beacon.port)
        yield tcp
        tcp.close()


@pytest.fixture
def model_chat(chromium: webdriver.Chrome, proxy: TcpProxy, upstream: SimulatorProcess) -> ChatPage:
    """The chat page of a Beacon that answers with a (simulated) model, counters reset."""
    upstream.reset_stats()
    return ChatPage(chromium, proxy.url).open()
