"""The embedded demo order database (SQLite), built by ``beacon index build``.

Forty orders of four demo customers (``DEMO_CUSTOMERS``), generated from a fixed seed so answers
are reproducible. Order numbers look like ``BC-NNNNNN`` but are drawn at random, not counted up:
a real shop's numbers are often guessable, so the guard is the ownership check in
``order_status.py`` (someone else's order reads exactly like a missing one), and random numbers
only make guessing pointless in the demo too. The file is written to a temporary name and
renamed, so a reader never sees half a database; ``SCHEMA_VERSION`` (SQLite's ``user_version``)
makes an older file be rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

ORDERS_DB_NAME = "orders.sqlite"
DEMO_ORDERS = 40
DEMO_CUSTOMERS = ("demo-alice", "demo-bo", "demo-chen", "demo-dana")
ORDER_NUMBERS = range(100_000, 999_999)  # six digits; BC-999999 stays free for "no such order"
SEED = 20_260_501
SCHEMA_VERSION = 2  # 2: orders have an owner
CARRIERS = ("SF Express", "JD Logistics", "DHL", "UPS")
STATUSES = ("placed", "processing", "shipped", "delivered", "cancelled")
_SCHEMA = """
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
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
    customer_id: str  # the owner; only this customer may read the order
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
    numbers = rng.sample(ORDER_NUMBERS, count)
    for offset in range(count):
        status = STATUSES[offset % len(STATUSES)]
        placed = start + dt.timedelta(days=rng.randrange(0, 20))
        shipped = status in ("shipped", "delivered")
        carrier = rng.choice(CARRIERS) if shipped else None
        tracking = f"TRK{rng.randrange(10**9, 10**10)}" if shipped else None
        eta = placed + dt.timedelta(days=rng.randrange(2, 7)) if status != "cancelled" else None
        rows.append(
            OrderRow(
                order_id=f"BC-{numbers[offset]}",
                customer_id=DEMO_CUSTOMERS[offset % len(DEMO_CUSTOMERS)],
                status=status,
                placed_on=placed.isoformat(),
                carrier=carrier,
                tracking_number=tracking,
                estimated_delivery=eta.isoformat() if eta else None,
                updated_at=(placed + dt.timedelta(days=1)).isoformat(),
            )
        )
    return rows


def build_orders_db(path: Path, rows: Sequence[OrderRow] | None = None) -> int:
    """(Re)write the database at ``path`` with ``rows`` (default: the demo orders); return the
    number of orders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.unlink(missing_ok=True)
    rows = demo_orders() if rows is None else rows
    with contextlib.closing(sqlite3.connect(staging)) as connection, connection:
        connection.execute(_SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [astuple(row) for row in rows]
        )
    os.replace(staging, path)
    return len(rows)


def ensure_orders_db(path: Path) -> None:
    """Build the demo database when it is missing or older than ``SCHEMA_VERSION``."""
    if not path.exists() or schema_version(path) != SCHEMA_VERSION:
        build_orders_db(path)


def schema_version(path: Path) -> int:
    """The file's ``user_version``; 0 for a file that is not a SQLite database."""
    try:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0
    return version
