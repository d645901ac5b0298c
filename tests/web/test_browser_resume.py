"""Resumable answers in the browser: a cut connection and a reload mid-answer both complete
from Beacon's turn buffer, with one upstream request (the simulator counts them)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from evals.drills.tcp_proxy import TcpProxy
from evals.upstream.process import SimulatorProcess
from tests.web.browser import ChatPage
from tests.web.conftest import ANSWER

pytestmark = pytest.mark.slow


def words_shown(chat: ChatPage) -> int:
    return len(chat.answer(0).split()) if chat.turns() else 0


def test_cut_connection_mid_answer_completes_without_a_second_upstream_request(
    model_chat: ChatPage, proxy: TcpProxy, upstream: SimulatorProcess
) -> None:
    """The connection drops after a few tokens; the widget reconnects with Last-Event-ID and
    shows the whole answer once, and the model was asked once."""
    chat = model_chat
    chat.ask("How do I request a refund?")
    chat.wait(lambda: words_shown(chat) >= 5)
    assert proxy.drop() >= 1
    chat.screenshot("08-connection-cut")
    chat.wait_finished(0)
    chat.screenshot("09-resumed-complete")
    assert chat.answer(0) == ANSWER
    assert not chat.turn(0).find_elements(By.CSS_SELECTOR, ".beacon-error")
    assert upstream.stats()["requests_total"]["none"] == 1


def test_reload_mid_answer_takes_up_the_stream(
    model_chat: ChatPage, upstream: SimulatorProcess
) -> None:
    """Reloading the page while an answer streams restores the turn and finishes it from the
    buffer, with no second upstream request."""
    chat = model_chat
    chat.ask("How long does delivery take?")  # not cached by the test before
    chat.wait(lambda: words_shown(chat) >= 5)
    chat.open(fresh=False)
    chat.wait_finished(0)
    chat.screenshot("10-reload-mid-answer")
    assert chat.answer(0) == ANSWER
    assert upstream.stats()["requests_total"]["none"] == 1
