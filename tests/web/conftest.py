"""Fixtures for the browser tests: one Chromium, real ``beacon serve`` processes, the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from evals.drills.service_process import BeaconProcess, start_beacon, wait_until_ready
from evals.upstream.process import pick_free_port
from tests.web.browser import ChatPage, start_chromium


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def serve(index_dir: Path, work: Path, **settings: str) -> Iterator[BeaconProcess]:
    """``beacon serve`` as its own process, on the demo index, feedback kept under ``work``."""
    env = {
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir),
        "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
        "BEACON_FEEDBACK__DB_PATH": str(work / "feedback.sqlite"),
        **settings,
    }
    port = pick_free_port("127.0.0.1")
    with start_beacon(env, port=port, log_path=work / "beacon.log") as beacon:
        wait_until_ready(beacon)
        yield beacon


@pytest.fixture(scope="module")
def served_beacon(
    demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BeaconProcess]:
    """Beacon on the embedded defaults (the `faq` provider), as `make run` serves it."""
    yield from serve(demo_index_dir, tmp_path_factory.mktemp("beacon-web"))


@pytest.fixture
def chat(chromium: webdriver.Chrome, served_beacon: BeaconProcess) -> ChatPage:
    """The chat page of ``served_beacon``, with an empty conversation."""
    return ChatPage(chromium, served_beacon.url).open()
