"""`strategy: lowest_cost` on a sharded GSI (issue 16 items 1 and 5): relationship copies in
place of a GSI whose partition is written across N shards. The copy's partition key gets the
shard suffix the GSI key had (same identity hash, same N), the client Queries the copies of
every shard in parallel, merges them by the copies' sort key (the GSI's order: ties and NULL
sentinels as the sharded GSI path), cuts LIMIT on the merged answer, BatchGets the main items
(a stale copy dropped) and pages with a per-shard cursor; verify proves it against PostgreSQL
and fails a layout whose copies were not written.

The model is the sharded orders fixture under `strategy: lowest_cost`, without the read rate
that makes copies of the status index dearer than the GSI (BatchGets of whole partitions). At
5,000 writes/s copies cost more than the GSIs at the packaged prices (every write of an order
is a TransactWriteItems with its copies), so the compiler keeps the GSIs; the layout under test
is the one the same choice builds at prices where storage dominates (`STORAGE_DOMINATED`), where
both GSIs become copies.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.strategy import choose
from modeling.core import ir
from modeling.cost import DUPLICATE_ITEMS, Prices
from modeling.migrate import transformers
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.runtime import keys
from modeling.runtime import sharding as rs
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.verify import dynamo
from modeling.verify.runner import VerifyOptions, verify

from .test_sharding import FIXTURE, STATUSES, _rows, against_postgres
from .test_transformers import load_package


def _model_path(tmp_path: Path) -> Path:
    text = FIXTURE.read_text()
    text = text.replace("collation: C}\n", "collation: C}\nstrategy: lowest_cost\n", 1)
    text = text.replace("    rate: {reads_per_second: 20}\n", "", 1)
    path = tmp_path / "sharded_copies.yaml"
    path.write_text(text)
    return path


STORAGE_DOMINATED = dataclasses.replace(
    Prices.load(),
    write_request_units_per_million=1e-6,
    read_request_units_per_million=1e-6,
    storage_gb_month=1000.0,
)


def _compiled(tmp_path: Path) -> tuple[ir.Model, ir.Layout]:
    model = load_model(_model_path(tmp_path))
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    assert not layout.copies  # at the packaged prices the GSIs are cheaper
    choices, built = choose(model, layout, STORAGE_DOMINATED)
    assert {c.index for c in choices if c.chosen == DUPLICATE_ITEMS} == {"GSI1", "GSI2"}
    return model, built


def test_a_sharded_gsi_becomes_sharded_copies(tmp_path: Path) -> None:
    model, layout = _compiled(tmp_path)
    assert [i.name for i in layout.indexes] == ["table"]
    assert {(c.name, c.shards) for c in layout.copies} == {("GSI1", 3), ("GSI2", 3)}
    for plan in layout.plans:
        if plan.pattern == "get_order":
            assert plan.copy is None and plan.sharded == 0
            continue
        assert plan.index == "table" and plan.copy and plan.sharded == 3, plan.pattern
    # the main item is not sharded: its key on the table stays the bare identity
    assert layout.key_shards("Order", "table") == 0
    order = model.entity("Order")
    assert order is not None
    row = {"order_id": 7, "status": "paid", "created_at": dt.date(2024, 1, 2), "total": 1}
    main = codec.to_item(model, layout, order, row)
    assert main["PK"] == {"S": "ORDER#" + keys.encode("integer", 7)}
    shard = rs.shard_of([keys.encode("integer", 7)], 3)
    for copy in codec.copy_items(model, layout, order, row):
        assert copy["PK"]["S"] == f"ORDER#paid#{shard}", copy


def test_the_client_has_one_query_loop(tmp_path: Path) -> None:
    """The sharded client read each shard with `_query_entries`, a copy of `_query`'s
    LastEvaluatedKey loop (limit, read_limit, the full-item fetch and its drop rule written
    twice). One loop serves both now: plain, sharded, with copies and sharded with copies."""
    from modeling.emit.client import emit_client

    plain = load_model(Path(__file__).resolve().parents[2] / "models" / "orders.yaml")
    plain_layout, _ = compile_model(plain)
    sharded, sharded_layout = _compiled_fixture()
    copies, copies_layout = _compiled(tmp_path)
    for model, layout in (
        (plain, plain_layout),
        (sharded, sharded_layout),
        (copies, copies_layout),
    ):
        assert layout is not None
        (text,) = (v for k, v in emit_client(layout, model).items() if k.endswith("client.py"))
        assert text.count('request["ExclusiveStartKey"] = last') == 1, model.name
        assert text.count("def _query_entries(") == 1, model.name


def _compiled_fixture() -> tuple[ir.Model, ir.Layout]:
    model = load_model(FIXTURE)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    assert any(plan.sharded for plan in layout.plans)
    return model, layout


def _copies_dropped(layout: ir.Layout) -> ir.Layout:
    """A broken layout: the plans still read the sharded copies, but none is written."""
    return dataclasses.replace(layout, copies=())


@pytest.mark.e2e
def test_sharded_copies_client_returns_what_postgres_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled(tmp_path)
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    order = model.entity("Order")
    assert order is not None
    items: list[dict[str, Any]] = []
    for row in data.of("Order"):
        generated = t.items_of("Order", row)
        reference = [
            codec.to_item(model, layout, order, row),
            *codec.copy_items(model, layout, order, row),
        ]
        assert generated == reference, row
        items += generated
    # the copies really are spread: every status partition has its 3 shard values
    copy_pks = {i["PK"]["S"] for i in items if i["_type"]["S"] == "Order~GSI1"}
    assert copy_pks == {f"ORDER#{s}#{n}" for s in STATUSES for n in range(3)}
    ddb = dynamodb_local.client()
    table = "sharded_copies"
    dynamo.create_table(ddb, layout, table)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        checked = against_postgres(conn, model, data, client)
    assert checked["calls"] == 3 * len(STATUSES)
    assert checked["nulls"] >= 8 and checked["ties"] >= 8 and checked["pages"] > 100, checked
    # a stale copy (left in its old partition by a writer that ignores copies) is dropped, and
    # the LIMIT still counts current rows only
    first = client.first_orders_by_status("paid")
    moved = dict(first[0])
    moved["status"] = "shipped"  # its "paid" copies stay where they were
    ddb.put_item(TableName=table, Item=t.TO_ITEM["Order"](moved))
    again = client.first_orders_by_status("paid")
    assert moved["order_id"] not in {r["order_id"] for r in again}
    assert len(again) == 7 and [r["order_id"] for r in again[:6]] == [
        r["order_id"] for r in first[1:7]
    ]
    # the client's own writes move a row's copies to the new status, in the row's same shard,
    # and a delete takes them away
    row = dict(client.first_orders_by_status("pending")[0])
    shard = rs.shard_of([keys.encode("integer", row["order_id"])], 3)
    row["status"] = "cancelled"
    client.update_order(row)
    assert _copy_pks(ddb, table, row["order_id"]) == [f"ORDER#cancelled#{shard}"] * 2
    assert row["order_id"] not in {r["order_id"] for r in client.orders_by_status("pending")}
    assert row["order_id"] in {r["order_id"] for r in client.orders_by_status("cancelled")}
    assert client.delete_order(order_id=row["order_id"]) is True
    assert _copy_pks(ddb, table, row["order_id"]) == []


def _copy_pks(ddb: Any, table: str, order_id: int) -> list[str]:
    """The partition keys of one order's copies (the whole table scanned)."""
    return sorted(
        item["PK"]["S"]
        for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]
        if item["_type"]["S"].startswith("Order~") and item["order_id"]["N"] == str(order_id)
    )


