"""Orders belong to customers: only the owner reads an order; anyone else learns nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from structlog.testing import capture_logs

from service.admission import hash_api_key
from service.admission.customer_token import CUSTOMER_TOKEN_HEADER, CustomerTokens
from service.observability.metrics import Metrics
from service.pipeline.cache import CacheKey
from service.settings import CUSTOMER_ID_PATTERN, AdmissionSettings
from service.tools.order_status import OrderStatus, OrderStatusTool, describe_order, order_evidence
from service.tools.orders_db import DEMO_CUSTOMERS, OrderRow, build_orders_db, demo_orders
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse

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
    assert beacon.metric("beacon_tool_denied_total", tool="get_order_status") == 1


SECRET = "order-test-customer-token-secret-0123456789abcdef"
TENANT_KEY, SITE_KEY = "tenant-key-of-the-orders-test", "site-key-of-the-orders-test"


@pytest.fixture
def keyed_beacon(beacon_factory: Callable[..., AppHandle]) -> AppHandle:
    """Beacon with the support site's key and token secret, and one key bound to ``STRANGER``."""
    admission = AdmissionSettings(
        api_key_sha256=(hash_api_key(SITE_KEY),),
        api_key_customers={hash_api_key(TENANT_KEY): STRANGER},
        customer_token_secret=SecretStr(SECRET),
    )
    return beacon_factory(admission=admission)


def ask_order(beacon: AppHandle, headers: dict[str, str]) -> str:
    response = httpx.post(
        f"{beacon.url}/ask",
        json={"question": f"订单号 {ORDER.order_id.removeprefix('BC-')} 到哪了？"},
        headers={"accept": "application/json", **headers},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: str = response.json()["answer"]
    return answer


def test_through_the_api_a_customer_token_reads_only_its_own_orders(
    keyed_beacon: AppHandle,
) -> None:
    """Over HTTP (Chinese question, JSON mode): the site's key with the owner's token gets the
    tracking number; with a stranger's token, or a stranger's tenant key, the not-found answer
    (both refusals counted); the site's key alone names no customer."""
    tokens = CustomerTokens(SECRET, max_ttl_s=900)
    site = {"authorization": f"Bearer {SITE_KEY}"}
    owner = site | {CUSTOMER_TOKEN_HEADER: tokens.issue(ORDER.customer_id)}
    stranger = site | {CUSTOMER_TOKEN_HEADER: tokens.issue(STRANGER)}
    tenant = {"x-api-key": TENANT_KEY}
    assert str(ORDER.tracking_number) in ask_order(keyed_beacon, owner)
    for headers in (stranger, tenant, site):
        answer = ask_order(keyed_beacon, headers)
        assert answer.startswith(f"没有找到订单 {ORDER.order_id}")
    assert keyed_beacon.metric("beacon_tool_denied_total", tool="get_order_status") == 3


def test_order_answers_are_never_cached() -> None:
    """The tool route has no cache key: a stored order answer would be replayed to whoever
    asks the same words, whoever they are."""
    versions = {"kb_version": "kb", "prompt_version": "p", "lang": "en"}
    question = f"Where is my order {ORDER.order_id}?"
    assert CacheKey.single_turn(question, 1, route="tool", **versions) is None
    assert CacheKey.single_turn(question, 1, route="faq", **versions) is not None
