"""`strategy: lowest_cost` built (issue 16 item 5): a GSI replaced by relationship copies in
the table (`modeling.compile.copies`, `ir.CopyItems`), written by the transformers and the
reference codec, read by the client (Query on the table, then BatchGetItem of the main items)
and proven by verify against PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.strategy import choose
from modeling.core import ir
from modeling.cost import DUPLICATE_ITEMS, Prices
from modeling.emit.cloudformation import emit_cloudformation
from modeling.emit.dms import dms_warnings
from modeling.emit.layout import layout_markdown
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_transformers import load_package

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"
ORDERED = (
    (
        "      total: decimal\n",
        "      total: decimal\n      placed_at: {type: date, required: false}\n",
    ),
    (
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n"
        "  recent_orders_of_customer:\n"
        "    sql: SELECT * FROM orders WHERE customer_id = :customer_id "
        "ORDER BY placed_at DESC\n"
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n"
        "  first_orders_of_customer:\n"
        "    sql: SELECT * FROM orders WHERE customer_id = :customer_id "
        "ORDER BY placed_at LIMIT 5\n"
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
    ),
)


# a second entity on the customer's partition of GSI1 (its own pattern)
SHARED = (
    (
        "access_patterns:\n",
        "  Refund:\n    table: refunds\n    key: [refund_id]\n    row_count: 10000000\n"
        "    writes_per_second: 1\n    attributes:\n      refund_id: integer\n"
        "      customer_id: {type: integer, references: Customer}\n"
        "      notes: {type: string, max_length: 20000}\naccess_patterns:\n",
    ),
    (
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n  refunds_of_customer:\n"
        '    entity: Refund\n    where: {customer_id: "="}\n'
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
    ),
)


def _compiled(path: Path = MODEL) -> tuple[ir.Model, ir.Layout]:
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


def _variant(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = MODEL.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "strategy.yaml"
    path.write_text(text)
    return path


def test_copies_replace_the_gsi_in_the_layout_and_the_table() -> None:
    model, layout = _compiled()
    assert [i.name for i in layout.indexes] == ["table"]
    (copy,) = layout.copies
    assert (copy.name, copy.entity, copy.type_value) == ("GSI1", "Order", "Order~GSI1")
    assert (copy.pk, copy.sk) == ("CUSTOMER#{customer_id}", "~GSI1#ORDER#{order_id}")
    assert copy.ref == (("PK", "PK_MAIN"), ("SK", "SK_MAIN"))
    plan = layout.plan("orders_of_customer")
    assert plan is not None and plan.index == "table" and plan.copy == "GSI1"
    assert plan.type_filter == ("Order~GSI1",)
    assert (plan.sk.kind, plan.sk.values[0].template) == ("begins_with", copy.sk)
    # no entity keeps a key on the vanished index; no entity's type value is a copy's
    assert all(k.index == "table" for el in layout.entities for k in el.keys)
    assert copy.type_value not in {el.type_value for el in layout.entities}
    # CloudFormation and create-table.json: one GSI fewer (none left)
    files = emit_cloudformation(layout, model)
    assert "GlobalSecondaryIndexes" not in files["table.yaml"]
    create = json.loads(files["create-table.json"])
    assert "GlobalSecondaryIndexes" not in create
    assert {a["AttributeName"] for a in create["AttributeDefinitions"]} == {"PK", "SK"}
    # layout.md lists the copy; DMS notes say a full load cannot write it
    md = layout_markdown(layout, model)
    assert "| GSI1 | Order | `Order~GSI1` | `CUSTOMER#{customer_id}` |" in md
    assert [w.index for w in dms_warnings(layout, model) if w.kind == "copies"] == ["GSI1"]


def test_the_copy_item_holds_keys_identity_and_the_main_key() -> None:
    model, layout = _compiled()
    order = model.entity("Order")
    assert order is not None
    row = {"order_id": 7, "customer_id": 3, "notes": "x" * 50, "total": Decimal("1.5")}
    main = codec.to_item(model, layout, order, row)
    (copy,) = codec.copy_items(model, layout, order, row)
    assert copy == {
        "_type": {"S": "Order~GSI1"},
        "PK": {"S": "CUSTOMER#" + codec.keys.encode("integer", 3)},
        "SK": {"S": "~GSI1#ORDER#" + codec.keys.encode("integer", 7)},
        "customer_id": {"N": "3"},
        "order_id": {"N": "7"},
        "PK_MAIN": main["PK"],
        "SK_MAIN": main["SK"],
    }
    assert "GSI1PK" not in main  # the main item lost the GSI's key attributes


def test_copies_for_each_entity_of_a_shared_gsi(tmp_path: Path) -> None:
    """A GSI two entities share, each read by its own pattern: one copy per entity, each
    plan keeps its entity's copies by type. Before: `strategy-not-built` (2 entities)."""
    _, layout = _compiled(_variant(tmp_path, *SHARED))
    assert [i.name for i in layout.indexes] == ["table"]
    assert {(c.name, c.entity) for c in layout.copies} == {("GSI1", "Order"), ("GSI1", "Refund")}
    assert not [d for d in layout.diagnostics if d.code == "strategy-not-built"]
    plan = layout.plan("refunds_of_customer")
    assert plan is not None and plan.copy == "GSI1" and plan.type_filter == ("Refund~GSI1",)


