"""Rows of the `ledger` test model (tests/migrate/ledger.yaml): accounts and their payments,
whose table key holds `account_id` and `created_at` beyond the identity `payment_id`.

Deterministic for a seed. Shared by the dual-write tests, the chaos test and bench/chaos.py.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

MODEL = Path(__file__).with_name("ledger.yaml")

DDL = """
CREATE TABLE accounts (
  account_id bigint PRIMARY KEY,
  owner text NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE payments (
  payment_id uuid PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts,
  created_at timestamptz NOT NULL,
  amount numeric NOT NULL,
  status text NOT NULL,
  note text
);
"""
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
STATUSES = ("authorized", "captured", "refunded")


def payment(rng: random.Random, accounts: int) -> dict[str, Any]:
    """A new payment row (a fresh uuid; any account)."""
    return {
        "payment_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "account_id": rng.randrange(1, accounts + 1),
        "created_at": T0
        + dt.timedelta(seconds=rng.randrange(0, 10**7), microseconds=rng.randrange(10**6)),
        "amount": Decimal(rng.randrange(1, 10**6)) / 100,
        "status": rng.choice(STATUSES),
        "note": None if rng.random() < 0.5 else f"note {rng.randrange(10**6)}",
    }


def load(dsn: str, payments: int, seed: int = 1) -> dict[str, int]:
    """Create the tables in `dsn` and COPY `payments` payments over payments // 5 accounts."""
    import psycopg

    rng = random.Random(seed)
    accounts = max(1, payments // 5)
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        with conn.cursor() as cur:
            with cur.copy("COPY accounts (account_id, owner, updated_at) FROM STDIN") as cp:
                for i in range(1, accounts + 1):
                    cp.write_row((i, f"owner {i}", T0))
            columns = ("payment_id", "account_id", "created_at", "amount", "status", "note")
            with cur.copy(f"COPY payments ({', '.join(columns)}) FROM STDIN") as cp:
                for _ in range(payments):
                    row = payment(rng, accounts)
                    cp.write_row(tuple(row[c] for c in columns))
        conn.execute("ANALYZE")
    return {"Account": accounts, "Payment": payments}