@pytest.mark.e2e
def test_verify_proves_sharded_copies(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> None:
    model, layout = _compiled(tmp_path)
    options = VerifyOptions(trials=10, sample=SampleOptions(seed=7, roots=120, fanout=1))
    ddb = dynamodb_local.client()
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    served = {p.pattern for p in layout.plans if p.copy is not None and p.sharded}
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert served and served <= proven, (served, proven)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(model, _copies_dropped(layout), ddb, pg_conn=conn, options=options)
    assert {p.pattern for p in broken.patterns if p.failures} == served


@pytest.mark.e2e
def test_migration_runner_writes_sharded_copies_and_validate_finds_them(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """`migrate run` writes each order's copies in its shard partitions (the generated
    transformers), and `migrate validate` (sample and --full, by key) finds 0 missing / extra;
    `--patterns` runs the client's sharded copy reads against the pattern SQL."""
    model, layout = _compiled(tmp_path)
    data = _rows(seed=5)
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (order_id integer PRIMARY KEY, status text NOT NULL, "
            "created_at date, total numeric NOT NULL)"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO orders VALUES (%(order_id)s, %(status)s, %(created_at)s, %(total)s)",
                data.of("Order"),
            )
    module = transformers.generate(layout, model, client=True)
    ddb = dynamodb_local.client()
    table = "sharded_copies_migrate"
    dynamo.create_table(ddb, layout, table)
    options = RunOptions(concurrency=2, batch_size=64, dead_letter=tmp_path / "dead.jsonl")
    options.progress = False
    report = Runner(model, layout, dsn, ddb, tmp_path / "ckpt", options, table, module).run()
    assert report.dead_letters == 0
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    dated = sum(1 for r in data.of("Order") if r["created_at"] is not None)
    types = [i["_type"]["S"] for i in items]
    assert types.count("Order~GSI1") == len(data.of("Order")) and types.count("Order~GSI2") == dated
    assert {i["PK"]["S"].rsplit("#", 1)[1] for i in items if "~" in i["_type"]["S"]} == {
        "0",
        "1",
        "2",
    }
    for full in (False, True):
        result = validate(model, layout, dsn, ddb, None if full else 50, table, module=module)
        order = result.entities["Order"]
        assert order.copy_count == len(data.of("Order")) + dated, full
        assert order.count_ok and result.ok and order.missing == order.extra == 0, full
    checked = validate(model, layout, dsn, ddb, 50, table, module=module, patterns=8)
    assert checked.ok, checked.as_dict()
    served = {p.pattern for p in layout.plans if p.copy is not None}
    compared = {p.pattern for p in checked.patterns if p.skipped is None and p.compared_rows > 0}
    assert served and served <= compared, checked.as_dict()
