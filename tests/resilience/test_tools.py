"""The get_order_status tool: order numbers, the demo database, retries and the tool route."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.errors import ToolFailed
from service.observability.metrics import Metrics
from service.tools.order_number import find_order_id
from service.tools.order_status import OrderStatusTool, describe_order
from service.tools.orders_db import build_orders_db, demo_orders
from tests.conftest import AppHandle
from tests.resilience.conftest import LogLines, ask_faulted
from tests.sse_client import answer_text, ask_sse


@pytest.mark.parametrize(
    ("question", "order_id"),
    [
        ("Where is my order BC-100004?", "BC-100004"),
        ("status of bc100012 please", "BC-100012"),
        ("What about order #100031?", "BC-100031"),
        ("Order number: 100002 has not arrived", "BC-100002"),
        ("订单号 100007 到哪了？", "BC-100007"),
        ("我的订单100009怎么还没到", "BC-100009"),
        ("How do I request a refund?", None),
        ("My phone is 13812345678", None),
        ("Order 1234567 is a seven-digit number", None),
    ],
)
def test_order_numbers_are_found_in_both_languages(question: str, order_id: str | None) -> None:
    """Order numbers in the usual spellings are found and normalised; other numbers are not."""
    assert find_order_id(question) == order_id


def test_lookup_finds_demo_orders_and_reports_unknown_ones(tmp_path: Path) -> None:
    """A demo order is found for its owner; an unknown one is a not_found result, not an error."""
    db = tmp_path / "orders.sqlite"
    assert build_orders_db(db) == 40
    order = demo_orders()[3]
    tool = OrderStatusTool(db, timeout_s=1.0, attempts=2, metrics=Metrics(CollectorRegistry()))
    calls: list[str] = []
    found = asyncio.run(tool.get_order_status(order.order_id, calls, customer_id=order.customer_id))
    missing = asyncio.run(tool.get_order_status("BC-999999", calls, customer_id=order.customer_id))
    assert found.row == order
    assert missing.row is None and "could not find" in describe_order(missing, "en")
    assert calls == ["get_order_status:found", "get_order_status:not_found"]


def test_a_broken_database_fails_after_one_retry(tmp_path: Path) -> None:
    """A database that cannot be read gives ToolFailed after two attempts, both listed."""
    (tmp_path / "orders.sqlite").write_bytes(b"not a database")
    metrics = Metrics(CollectorRegistry())
    tool = OrderStatusTool(tmp_path / "orders.sqlite", timeout_s=1.0, attempts=2, metrics=metrics)
    calls: list[str] = []
    with pytest.raises(ToolFailed):
        asyncio.run(tool.get_order_status("BC-100001", calls, customer_id="demo-alice"))
    assert calls == ["get_order_status:failed"] * 2


def test_an_order_question_is_answered_from_the_tool_and_cited(
    beacon: AppHandle, log_lines: LogLines
) -> None:
    """The router sends it to the tool; its result is the first citation and the answer (for a
    caller with no customer identity: the answer of a missing order, however real it is)."""
    order_id = demo_orders()[3].order_id
    _, events = ask_sse(beacon.url, f"Where is my order {order_id}?")
    meta, evidence = events[0].data, events[1].data
    assert (meta["route"], meta["reason"]) == ("tool", "order_number")
    citation = evidence["citations"][0]
    assert (citation["id"], citation["source"]) == (f"order:{order_id}", "orders-db")
    assert f"could not find order {order_id}" in answer_text(events)
    assert events[-1].event == "done"
    (line,) = log_lines.events("ask_completed")
    assert line["tool_calls"] == ["get_order_status:not_found"]


@pytest.mark.parametrize(
    ("fault", "result"), [("tool_timeout", "timeout"), ("tool_error", "failed")]
)
def test_tool_faults_retry_once_then_hand_over(
    resilient: Callable[..., AppHandle], log_lines: LogLines, fault: str, result: str
) -> None:
    """Two attempts, both in tool_calls; then a handoff whose cause is the tool error."""
    beacon = resilient()
    events = ask_faulted(beacon.url, "Where is my order BC-100004?", fault)
    done = events[-1].data
    assert done["finish_reason"] == "handoff" and done["fallbacks"] == ["tool->handoff"]
    assert done["degraded"] == {"code": f"tool_{result}", "layer": "tool"}
    (line,) = log_lines.events("ask_completed")
    assert line["route"] == "tool"
    assert line["tool_calls"] == [f"get_order_status:{result}"] * 2
    assert beacon.metric("beacon_errors_total", layer="tool", code=f"tool_{result}") == 1
