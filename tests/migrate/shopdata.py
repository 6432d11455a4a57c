"""Rows of the `shopmig` test model (tests/migrate/shop.yaml), bulk-loaded with COPY.

Deterministic for a seed. Shared by the migration tests and bench/migrate.py.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

MODEL = Path(__file__).with_name("shop.yaml")

DDL = """
CREATE TABLE customers (
  customer_id bigint PRIMARY KEY,
  email text NOT NULL,
  full_name text NOT NULL,
  balance numeric NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE orders (
  order_id uuid PRIMARY KEY,
  customer_id bigint NOT NULL,
  status text NOT NULL,
  total numeric NOT NULL,
  placed_at timestamptz NOT NULL,
  address jsonb NOT NULL,
  notes text
);
-- no primary key: the poison-row tests insert a NULL key
CREATE TABLE order_lines (
  order_id uuid,
  line_no bigint,
  sku text NOT NULL,
  quantity bigint NOT NULL,
  price numeric NOT NULL,
  tags text[] NOT NULL,
  UNIQUE (order_id, line_no)
);
"""

CUSTOMER_COLUMNS = ("customer_id", "email", "full_name", "balance", "created_at", "updated_at")
ORDER_COLUMNS = ("order_id", "customer_id", "status", "total", "placed_at", "address", "notes")
LINE_COLUMNS = ("order_id", "line_no", "sku", "quantity", "price", "tags")
_T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def split(total: int) -> tuple[int, int, int]:
    """Customers, orders, lines for about `total` rows (1 : 1.5 : 3)."""
    customers = max(1, total * 2 // 11)
    orders = max(1, total * 3 // 11)
    return customers, orders, max(0, total - customers - orders)


def customers(n: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        created = _T0 + dt.timedelta(seconds=rng.randrange(0, 30_000_000))
        yield (
            i,
            f"user{i}@example.com",
            f"Customer {i} {rng.choice(['Smith', 'Müller', 'Ōtsuka', 'García'])}",
            Decimal(rng.randrange(-10_000, 1_000_000)) / 100,
            created,
            created + dt.timedelta(microseconds=rng.randrange(0, 10**12)),
        )


def order_ids(n: int, seed: int) -> list[uuid.UUID]:
    rng = random.Random(seed * 7919 + 1)
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def orders(ids: list[uuid.UUID], n_customers: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    from psycopg.types.json import Jsonb

    for oid in ids:
        yield (
            oid,
            rng.randrange(1, n_customers + 1),
            rng.choice(["pending", "paid", "shipped"]),
            Decimal(rng.randrange(100, 500_000)) / 100,
            _T0
            + dt.timedelta(seconds=rng.randrange(0, 30_000_000), microseconds=rng.randrange(10**6)),
            Jsonb(
                {
                    "street": f"{rng.randrange(1, 999)} Main St",
                    "zip": f"{rng.randrange(10000, 99999)}",
                    "geo": [rng.randrange(-90, 90), rng.randrange(-180, 180)],
                }
            ),
            None if rng.random() < 0.7 else f"note {rng.random():.6f}",
        )


def lines(ids: list[uuid.UUID], n: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    per: dict[uuid.UUID, int] = {}
    for _ in range(n):
        oid = ids[rng.randrange(len(ids))]
        per[oid] = per.get(oid, 0) + 1
        yield (
            oid,
            per[oid],
            f"SKU-{rng.randrange(100000):05d}",
            rng.randrange(1, 10),
            Decimal(rng.randrange(1, 100_000)) / 100,
            sorted({rng.choice(["red", "blue", "sale", "new", "gift"]) for _ in range(3)}),
        )


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def load(dsn: str, total: int, seed: int = 1) -> dict[str, int]:
    """Create the tables in `dsn` and COPY about `total` rows; returns rows per entity."""
    import psycopg

    n_c, n_o, n_l = split(total)
    rng = random.Random(seed)
    ids = order_ids(n_o, seed)
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        _copy(conn, "customers", CUSTOMER_COLUMNS, customers(n_c, rng))
        _copy(conn, "orders", ORDER_COLUMNS, orders(ids, n_c, rng))
        _copy(conn, "order_lines", LINE_COLUMNS, lines(ids, n_l, rng))
        conn.execute("ANALYZE")
    return {"Customer": n_c, "Order": n_o, "LineItem": n_l}
