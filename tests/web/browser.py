"""Debian's headless Chromium driven by Selenium, and a page object for the chat widget.

``make test`` installs ``chromium`` and ``chromium-driver`` (``make chromium``); the driver is
given by path (``Service(executable_path=...)``) so Selenium Manager never downloads anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "browser"
T = TypeVar("T")


class ChromiumMissing(RuntimeError):
    """chromium or chromedriver is not installed: run `make chromium` (part of `make test`)."""


def start_chromium() -> webdriver.Chrome:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        raise ChromiumMissing("install Debian's chromium and chromium-driver: `make chromium`")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=900,1000",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


class ChatPage:
    """The chat page at ``/`` as a customer sees it: ask, read, rate, reload."""

    def __init__(self, driver: webdriver.Chrome, base_url: str, *, timeout_s: float = 20.0):
        self.driver = driver
        self.base_url = base_url
        self.timeout_s = timeout_s

    def open(self, *, fresh: bool = True) -> ChatPage:
        self.driver.get(f"{self.base_url}/")
        if fresh:
            self.driver.execute_script("localStorage.clear()")
            self.driver.refresh()
        self.wait(lambda: self.driver.find_elements(By.CSS_SELECTOR, ".beacon-input"))
        return self

    def wait(self, condition: Callable[[], T], timeout_s: float | None = None) -> T:
        wait = WebDriverWait(
            self.driver,
            timeout_s or self.timeout_s,
            poll_frequency=0.02,
            ignored_exceptions=(StaleElementReferenceException,),  # the widget re-renders
        )
        result: T = wait.until(lambda _: condition())
        return result

    def ask(self, question: str) -> None:
        box = self.driver.find_element(By.CSS_SELECTOR, ".beacon-input")
        box.send_keys(question)
        box.send_keys(Keys.ENTER)  # the keyboard path a customer uses

    def turns(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, ".beacon-turn")

    def turn(self, index: int) -> WebElement:
        return self.wait(lambda: self.turns()[index] if len(self.turns()) > index else None)

    def answer(self, index: int) -> str:
        text: str = self.turn(index).find_element(By.CSS_SELECTOR, ".beacon-answer").text
        return text

    def wait_finished(self, index: int) -> WebElement:
        """The turn once its answer is complete (done or error) and the widget is idle again."""

        def finished() -> bool:
            bot = self.turn(index).find_element(By.CSS_SELECTOR, ".beacon-bot")
            idle = self.driver.find_element(By.CSS_SELECTOR, ".beacon-send").is_enabled()
            return bot.get_attribute("aria-busy") == "false" and idle

        self.wait(finished)
        return self.turn(index)

    def citations(self, index: int) -> list[str]:
        items = self.turn(index).find_elements(By.CSS_SELECTOR, ".beacon-cite-name")
        return [item.text for item in items]

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def stored_turns(self) -> list[dict[str, Any]]:
        """The widget's saved copy of the conversation (what a reload restores from)."""
        turns: list[dict[str, Any]] = self.js(
            "var c = localStorage.getItem('beacon:conversation');"
            "return c ? JSON.parse(localStorage.getItem('beacon:turns:' + c)) : [];"
        )
        return turns

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path
