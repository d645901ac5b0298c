"""Fixtures for the browser tests: one Chromium, real ``beacon serve`` processes, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from evals.drills.service_process import BeaconProcess
from tests.served import serve_beacon
from tests.web.browser import ChatPage, start_chromium


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
