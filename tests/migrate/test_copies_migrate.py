"""Relationship copies (`strategy: lowest_cost`, `ir.CopyItems`) through the migration: the
runner writes each row's main item and its copy, `migrate validate` (sample and --full) counts
and checks the copies (0 missing / extra), and a lost or stray copy is reported."""

from __future__ import annotations

import importlib
import random
from pathlib import Path
from typing import Any

import psycopg
import pytest
from generated_pkg import write_and_import

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.emit.client import emit_client
from modeling.emit.migration_stack import emit_migration_stack
from modeling.emit.repository import emit_repository
from modeling.emit.transformers import emit_transformers
from modeling.migrate import export as ex
from modeling.migrate import transformers
from modeling.migrate.audit import audit
from modeling.migrate.runner import Runner, RunOptions, table_key_names
from modeling.migrate.sink import Sink
from modeling.migrate.validate import validate
from modeling.runtime import keys
from modeling.verify.dynamo import create_table

MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "strategy.yaml"
ORDERS = 300


def _source(dsn: str, orders: int = ORDERS, customers: int = 20) -> None:
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
                "INSERT INTO customers VALUES (%s, %s)",
                [(c, f"c{c}") for c in range(1, customers + 1)],
            )
            cur.executemany(
                "INSERT INTO orders VALUES (%s, %s, %s, %s)",
                [
                    (n, rng.randint(1, 20), "x" * rng.randint(0, 30), rng.randint(1, 9999))
                    for n in range(1, orders + 1)
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


def _table_audit(ddb: Any, table: str) -> tuple[dict[int, str], dict[int, list[str]], int]:
    """(order_id -> main item's customer, order_id -> its copies' partition keys, tombstones)."""
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    mains: dict[int, str] = {}
    copies: dict[int, list[str]] = {}
    stones = 0
    for item in items:
        if "_tombstone" in item:
            stones += 1
            continue
        kind = item["_type"]["S"]
        if kind == "Order":
            mains[int(item["order_id"]["N"])] = item["customer_id"]["N"]
        elif kind == "Order~GSI1":
            copies.setdefault(int(item["order_id"]["N"]), []).append(item["PK"]["S"])
    return mains, copies, stones


@pytest.mark.e2e
def test_dual_write_keeps_copies_in_sync(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """insert, update of a copy-key attribute (the copy moves: old one tombstoned), update of
    another attribute, delete (main item and copy retired): after each, every order has its
    main item and exactly one copy, at its current customer, and the client reads agree."""
    model = load_model(MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_client(layout, model),
    }
    name = write_and_import(files, tmp_path / "pkg", "_copies_generated")
    repo_module = importlib.import_module(f"{name}.repository")
    client_module = importlib.import_module(f"{name}.client")
    dsn = postgres.create_database()
    _source(dsn, orders=0, customers=0)
    ddb = dynamodb_local.client()
    table = "copies_dualwrite"
    create_table(ddb, layout, table)
    client = client_module.Client(table, ddb)
    with psycopg.connect(dsn, autocommit=True) as conn:
        flags = repo_module.Flags.from_config({"writeToBothDatabases": True})
        repo = repo_module.Repository(conn, ddb, flags, table_name=table)
        for n in (1001, 1002, 1003):
            repo.insert("Order", {"order_id": n, "customer_id": 7, "notes": "a", "total": 5})
        mains, copies, stones = _table_audit(ddb, table)
        assert {n: copies[n] for n in (1001, 1002, 1003)} == {
            n: [copies[n][0]] for n in (1001, 1002, 1003)
        }
        assert {1001, 1002, 1003} <= {r["order_id"] for r in client.orders_of_customer(7)}
        # the relationship changes: the copy moves to customer 8, the old copy is tombstoned
        repo.update("Order", {"order_id": 1002}, {"customer_id": 8})
        mains, copies, stones = _table_audit(ddb, table)
        assert mains[1002] == "8" and len(copies[1002]) == 1 and stones == 1
        assert copies[1002] == ["CUSTOMER#" + keys.encode("integer", 8)]
        assert copies[1001] == ["CUSTOMER#" + keys.encode("integer", 7)]
        assert 1002 not in {r["order_id"] for r in client.orders_of_customer(7)}
        assert 1002 in {r["order_id"] for r in client.orders_of_customer(8)}
        # another attribute: the copy is rewritten in place (same key, new version)
        repo.update("Order", {"order_id": 1003}, {"notes": "b"})
        mains, copies, stones = _table_audit(ddb, table)
        assert len(copies[1003]) == 1 and stones == 1
        versions = {
            i["_type"]["S"]: i["_version"]["N"]
            for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"]
            if i.get("order_id", {}).get("N") == "1003"
        }
        assert len(set(versions.values())) == 1 and len(versions) == 2  # main and copy agree
        # delete: the main item and its copy are retired, a tombstone at each key
        assert repo.delete("Order", {"order_id": 1001})
        mains, copies, stones = _table_audit(ddb, table)
        assert 1001 not in mains and 1001 not in copies and stones == 3
        assert 1001 not in {r["order_id"] for r in client.orders_of_customer(7)}
    # the whole table against PostgreSQL: nothing missing, no orphan copy
    module = transformers.generate(layout, model)
    result = validate(model, layout, dsn, ddb, None, table, module=module)
    inserted = result.entities["Order"]
    assert inserted.sql_count == 2 and inserted.copy_count == 2 and result.ok, result.as_dict()
    assert audit(model, layout, module, dsn, ddb, table).orphaned == 0


@pytest.mark.e2e
def test_the_aws_worker_writes_copies_too(
    postgres: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migration stack's worker Lambda (`process`, one SQS message of keys) writes each
    row's copy beside its item, as `migrate run` does."""
    model = load_model(MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    files = {**emit_transformers(layout, model), **emit_migration_stack(layout, model)}
    name = write_and_import(files, tmp_path / "pkg", "_copies_aws")
    worker = importlib.import_module(f"{name}.migration.worker")
    dsn = postgres.create_database()
    _source(dsn, orders=40)
    ddb = dynamodb_local.client()
    table = "copies_worker"
    create_table(ddb, layout, table)
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setattr(worker, "_CONN", None)
    message = {"entity": "Order", "keys": [[str(n)] for n in range(1, 41)]}
    out = worker.process(message, ddb, None, "m-1")
    assert out == {"rows": 40, "items": 80, "dead_letters": 0, "retries": 0}
    module = transformers.generate(layout, model)
    result = validate(model, layout, dsn, ddb, None, table, module=module)
    order = result.entities["Order"]
    assert (order.item_count, order.copy_count, order.missing, order.extra) == (40, 40, 0, 0)


@pytest.mark.e2e
def test_export_writes_copies_and_the_sweep_removes_a_moved_one(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """`migrate export` writes each row's copy; after a relationship change in the source, the
    catch-up writes the copy at its new key and the orphan sweep removes the old one."""
    model = load_model(MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    module = transformers.generate(layout, model)
    dsn = postgres.create_database()
    _source(dsn, orders=60)
    out = tmp_path / "export"
    options = ex.ExportOptions(progress=False, dead_letter=tmp_path / "dead.jsonl")
    report = ex.Exporter(model, layout, dsn, options, module=module).run(out)
    assert report.items == 20 + 2 * 60
    ddb = dynamodb_local.client()
    table = "copies_export"
    create_table(ddb, layout, table)
    ex.load_export(out, Sink(ddb, table, table_key_names(layout), module.item_size))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE orders SET customer_id = customer_id % 20 + 1 WHERE order_id = 7")
    run = RunOptions(
        progress=False,
        dead_letter=tmp_path / "dead.jsonl",
        catch_up_only=report.marker,
        sweep_orphans=True,
    )
    done = Runner(model, layout, dsn, ddb, tmp_path / "ckpt", run, table, module).run()
    assert done.orphans_removed == 1  # the copy at the old customer
    result = validate(model, layout, dsn, ddb, None, table, module=module)
    assert result.ok and result.totals()["extra"] == 0, result.markdown()
    assert result.entities["Order"].copy_count == 60