def _rows(seed: int = 5) -> Dataset:
    """8 customers, 240 orders; placed_at from 6 days (ties) and 15 % NULL."""
    rng = random.Random(seed)
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=d) for d in range(6)]
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, 9)]
    orders = [
        {
            "order_id": n,
            "customer_id": rng.randint(1, 8),
            "notes": "n" * rng.randint(0, 40),
            "total": Decimal(rng.randint(100, 99_999)) / 100,
            "placed_at": None if rng.random() < 0.15 else rng.choice(days),
        }
        for n in range(1, 241)
    ]
    return Dataset({"Customer": customers, "Order": orders})


def _groups(rows: list[dict[str, Any]]) -> list[tuple[Any, frozenset[int]]]:
    out: list[tuple[Any, set[int]]] = []
    for row in rows:
        if not out or out[-1][0] != row["placed_at"]:
            out.append((row["placed_at"], set()))
        out[-1][1].add(row["order_id"])
    return [(d, frozenset(ids)) for d, ids in out]


@pytest.mark.e2e
def test_client_through_copies_returns_what_postgres_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled(_variant(tmp_path, *ORDERED))
    assert [i.name for i in layout.indexes] == ["table"] and layout.copies
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    # the generated transformers write what the reference codec writes, copies included
    items: list[dict[str, Any]] = []
    for entity in model.entities:
        for row in data.of(entity.name):
            generated = t.items_of(entity.name, row)
            reference = [
                codec.to_item(model, layout, entity, row),
                *codec.copy_items(model, layout, entity, row),
            ]
            assert generated == reference, (entity.name, row)
            items += generated
    assert sum(1 for i in items if i["_type"]["S"] == "Order~GSI1") == 240
    ddb = dynamodb_local.client()
    table = "copies_client"
    dynamo.create_table(ddb, layout, table)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    # ordinary reads never see a copy
    assert client.get_order(order_id=9)["order_id"] == 9
    assert client.get_customer(customer_id=2)["customer_id"] == 2
    checked = {"nulls": 0, "ties": 0, "pages": 0}
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        sql_table = schema.tables["Order"].expression().sql("postgres")
        for customer in range(1, 9):
            params = {"customer_id": customer}
            for name in ("orders_of_customer", "recent_orders_of_customer"):
                pattern = model.pattern(name)
                assert pattern is not None
                sql = pattern.sql or "SELECT * FROM orders WHERE customer_id = :customer_id"
                sql = re.sub(r"\bFROM orders\b", f"FROM {sql_table}", sql)
                sql = re.sub(r":([a-z_]+)", r"%(\1)s", sql)
                with conn.cursor(row_factory=dict_row) as cur:
                    expected = cur.execute(sql, params).fetchall()
                got = getattr(client, name)(**params)
                assert expected and len(got) == len(expected), (name, customer)
                assert [
                    dict(r) == {k: e[k] for k in r}
                    for r, e in zip(
                        sorted(got, key=lambda r: r["order_id"]),
                        sorted(expected, key=lambda r: r["order_id"]),
                        strict=True,
                    )
                ] == [True] * len(got)
                if name == "recent_orders_of_customer":
                    assert _groups(got) == _groups(expected), customer
                    groups = _groups(expected)
                    checked["nulls"] += groups[0][0] is None
                    checked["ties"] += any(len(ids) > 1 for _, ids in groups)
                else:
                    assert {r["order_id"] for r in got} == {r["order_id"] for r in expected}
                pages: list[Any] = []
                cursor = None
                while True:
                    page, cursor = getattr(client, name + "_page")(
                        **params, cursor=cursor, page_size=4
                    )
                    assert len(page) <= 4
                    pages += page
                    checked["pages"] += 1
                    if cursor is None:
                        break
                assert [r["order_id"] for r in pages] == [r["order_id"] for r in got]
            first = client.first_orders_of_customer(customer_id=customer)
            assert [r["placed_at"] for r in first] == sorted(
                [r["placed_at"] for r in got], key=lambda d: (d is None, d or dt.date.min)
            )[:5]
    assert checked["nulls"] >= 3 and checked["ties"] >= 6 and checked["pages"] > 40, checked


def _without_copies(layout: ir.Layout) -> ir.Layout:
    """A broken layout: the plans still read copies, but no copy is written."""
    return dataclasses.replace(layout, copies=())


