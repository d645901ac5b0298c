"""The embedded demo order database (SQLite), built by ``beacon index build``.

Forty orders, ``BC-100001`` to ``BC-100040``, generated from a fixed seed so answers are
reproducible. The file is written to a temporary name and renamed, so a reader never sees half a
database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import sqlite3
from dataclasses import astuple, dataclass
from pathlib import Path

ORDERS_DB_NAME = "orders.sqlite"
FIRST_ORDER = 100_001
DEMO_ORDERS = 40
SEED = 20_260_501
CARRIERS = ("SF Express", "JD Logistics", "DHL", "UPS")
STATUSES = ("placed", "processing", "shipped", "delivered", "cancelled")
_SCHEMA = """
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    placed_on TEXT NOT NULL,
    carrier TEXT,
    tracking_number TEXT,
    estimated_delivery TEXT,
    updated_at TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    status: str
    placed_on: str
    carrier: str | None
    tracking_number: str | None
    estimated_delivery: str | None
    updated_at: str


def demo_orders(count: int = DEMO_ORDERS) -> list[OrderRow]:
    rng = random.Random(SEED)
    start = dt.date(2026, 5, 1)
    rows = []
    for offset in range(count):
        status = STATUSES[offset % len(STATUSES)]
        placed = start + dt.timedelta(days=rng.randrange(0, 20))
        shipped = status in ("shipped", "delivered")
        carrier = rng.choice(CARRIERS) if shipped else None
        tracking = f"TRK{rng.randrange(10**9, 10**10)}" if shipped else None
        eta = placed + dt.timedelta(days=rng.randrange(2, 7)) if status != "cancelled" else None
        rows.append(
            OrderRow(
                order_id=f"BC-{FIRST_ORDER + offset}",
                status=status,
                placed_on=placed.isoformat(),
                carrier=carrier,
                tracking_number=tracking,
                estimated_delivery=eta.isoformat() if eta else None,
                updated_at=(placed + dt.timedelta(days=1)).isoformat(),
            )
        )
    return rows


def build_orders_db(path: Path) -> int:
    """(Re)write the demo database at ``path``; return the number of orders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    rows = demo_orders()
    with contextlib.closing(sqlite3.connect(staging)) as connection, connection:
        connection.execute(_SCHEMA)
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)", [astuple(row) for row in rows]
        )
    os.replace(staging, path)
    return len(rows)


def ensure_orders_db(path: Path) -> None:
    if not path.exists():
        build_orders_db(path)
