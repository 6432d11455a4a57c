"""The model's `version:` setting end to end (real PostgreSQL and DynamoDB Local).

The shop model with `source.version: updated_at`: Customer has `updated_at`, so its items'
`_version` is that column in microseconds since the epoch; Order and LineItem lack it and keep
PostgreSQL's xmin. The runner, the worker Lambda, validation, the catch-up pass and the
dual-write repository must all use those numbers, or a newer write would lose to an older one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
import shopdata
from generated_pkg import write_and_import

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit.migration_stack import emit_migration_stack
from modeling.emit.repository import emit_repository
from modeling.emit.transformers import emit_transformers
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.verify.dynamo import create_table

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def micros(ts: dt.datetime) -> int:
    """Microseconds since the epoch, computed here independently of the code under test."""
    return (ts - _EPOCH) // dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Versioned:
    model: ir.Model
    layout: ir.Layout
    module: ModuleType  # transformers, as the runner loads them
    repository: ModuleType
    worker: ModuleType


@pytest.fixture(scope="module")
def versioned(tmp_path_factory: pytest.TempPathFactory) -> Versioned:
    """tests/migrate/shop.yaml plus `source.version: updated_at`, compiled and generated."""
    text = shopdata.MODEL.read_text()
    anchor = "source:\n  dialect: postgres\n"
    assert anchor in text
    path = tmp_path_factory.mktemp("model") / "shop_versioned.yaml"
    path.write_text(text.replace(anchor, anchor + "  version: updated_at\n"))
    model = load_model(path)
    assert {e.name: e.version for e in model.entities} == {
        "Customer": "updated_at",
        "Order": None,
        "LineItem": None,
    }
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    root = tmp_path_factory.mktemp("generated") / "pkg"
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_migration_stack(layout, model),
    }
    name = write_and_import(files, root, "_versioned")
    module = importlib.import_module(f"{name}.transformers")
    return Versioned(
        model,
        layout,
        module,
        importlib.import_module(f"{name}.repository"),
        importlib.import_module(f"{name}.migration.worker"),
    )


def _table(client: Any, layout: ir.Layout) -> str:
    name = f"ShopVer-{uuid.uuid4().hex[:8]}"
    create_table(client, layout, name)
    return name


def _items(client: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(TableName=table):
        yield from page["Items"]


def _versions_by_entity(v: Versioned, client: Any, table: str) -> dict[str, dict[str, int]]:
    """Entity → item key text → `_version`, read back from the table."""
    types = {el.type_value: el.entity for el in v.layout.entities}
    keys = {e.name: e.key for e in v.model.entities}
    out: dict[str, dict[str, int]] = {name: {} for name in keys}
    for item in _items(client, table):
        entity = types[item[v.layout.type_attribute]["S"]]
        key = "|".join(next(iter(item[k].values())) for k in keys[entity])
        out[entity][key] = int(item["_version"]["N"])
    return out


def _customer_item(client: Any, table: str, cid: int) -> dict[str, Any]:
    (item,) = [i for i in _items(client, table) if i.get("customer_id") == {"N": str(cid)}]
    return item


def _expected_versions(dsn: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """From PostgreSQL: customers by updated_at (µs), orders and lines by xmin."""
    with psycopg.connect(dsn) as conn:
        customers = {
            str(cid): micros(ts)
            for cid, ts in conn.execute("SELECT customer_id, updated_at FROM customers")
        }
        orders = {
            str(oid): int(x) for oid, x in conn.execute("SELECT order_id, xmin::text FROM orders")
        }
        lines = {
            f"{oid}|{no}": int(x)
            for oid, no, x in conn.execute("SELECT order_id, line_no, xmin::text FROM order_lines")
        }
    return customers, orders, lines


def test_backfill_and_worker_take_versions_from_updated_at_and_xmin_elsewhere(
    versioned: Versioned,
    source_db: Any,
    dynamodb_local: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dsn, counts = source_db(1_100)
    client = dynamodb_local.client()
    table = _table(client, versioned.layout)
    options = RunOptions(progress=False, chunk_size=300, concurrency=2)
    report = Runner(
        versioned.model, versioned.layout, dsn, client, tmp_path / "ckpt", options, table,
        versioned.module,
    ).run()  # fmt: skip
    assert report.items_written == sum(counts.values()) and report.dead_letters == 0

    customers, orders, lines = _expected_versions(dsn)
    # the two sources are on different scales: a mix-up could not pass unnoticed
    assert min(customers.values()) > 10**15 > max(orders.values())
    got = _versions_by_entity(versioned, client, table)
    assert got == {"Customer": customers, "Order": orders, "LineItem": lines}

    result = validate(
        versioned.model, versioned.layout, dsn, client, None, table, module=versioned.module
    )
    assert result.ok, result.markdown()
    assert {n: e.version for n, e in result.entities.items()} == {
        "Customer": "updated_at",
        "Order": "xmin",
        "LineItem": "xmin",
    }
    assert "| Customer | updated_at |" in result.markdown()

    # the worker Lambda, fed the same keys, writes the same versions
    worker_table = _table(client, versioned.layout)
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", worker_table)
    monkeypatch.delenv("MODEL_VERSION_COLUMN", raising=False)
    some_customers = sorted(customers, key=int)[:40]
    some_orders = sorted(orders)[:25]
    worker = versioned.worker
    done = worker.process(
        {"entity": "Customer", "keys": [[c] for c in some_customers]}, client, None, "m-1"
    )
    assert done["items"] == len(some_customers)
    worker.process({"entity": "Order", "keys": [[o] for o in some_orders]}, client, None, "m-2")
    by_worker = _versions_by_entity(versioned, client, worker_table)
    assert by_worker["Customer"] == {c: customers[c] for c in some_customers}
    assert by_worker["Order"] == {o: orders[o] for o in some_orders}

    # MODEL_VERSION_COLUMN overrides the model, as --version-column does for the runner
    monkeypatch.setenv("MODEL_VERSION_COLUMN", "xmin")
    worker.process({"entity": "Customer", "keys": [[some_customers[0]]]}, client, None, "m-3")
    with psycopg.connect(dsn) as conn:
        (xmin,) = conn.execute(
            "SELECT xmin::text FROM customers WHERE customer_id = %s", (int(some_customers[0]),)
        ).fetchone()
    overridden = _versions_by_entity(versioned, client, worker_table)["Customer"]
    assert overridden[some_customers[0]] == int(xmin) != customers[some_customers[0]]


def test_catch_up_and_repository_keep_the_newest_updated_at(
    versioned: Versioned, source_db: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(1_100)
    client = dynamodb_local.client()
    table = _table(client, versioned.layout)
    lock = threading.Lock()
    raced: dict[int, dt.datetime] = {}

    def after_read(entity: str, rows: list[dict[str, Any]]) -> None:
        # the app updates rows the backfill has read but not yet written, and its DynamoDB
        # half is lost: the backfill then writes the older version
        if entity != "Customer":
            return
        with psycopg.connect(dsn, autocommit=True) as conn, lock:
            for row in rows[::10]:
                (new,) = conn.execute(
                    "UPDATE customers SET full_name = full_name || ' (moved)', "
                    "updated_at = updated_at + interval '1 hour' WHERE customer_id = %s "
                    "RETURNING updated_at",
                    (row["customer_id"],),
                ).fetchone()
                raced[row["customer_id"]] = new

    options = RunOptions(
        progress=False, chunk_size=300, concurrency=2, catch_up=False, after_read=after_read
    )
    first = Runner(
        versioned.model, versioned.layout, dsn, client, tmp_path / "ckpt", options, table,
        versioned.module,
    ).run()  # fmt: skip
    assert len(raced) >= counts["Customer"] // 10
    before = validate(
        versioned.model, versioned.layout, dsn, client, None, table, module=versioned.module
    )
    assert before.entities["Customer"].stale == len(raced)
    assert before.totals()["mismatched"] == len(raced)

    # the catch-up pass rewrites exactly the raced rows, conditionally, with the newer version
    options = RunOptions(progress=False, chunk_size=300, concurrency=2)
    report = Runner(
        versioned.model, versioned.layout, dsn, client, tmp_path / "ckpt", options, table,
        versioned.module,
    ).run()  # fmt: skip
    assert report.catch_up_written == len(raced)
    after = validate(
        versioned.model, versioned.layout, dsn, client, None, table, module=versioned.module
    )
    assert after.ok, after.markdown()
    cid = min(raced)
    item = _customer_item(client, table, cid)
    assert int(item["_version"]["N"]) == micros(raced[cid])
    assert item["full_name"]["S"].endswith(" (moved)")

    # the dual-write repository versions by updated_at too: its conditional put beats the
    # backfilled item (an xmin version, ~10^3, could never beat ~10^15)
    repo_flags = versioned.repository.Flags.from_config({"writeToBothDatabases": True})
    app = psycopg.connect(dsn, autocommit=True)
    try:
        repo = versioned.repository.Repository(app, client, repo_flags, table_name=table)
        later = raced[cid] + dt.timedelta(days=1, microseconds=7)
        repo.update(
            "Customer", {"customer_id": cid}, {"full_name": "via repo", "updated_at": later}
        )
        item = _customer_item(client, table, cid)
        assert (item["full_name"]["S"], int(item["_version"]["N"])) == ("via repo", micros(later))

        # a late writer carrying an older updated_at loses: the table keeps the newest
        dynamo_only = versioned.repository.Flags.from_config({"writeToNewDatabase": True})
        late = versioned.repository.Repository(app, client, dynamo_only, table_name=table)
        old_row = {**late.get("Customer", {"customer_id": cid}), "full_name": "late writer"}
        late.put("Customer", {**old_row, "updated_at": raced[cid]})
        item = _customer_item(client, table, cid)
        assert (item["full_name"]["S"], int(item["_version"]["N"])) == ("via repo", micros(later))
    finally:
        app.close()

    # a catch-up over everything changed since the marker finds nothing older to replace
    again = Runner(
        versioned.model, versioned.layout, dsn, client, tmp_path / "ckpt-again",
        RunOptions(progress=False, catch_up_only=first.marker), table, versioned.module,
    ).run()  # fmt: skip
    assert again.catch_up_rows >= len(raced)
    assert (again.catch_up_written, again.catch_up_skipped) == (0, again.catch_up_rows)
    final = validate(
        versioned.model, versioned.layout, dsn, client, None, table, module=versioned.module
    )
    assert final.ok, final.markdown()
    assert final.totals()["checked"] == sum(counts.values())
