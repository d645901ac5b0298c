"""Time to the first painted token on the page, next to the server's own time to first token.

A measurement, not a gate: it prints the figures and saves them to
``var/artifacts/browser/first-paint.json``; it asserts only that every figure was taken.
"""

from __future__ import annotations

import json
import statistics

import pytest

from evals.drills.service_process import BeaconProcess
from tests.web.browser import ARTIFACTS, ChatPage

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How do I request a refund?",
    "怎么申请退款？",
    "How long does delivery take?",
    "怎么修改收货地址？",
    "How do I reset my password?",
    "发票怎么开？",
]

PAINT_DELAY = """
var id = arguments[0];
var asked = performance.getEntriesByName('beacon:asked:' + id)[0];
var painted = performance.getEntriesByName('beacon:painted:' + id)[0];
return asked && painted ? painted.startTime - asked.startTime : null;
"""


def test_first_painted_token_is_measured_against_server_ttft(
    chat: ChatPage, served_beacon: BeaconProcess
) -> None:
    """For each question: ms from pressing Enter to the first token painted, and the server's
    ttft_ms from its ask_completed log line (same trace id)."""
    for index, question in enumerate(QUESTIONS):
        chat.ask(question)
        chat.wait_finished(index)
    rows = []
    logged = {
        record["trace_id"]: record
        for record in served_beacon.log_records()
        if record.get("event") == "ask_completed"
    }
    for turn in chat.stored_turns():
        paint_ms = chat.js(PAINT_DELAY, turn["id"])
        server_ms = logged[turn["trace"]]["ttft_ms"]
        rows.append(
            {"question": turn["q"], "page_first_paint_ms": paint_ms, "server_ttft_ms": server_ms}
        )
    assert all(row["page_first_paint_ms"] is not None for row in rows)
    summary = {
        "page_first_paint_ms_median": statistics.median(r["page_first_paint_ms"] for r in rows),
        "server_ttft_ms_median": statistics.median(r["server_ttft_ms"] for r in rows),
        "rows": rows,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "first-paint.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    print(  # noqa: T201
        f"first painted token: median {summary['page_first_paint_ms_median']:.1f} ms on the page, "
        f"server ttft median {summary['server_ttft_ms_median']:.1f} ms"
    )