@pytest.mark.e2e
def test_verify_proves_patterns_served_by_copies(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled(_variant(tmp_path, *ORDERED))
    options = VerifyOptions(trials=10, sample=SampleOptions(seed=7, roots=30, fanout=4))
    ddb = dynamodb_local.client()
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    served = {p.pattern for p in layout.plans if p.copy}
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert served == {
        "orders_of_customer",
        "recent_orders_of_customer",
        "first_orders_of_customer",
    }
    assert served <= proven
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(model, _without_copies(layout), ddb, pg_conn=conn, options=options)
    assert {p.pattern for p in broken.patterns if p.failures} == served


def _copies_in(ddb: Any, table: str) -> dict[int, list[str]]:
    """order_id -> the partition keys of its copies (the whole table scanned)."""
    out: dict[int, list[str]] = {}
    for item in ddb.scan(TableName=table, ConsistentRead=True)["Items"]:
        if item["_type"]["S"] == "Order~GSI1":
            out.setdefault(int(item["order_id"]["N"]), []).append(item["PK"]["S"])
    return out


@pytest.mark.e2e
def test_client_writes_keep_copies_in_sync(dynamodb_local: Any, tmp_path: Path) -> None:
    model, layout = _compiled()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "copies_writes"
    dynamo.create_table(ddb, layout, table)
    client = client_module.Client(table, ddb)

    def pk(customer: int) -> str:
        return "CUSTOMER#" + codec.keys.encode("integer", customer)

    def order(n: int, customer: int, notes: str = "a") -> dict[str, Any]:
        return {"order_id": n, "customer_id": customer, "notes": notes, "total": Decimal(1)}

    client.create_order(order(1, 5))
    client.put_order(order(2, 5))
    assert _copies_in(ddb, table) == {1: [pk(5)], 2: [pk(5)]}
    with pytest.raises(client_module.ItemExists):
        client.create_order(order(1, 6))
    assert _copies_in(ddb, table) == {1: [pk(5)], 2: [pk(5)]}  # nothing half-written
    # the relationship changes through put, update and patch: the copy moves, none is left
    client.put_order(order(1, 6))
    client.update_order(order(2, 7), previous=order(2, 5))
    assert _copies_in(ddb, table) == {1: [pk(6)], 2: [pk(7)]}
    client.patch_order(order_id=2, set={"customer_id": 8})
    assert _copies_in(ddb, table) == {1: [pk(6)], 2: [pk(8)]}
    assert [r["order_id"] for r in client.orders_of_customer(8)] == [2]
    assert client.orders_of_customer(5) == [] and client.orders_of_customer(7) == []
    # batch puts carry the copies; deletes remove them with the item
    assert client.batch_write(puts=[("Order", order(3, 8))]) == 2
    assert client.delete_order(order_id=2) is True
    assert _copies_in(ddb, table) == {1: [pk(6)], 3: [pk(8)]}
    assert [r["order_id"] for r in client.orders_of_customer(8)] == [3]
    with pytest.raises(ValueError, match="relationship copies"):
        client.batch_write(deletes=[("Order", {"order_id": 3})])
    with pytest.raises(ValueError, match="relationship copies"):
        client.transaction().put("Order", order(4, 8))
    # a copy left behind by a writer that ignores copies is never returned under its old key
    ddb.put_item(TableName=table, Item=t.order_to_item(order(3, 9)))
    assert client.orders_of_customer(8) == []


def test_a_sharded_gsi_is_weighed_like_any_other(tmp_path: Path) -> None:
    """A sharded GSI is weighed like any other (copies are sharded too,
    tests/emit/test_copies_sharded.py). At 5,000 writes/s the copies are dearer (each write a
    TransactWriteItems), so both GSIs stay and the choice says so with both totals; at prices
    where storage dominates (request units almost free) the copies are cheaper and built,
    across the same 3 shards as the GSI's partitions."""
    text = (ROOT / "tests" / "fixtures" / "models" / "sharded_orders.yaml").read_text()
    path = tmp_path / "sharded.yaml"
    path.write_text(text.replace("collation: C}\n", "collation: C}\nstrategy: lowest_cost\n", 1))
    model, layout = _compiled(path)
    assert not layout.copies and not [
        d for d in layout.diagnostics if d.code == "strategy-not-built"
    ]
    infos = [d.message for d in layout.diagnostics if d.code == "strategy-choice"]
    assert infos and all("with the GSI" in m and "with duplicated items" in m for m in infos)
    storage_dominated = dataclasses.replace(
        Prices.load(),
        write_request_units_per_million=1e-6,
        read_request_units_per_million=1e-6,
        storage_gb_month=1000.0,
    )
    choices, built = choose(model, layout, storage_dominated)
    cheaper = {c.index for c in choices if c.chosen == DUPLICATE_ITEMS}
    assert cheaper and all(c.built for c in choices if c.chosen == DUPLICATE_ITEMS)
    assert {c.name for c in built.copies} == cheaper
    sharded = {p.index for p in layout.plans if p.sharded}
    assert sharded & cheaper, (sharded, cheaper)
    assert all(c.shards == 3 for c in built.copies if c.name in sharded)
