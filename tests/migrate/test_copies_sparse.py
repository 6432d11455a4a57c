"""Sparse relationship copies (issue 16 item 5): a copy replacing a sparse GSI key exists only
while its row has the key's slots. Every write path keeps that: the runner and `validate`
(copy counts from the rows that have the slots), the dual-write repository (a copy appears,
moves and is retired with the row's changes, in the same transaction), the client, and a
backfill racing deletes and key changes (0 orphans after the catch-up)."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from generated_pkg import write_and_import

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
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
DAY = dt.date(2024, 3, 1)
SPARSE = "Order~GSI2"  # the copy keyed on placed_at (NULL: no copy)


def _model(tmp_path: Path) -> tuple[ir.Model, ir.Layout]:
    text = MODEL.read_text().replace(
        "      total: decimal\n",
        "      total: decimal\n      placed_at: {type: date, required: false}\n",
    )
    text += (
        "  orders_since:\n"
        "    sql: SELECT * FROM orders WHERE customer_id = :customer_id "
        "AND placed_at >= :placed_at ORDER BY placed_at\n"
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n"
    )
    path = tmp_path / "sparse.yaml"
    path.write_text(text)
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.message for d in bag]
    return model, layout


def _source(dsn: str, orders: int) -> dict[int, dict[str, Any]]:
    rng = random.Random(11)
    rows = {
        n: {
            "order_id": n,
            "customer_id": rng.randint(1, 5),
            "notes": "x" * rng.randint(0, 20),
            "total": rng.randint(1, 999),
            "placed_at": None if rng.random() < 0.3 else DAY + dt.timedelta(days=rng.randint(0, 4)),
        }
        for n in range(1, orders + 1)
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (customer_id integer PRIMARY KEY, name varchar(20))")
        conn.execute(
            "CREATE TABLE orders (order_id integer PRIMARY KEY, customer_id integer NOT NULL, "
            "notes varchar(2000) NOT NULL, total numeric NOT NULL, placed_at date)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers VALUES (%s, %s)", [(c, f"c{c}") for c in range(1, 6)]
            )
            cur.executemany(
                "INSERT INTO orders VALUES (%(order_id)s, %(customer_id)s, %(notes)s, "
                "%(total)s, %(placed_at)s)",
                list(rows.values()),
            )
    return rows


def _sparse_copies(ddb: Any, table: str) -> dict[int, list[str]]:
    """order_id -> the sort keys of its sparse copies (tombstones left out)."""
    out: dict[int, list[str]] = {}
    for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]:
        if item.get("_type", {}).get("S") == SPARSE and "_tombstone" not in item:
            out.setdefault(int(item["order_id"]["N"]), []).append(item["SK"]["S"])
    return out


def test_the_sparse_copy_is_built(tmp_path: Path) -> None:
    """Before: the GSI was kept (`strategy-not-built`: the key is sparse)."""
    _, layout = _model(tmp_path)
    (sparse,) = [c for c in layout.copies if c.key is not None and c.key.sparse]
    assert sparse.type_value == SPARSE and sparse.key is not None
    assert sparse.key.sparse_on == ("placed_at",)
    assert [i.name for i in layout.indexes] == ["table"]
    assert not [d for d in layout.diagnostics if d.code == "strategy-not-built"]


@pytest.mark.e2e
def test_run_and_validate_count_sparse_copies(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _model(tmp_path)
    module = transformers.generate(layout, model)
    dsn = postgres.create_database()
    rows = _source(dsn, 120)
    present = sum(r["placed_at"] is not None for r in rows.values())
    ddb = dynamodb_local.client()
    table = "copies_sparse_run"
    create_table(ddb, layout, table)
    options = RunOptions(concurrency=2, batch_size=32, dead_letter=tmp_path / "dead.jsonl")
    options.progress = False
    assert Runner(model, layout, dsn, ddb, tmp_path / "ck", options, table, module).run()
    assert len(_sparse_copies(ddb, table)) == present < 120
    for sample in (None, 40):
        result = validate(model, layout, dsn, ddb, sample, table, module=module)
        order = result.entities["Order"]
        assert order.copy_count == 120 + present and order.expected_copies == 120 + present
        assert result.ok, result.as_dict()
    # a lost sparse copy and a stray one (its row has no placed_at): both found
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    lost = next(i for i in items if i["_type"]["S"] == SPARSE)
    ddb.delete_item(TableName=table, Key={"PK": lost["PK"], "SK": lost["SK"]})
    bare = next(r for r in rows.values() if r["placed_at"] is None)
    stray = {
        **lost,
        "SK": {"S": f"~GSI2#ORDER#2024-03-02#{keys.encode('integer', bare['order_id'])}"},
        "order_id": {"N": str(bare["order_id"])},
    }
    for sample in (None, 40):  # one copy fewer than rows with placed_at: the count says so
        broken = validate(model, layout, dsn, ddb, sample, table, module=module)
        assert not broken.entities["Order"].count_ok and not broken.ok
    ddb.put_item(TableName=table, Item=stray)
    full = validate(model, layout, dsn, ddb, None, table, module=module).entities["Order"]
    assert (full.missing, full.extra) == (1, 1)
    assert audit(model, layout, module, dsn, ddb, table).orphaned == 1


@pytest.mark.e2e
def test_dual_writes_make_move_and_retire_the_sparse_copy(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _model(tmp_path)
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_client(layout, model),
    }
    name = write_and_import(files, tmp_path / "pkg", "_sparse_copies")
    repo_module = importlib.import_module(f"{name}.repository")
    client_module = importlib.import_module(f"{name}.client")
    dsn = postgres.create_database()
    _source(dsn, 0)
    ddb = dynamodb_local.client()
    table = "copies_sparse_dual"
    create_table(ddb, layout, table)
    client = client_module.Client(table, ddb)

    def sk(day: dt.date, n: int) -> str:
        return f"~GSI2#ORDER#{day.isoformat()}#{keys.encode('integer', n)}"

    def since(customer: int) -> list[int]:
        return [r["order_id"] for r in client.orders_since(customer, DAY)]

    later = DAY + dt.timedelta(days=2)
    with psycopg.connect(dsn, autocommit=True) as conn:
        flags = repo_module.Flags.from_config({"writeToBothDatabases": True})
        repo = repo_module.Repository(conn, ddb, flags, table_name=table)
        order = {"order_id": 1, "customer_id": 3, "notes": "a", "total": 5, "placed_at": None}
        repo.insert("Order", order)
        repo.insert("Order", {**order, "order_id": 2, "placed_at": DAY})
        assert _sparse_copies(ddb, table) == {2: [sk(DAY, 2)]}  # none for the NULL row
        repo.update("Order", {"order_id": 1}, {"placed_at": DAY})  # the copy appears
        repo.update("Order", {"order_id": 2}, {"placed_at": later})  # the copy moves
        assert _sparse_copies(ddb, table) == {1: [sk(DAY, 1)], 2: [sk(later, 2)]}
        assert since(3) == [1, 2]
        repo.update("Order", {"order_id": 1}, {"placed_at": None})  # the copy is retired
        assert _sparse_copies(ddb, table) == {2: [sk(later, 2)]} and since(3) == [2]
        assert repo.delete("Order", {"order_id": 2})
        assert _sparse_copies(ddb, table) == {} and since(3) == []
        repo.insert("Order", {**order, "order_id": 4, "placed_at": later})
    # the client's own writes keep the sparse copy alike
    client.put_order({**order, "order_id": 5, "placed_at": DAY})
    client.patch_order(order_id=5, set={"placed_at": None})
    client.put_order({**order, "order_id": 6, "placed_at": None})
    client.patch_order(order_id=6, set={"placed_at": later})
    assert _sparse_copies(ddb, table) == {4: [sk(later, 4)], 6: [sk(later, 6)]}
    assert since(3) == [4, 6]
    assert client.delete_order(order_id=5) and client.delete_order(order_id=6)
    assert _sparse_copies(ddb, table) == {4: [sk(later, 4)]}
    module = transformers.generate(layout, model)
    result = validate(model, layout, dsn, ddb, None, table, module=module)
    order = result.entities["Order"]
    assert (order.sql_count, order.copy_count, order.expected_copies) == (2, 3, 3)
    assert order.ok and order.checked == 5, order  # customers were never written here
    assert audit(model, layout, module, dsn, ddb, table).orphaned == 0


@pytest.mark.e2e
def test_backfill_racing_deletes_and_key_changes_leaves_no_orphan_copy(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _model(tmp_path)
    module = transformers.generate(layout, model)
    files = {**emit_transformers(layout, model), **emit_repository(layout, model)}
    name = write_and_import(files, tmp_path / "pkg", "_sparse_race")
    repo_module = importlib.import_module(f"{name}.repository")
    dsn = postgres.create_database()
    rows = _source(dsn, 200)
    ddb = dynamodb_local.client()
    table = "copies_sparse_race"
    create_table(ddb, layout, table)
    conn = psycopg.connect(dsn, autocommit=True)
    flags = repo_module.Flags.from_config({"writeToBothDatabases": True})
    repo = repo_module.Repository(conn, ddb, flags, table_name=table)
    deleted: set[tuple[Any, ...]] = set()
    changed: list[int] = []
    lock = threading.Lock()

    def after_read(entity: str, read: list[dict[str, Any]]) -> None:
        # the race, made certain: rows the backfill has read but not yet written are deleted,
        # or their copy key changes (a copy moves, appears or goes away)
        if entity != "Order":
            return
        with lock:
            for i, r in enumerate(read[::5]):
                ident = {"order_id": r["order_id"]}
                if i % 3 == 0:
                    repo.delete("Order", ident)
                    deleted.add((r["order_id"],))
                else:
                    day = r["placed_at"]
                    new = DAY if day is None else (None if i % 3 == 1 else day + dt.timedelta(1))
                    repo.update("Order", ident, {"placed_at": new})
                    changed.append(r["order_id"])

    def run(**kw: Any) -> Any:
        options = RunOptions(progress=False, chunk_size=50, concurrency=2, **kw)
        return Runner(model, layout, dsn, ddb, tmp_path / "ck", options, table, module).run()

    run(catch_up=False, after_read=after_read)
    assert deleted and changed
    before = audit(model, layout, module, dsn, ddb, table, {"Order": deleted})
    assert before.orphaned + before.resurrected > 0  # the race did leave stale copies
    run()  # resumed: the catch-up pass and its sweep
    after = audit(model, layout, module, dsn, ddb, table, {"Order": deleted})
    assert after.ok and after.orphaned == 0 and after.resurrected == 0, after.as_dict()
    result = validate(model, layout, dsn, ddb, None, table, module=module)
    order = result.entities["Order"]
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(placed_at) FROM orders")
        count, present = cur.fetchone() or (0, 0)
    conn.close()
    assert order.item_count == count == 200 - len(deleted) and len(rows) == 200
    assert order.copy_count == count + present and result.ok, result.as_dict()


@pytest.mark.e2e
def test_worker_and_export_write_sparse_copies_only_for_rows_with_the_slots(
    postgres: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migration stack's worker Lambda and `migrate export` build a row's copies as the
    runner does: none while placed_at is NULL; `validate --full` finds 0 missing / extra."""
    model, layout = _model(tmp_path)
    module = transformers.generate(layout, model)
    dsn = postgres.create_database()
    rows = _source(dsn, 60)
    present = sum(r["placed_at"] is not None for r in rows.values())
    ddb = dynamodb_local.client()
    files = {**emit_transformers(layout, model), **emit_migration_stack(layout, model)}
    name = write_and_import(files, tmp_path / "pkg", "_sparse_aws")
    worker = importlib.import_module(f"{name}.migration.worker")
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", "copies_sparse_worker")
    monkeypatch.setattr(worker, "_CONN", None)
    create_table(ddb, layout, "copies_sparse_worker")
    message = {"entity": "Order", "keys": [[str(n)] for n in range(1, 61)]}
    out = worker.process(message, ddb, None, "m-1")
    assert out["rows"] == 60 and out["items"] == 60 + 60 + present, out
    # export, then load: the same items
    export = tmp_path / "export"
    options = ex.ExportOptions(progress=False, dead_letter=tmp_path / "dead.jsonl")
    report = ex.Exporter(model, layout, dsn, options, module=module).run(export)
    assert report.items == 5 + 60 + 60 + present
    create_table(ddb, layout, "copies_sparse_export")
    ex.load_export(
        export,
        Sink(ddb, "copies_sparse_export", table_key_names(layout), module.item_size),
    )
    for table in ("copies_sparse_worker", "copies_sparse_export"):
        assert len(_sparse_copies(ddb, table)) == present
        result = validate(model, layout, dsn, ddb, None, table, module=module)
        order = result.entities["Order"]
        assert (order.copy_count, order.expected_copies) == (60 + present, 60 + present)
        assert order.ok, (table, order)
