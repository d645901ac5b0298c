"""Orders belong to customers: only the owner reads an order; anyone else learns nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from service.admission import hash_api_key
from service.observability.metrics import Metrics
from service.settings import CUSTOMER_ID_PATTERN, AdmissionSettings
from service.tools.order_status import OrderStatus, OrderStatusTool, describe_order, order_evidence
from service.tools.orders_db import DEMO_CUSTOMERS, OrderRow, build_orders_db, demo_orders
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse, parse_sse

ORDERS = demo_orders()
ORDER = ORDERS[2]  # shipped: its answer carries a carrier and a tracking number
STRANGER = next(who for who in DEMO_CUSTOMERS if who != ORDER.customer_id)


class Lookup:
    """The tool over the demo database, and over the same database without ``ORDER``."""

    def __init__(self, tmp_path: Path) -> None:
        build_orders_db(tmp_path / "orders.sqlite")
        build_orders_db(tmp_path / "without.sqlite", [row for row in ORDERS if row != ORDER])
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.tool = OrderStatusTool(
            tmp_path / "orders.sqlite", timeout_s=1.0, attempts=2, metrics=self.metrics
        )
        self.without = OrderStatusTool(
            tmp_path / "without.sqlite", timeout_s=1.0, attempts=2, metrics=self.metrics
        )

    def ask(
        self, customer_id: str | None, *, missing: bool = False
    ) -> tuple[OrderStatus, list[str]]:
        calls: list[str] = []
        tool = self.without if missing else self.tool
        status = asyncio.run(tool.get_order_status(ORDER.order_id, calls, customer_id=customer_id))
        return status, calls

    def denied(self) -> float:
        value = self.registry.get_sample_value(
            "beacon_tool_denied_total", {"tool": "get_order_status"}
        )
        return value or 0.0


@pytest.fixture
def lookup(tmp_path: Path) -> Lookup:
    return Lookup(tmp_path)


def seen_by_customer(status: OrderStatus) -> tuple[object, ...]:
    """Everything of a result that reaches the customer, in both languages."""
    return (
        status,
        describe_order(status, "en"),
        describe_order(status, "zh"),
        order_evidence(status, "en"),
        order_evidence(status, "zh"),
    )


def test_a_customer_reads_its_own_order(lookup: Lookup) -> None:
    """The owner gets the order's status, carrier and tracking number."""
    status, calls = lookup.ask(ORDER.customer_id)
    assert status.row == ORDER and calls == ["get_order_status:found"]
    assert ORDER.tracking_number is not None
    assert ORDER.tracking_number in describe_order(status, "en")
    assert ORDER.tracking_number in describe_order(status, "zh")
    assert lookup.denied() == 0


def test_another_customers_order_reads_exactly_like_a_missing_one(lookup: Lookup) -> None:
    """A stranger's result for a real order equals the result for that order in a database
    that never held it: status, texts, evidence and tool_calls."""
    denied, denied_calls = lookup.ask(STRANGER)
    missing, missing_calls = lookup.ask(STRANGER, missing=True)
    assert seen_by_customer(denied) == seen_by_customer(missing)
    assert denied_calls == missing_calls == ["get_order_status:not_found"]
    assert str(ORDER.tracking_number) not in str(seen_by_customer(denied))


def test_no_customer_gets_the_not_found_answer(lookup: Lookup) -> None:
    """Without a customer identity every order reads as missing."""
    status, calls = lookup.ask(None)
    missing, _ = lookup.ask(None, missing=True)
    assert seen_by_customer(status) == seen_by_customer(missing)
    assert calls == ["get_order_status:not_found"]


@pytest.mark.parametrize("customer_id", [STRANGER, None])
def test_a_denied_attempt_is_logged_with_hashes_and_counted(
    lookup: Lookup, customer_id: str | None
) -> None:
    """order_access_denied names the tool and keyed hashes, never the order number or the
    customer; beacon_tool_denied_total counts it."""
    with capture_logs() as logs:
        lookup.ask(customer_id)
    (line,) = [entry for entry in logs if entry["event"] == "order_access_denied"]
    assert line["tool"] == "get_order_status" and len(line["order_ref"]) == 16
    assert (line["customer_ref"] is None) == (customer_id is None)
    rendered = str(line)
    assert ORDER.order_id not in rendered and ORDER.order_id.removeprefix("BC-") not in rendered
    assert customer_id is None or customer_id not in rendered
    assert lookup.denied() == 1


def test_a_missing_order_is_not_a_denial(lookup: Lookup) -> None:
    """Asking about an order that does not exist is neither logged as denied nor counted."""
    with capture_logs() as logs:
        lookup.ask(STRANGER, missing=True)
    assert not [entry for entry in logs if entry["event"] == "order_access_denied"]
    assert lookup.denied() == 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.sampled_from(ORDERS),
    asking=st.none()
    | st.sampled_from(DEMO_CUSTOMERS)
    | st.from_regex(CUSTOMER_ID_PATTERN, fullmatch=True),
)
def test_only_the_owner_ever_sees_an_order(
    lookup: Lookup, order: OrderRow, asking: str | None
) -> None:
    """For any order and any asking customer (or none), the order is returned exactly when the
    asker is its owner."""
    calls: list[str] = []
    status = asyncio.run(lookup.tool.get_order_status(order.order_id, calls, customer_id=asking))
    assert (status.row is not None) == (asking == order.customer_id)
    assert status.row in (None, order)


def test_the_body_customer_id_grants_nothing(beacon: AppHandle) -> None:
    """Naming the owner in the request body still gets the answer of a missing order."""
    question = f"Where is my order {ORDER.order_id}?"
    _, events = ask_sse(beacon.url, question, customer_id=ORDER.customer_id)
    text = answer_text(events)
    assert f"could not find order {ORDER.order_id}" in text
    assert str(ORDER.tracking_number) not in text and events[-1].event == "done"


def test_the_key_s_customer_reads_its_order_through_ask(beacon_factory: Any) -> None:
    """Through /ask, a key bound to the order's owner gets its carrier and tracking number; a
    key bound to another customer gets the missing-order answer for the same question."""
    owner_key, stranger_key = "owner-key-0123456789", "stranger-key-0123456789"
    customers = {hash_api_key(owner_key): ORDER.customer_id, hash_api_key(stranger_key): STRANGER}
    beacon = beacon_factory(
        admission=AdmissionSettings(api_key_sha256=tuple(customers), api_key_customers=customers)
    )
    question = f"Where is my order {ORDER.order_id}?"

    def answer_for(key: str) -> str:
        headers = {"authorization": f"Bearer {key}"}
        with httpx.Client(base_url=beacon.url, timeout=30, headers=headers) as client:
            return answer_text(parse_sse(client.post("/ask", json={"question": question}).text))

    owner, stranger = answer_for(owner_key), answer_for(stranger_key)
    assert str(ORDER.tracking_number) in owner
    assert f"could not find order {ORDER.order_id}" in stranger
    assert str(ORDER.tracking_number) not in stranger
