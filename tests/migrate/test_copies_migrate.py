"""Relationship copies (`strategy: lowest_cost`, `ir.CopyItems`) through the migration: the
runner writes each row's main item and its copy, `migrate validate` (sample and --full) counts
and checks the copies (0 missing / extra), and a lost or stray copy is reported."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.audit import audit
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.verify.dynamo import create_table

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "strategy.yaml"
ORDERS = 300


def _source(dsn: str) -> None:
    rng = random.Random(3)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE customers (customer_id integer PRIMARY KEY, name varchar(20) NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE orders (order_id integer PRIMARY KEY, customer_id integer NOT NULL, "
            "notes varchar(2000) NOT NULL, total numeric NOT NULL)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers VALUES (%s, %s)", [(c, f"c{c}") for c in range(1, 21)]
            )
            cur.executemany(
                "INSERT INTO orders VALUES (%s, %s, %s, %s)",
                [
                    (n, rng.randint(1, 20), "x" * rng.randint(0, 30), rng.randint(1, 9999))
                    for n in range(1, ORDERS + 1)
                ],
            )


@pytest.mark.e2e
def test_run_writes_copies_and_validate_counts_them(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model = load_model(MODEL)
    layout, _ = compile_model(model)
    assert layout is not None and layout.copies and [i.name for i in layout.indexes] == ["table"]
    module = transformers.generate(layout, model)
    dsn = postgres.create_database()
    _source(dsn)
    ddb = dynamodb_local.client()
    table = "copies_migrate"
    create_table(ddb, layout, table)
    options = RunOptions(concurrency=2, batch_size=64, dead_letter=tmp_path / "dead.jsonl")
    options.progress = False
    report = Runner(model, layout, dsn, ddb, tmp_path / "ckpt", options, table, module).run()
    assert report.dead_letters == 0
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    types = [i["_type"]["S"] for i in items]
    assert types.count("Order") == ORDERS and types.count("Order~GSI1") == ORDERS
    assert types.count("Customer") == 20
    for full in (False, True):
        result = validate(model, layout, dsn, ddb, None if full else 50, table, module=module)
        order = result.entities["Order"]
        assert (order.copies_per_row, order.copy_count) == (1, ORDERS), full
        assert order.count_ok and result.ok, result.as_dict()
        assert not result.other_items and order.missing == order.extra == 0
        if full:
            assert order.checked == 2 * ORDERS  # each main item and each copy, by key
    # one copy lost, one stray copy (its row does not exist): both reported
    copy = next(i for i in items if i["_type"]["S"] == "Order~GSI1")
    ddb.delete_item(TableName=table, Key={"PK": copy["PK"], "SK": copy["SK"]})
    stray = {**copy, "SK": {"S": copy["SK"]["S"] + "9"}, "order_id": {"N": "99999"}}
    ddb.put_item(TableName=table, Item=stray)
    broken = validate(model, layout, dsn, ddb, None, table, module=module)
    order = broken.entities["Order"]
    assert (order.missing, order.extra, broken.ok) == (1, 1, False), order
    checked = audit(model, layout, module, dsn, ddb, table)
    assert checked.orphaned == 1 and checked.items == 20 + 2 * ORDERS
