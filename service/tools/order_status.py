"""The ``get_order_status(order_id)`` tool: a read-only lookup with a timeout and one retry.

The query runs in a worker thread so the event loop never waits on disk; the timeout bounds
the wait (a stuck thread finishes on its own). Its result becomes an ``Evidence`` item, cited
exactly as FAQ entries are, and every call attempt is listed in the log line's ``tool_calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from rag.language import Lang
from rag.retriever import Evidence
from service.errors import ToolError, ToolFailed, ToolTimeout
from service.tools.orders_db import OrderRow

TOOL_NAME = "get_order_status"
ORDER_SOURCE = "orders-db"
ORDER_EVIDENCE_VERSION = 1


@dataclass(frozen=True, slots=True)
class OrderStatus:
    order_id: str
    row: OrderRow | None  # None: no such order


class OrderStatusTool:
    def __init__(self, db_path: Path, *, timeout_s: float, attempts: int) -> None:
        self.db_path = db_path
        self.timeout_s = timeout_s
        self.attempts = attempts

    async def get_order_status(self, order_id: str, calls: list[str]) -> OrderStatus:
        """Look ``order_id`` up, retrying once; each attempt's result is appended to ``calls``."""
        error: ToolError = ToolFailed()
        for _ in range(self.attempts):
            try:
                async with asyncio.timeout(self.timeout_s):
                    row = await self._lookup(order_id)
            except TimeoutError:
                error = ToolTimeout()
            except ToolError as failure:
                error = failure
            else:
                calls.append(f"{TOOL_NAME}:{'found' if row else 'not_found'}")
                return OrderStatus(order_id, row)
            calls.append(f"{TOOL_NAME}:{error.code.removeprefix('tool_')}")
        raise error

    async def _lookup(self, order_id: str) -> OrderRow | None:
        return await asyncio.to_thread(self._query, order_id)

    def _query(self, order_id: str) -> OrderRow | None:
        """The one boundary where sqlite3 errors become ``ToolFailed``."""
        try:
            uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
            connection = sqlite3.connect(uri, uri=True, timeout=self.timeout_s)
            with contextlib.closing(connection):
                found = connection.execute(
                    "SELECT * FROM orders WHERE order_id = ?", (order_id,)
                ).fetchone()
        except sqlite3.Error as failure:
            raise ToolFailed() from failure
        return OrderRow(*found) if found else None


def order_evidence(status: OrderStatus, lang: Lang) -> Evidence:
    """The tool result as evidence: cited like an FAQ entry, with full confidence."""
    return Evidence(
        id=f"order:{status.order_id}",
        title=f"Order {status.order_id}" if lang == "en" else f"订单 {status.order_id}",
        score=1.0,
        source=ORDER_SOURCE,
        version=ORDER_EVIDENCE_VERSION,
        category="order_status",
        answer=describe_order(status, lang),
        lang=lang,
        dense=0.0,
        lexical=0.0,
        matcher=0.0,
    )


def describe_order(status: OrderStatus, lang: Lang) -> str:
    row = status.row
    if row is None:
        if lang == "zh":
            return f"没有找到订单 {status.order_id}。请核对订单号（格式如 BC-100001）后再试。"
        return (
            f"We could not find order {status.order_id}. Please check the order number "
            "(it looks like BC-100001) and try again."
        )
    return _describe_zh(row) if lang == "zh" else _describe_en(row)


_STATUS_ZH = {
    "placed": "已下单",
    "processing": "处理中",
    "shipped": "已发货",
    "delivered": "已签收",
    "cancelled": "已取消",
}


def _describe_en(row: OrderRow) -> str:
    text = f"Order {row.order_id}, placed on {row.placed_on}, is {row.status}."
    if row.carrier and row.tracking_number:
        text += f" Carrier: {row.carrier}, tracking number {row.tracking_number}."
    if row.estimated_delivery and row.status != "delivered":
        text += f" Estimated delivery: {row.estimated_delivery}."
    return text


def _describe_zh(row: OrderRow) -> str:
    text = f"订单 {row.order_id}（下单日期 {row.placed_on}）当前状态：{_STATUS_ZH[row.status]}。"
    if row.carrier and row.tracking_number:
        text += f"承运快递：{row.carrier}，运单号 {row.tracking_number}。"
    if row.estimated_delivery and row.status != "delivered":
        text += f"预计送达：{row.estimated_delivery}。"
    return text
