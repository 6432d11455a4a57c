"""Relationship copies for a GSI several entities share (issue 16 item 5): one copy per entity
under the GSI's marker, each pattern reading its entity's copies by type, and the collection
pattern reading all of them in the GSI's order. Before: `strategy-not-built` (several
entities)."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.strategy import index_strategies
from modeling.core import ir
from modeling.cost import Prices, estimate
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_transformers import load_package

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"
# Customer, Order and Refund on one GSI keyed by the customer (pinned keys), read alone and
# together: a collection pattern on the GSI
SHARED = (
    (
        "    key: [customer_id]\n",
        "    key: [customer_id]\n    keys:\n"
        '      table: {pk: "CUSTOMER#{customer_id}", sk: "CUSTOMER"}\n'
        '      gsi1: {pk: "CUSTOMER#{customer_id}", sk: "CUSTOMER"}\n',
    ),
    (
        "    key: [order_id]\n",
        "    key: [order_id]\n    parent: Customer\n    keys:\n"
        '      table: {pk: "ORDER#{order_id}", sk: "ORDER"}\n'
        '      gsi1: {pk: "CUSTOMER#{customer_id}", sk: "ORDER#{order_id}"}\n',
    ),
    (
        "  Order:\n",
        "  Refund:\n    table: refunds\n    key: [refund_id]\n    parent: Customer\n"
        "    row_count: 10000000\n    writes_per_second: 1\n    keys:\n"
        '      table: {pk: "REFUND#{refund_id}", sk: "REFUND"}\n'
        '      gsi1: {pk: "CUSTOMER#{customer_id}", sk: "REFUND#{refund_id}"}\n'
        "    attributes:\n      refund_id: integer\n"
        "      customer_id: {type: integer, references: Customer}\n"
        "      notes: {type: string, max_length: 20000}\n  Order:\n",
    ),
)
PATTERNS = """  get_refund: {entity: Refund, where: {refund_id: "="}, rate: {reads_per_second: 50}}
  refunds_of_customer:
    entity: Refund
    where: {customer_id: "="}
    rate: {reads_per_second: 5, writes_per_second: 2}
  activity_of_customer:
    entities: [Customer, Order, Refund]
    where: {customer_id: "="}
    rate: {reads_per_second: 5, writes_per_second: 2}
"""


def compiled(tmp_path: Path, *more: tuple[str, str]) -> tuple[ir.Model, ir.Layout]:
    text = MODEL.read_text()
    for old, new in SHARED:
        assert old in text
        text = text.replace(old, new, 1)
    text += PATTERNS
    for old, new in more:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "shared.yaml"
    path.write_text(text)
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.message for d in bag]
    return model, layout


def test_one_copy_per_entity_of_the_shared_gsi(tmp_path: Path) -> None:
    model, layout = compiled(tmp_path)
    assert [i.name for i in layout.indexes] == ["table"]
    assert {(c.name, c.entity, c.sk) for c in layout.copies} == {
        ("GSI1", "Customer", "~GSI1#CUSTOMER"),
        ("GSI1", "Order", "~GSI1#ORDER#{order_id}"),
        ("GSI1", "Refund", "~GSI1#REFUND#{refund_id}"),
    }
    both = layout.plan("activity_of_customer")
    assert both is not None and both.copy == "GSI1" and both.index == "table"
    assert both.type_filter == ("Customer~GSI1", "Order~GSI1", "Refund~GSI1")
    assert (both.sk.kind, both.sk.values[0].template) == ("begins_with", "~GSI1#")
    refunds = layout.plan("refunds_of_customer")
    assert refunds is not None and refunds.type_filter == ("Refund~GSI1",)
    # priced as `model cost` prices the compiled layout: every write of each entity puts its
    # item and its copy in one TransactWriteItems (2 units per KB per action)
    (choice,) = index_strategies(model, layout, Prices.load("us-east-1"))
    report = estimate(model, layout, Prices.load("us-east-1"))
    assert choice.built
    assert choice.duplicate_items.total == pytest.approx(report.totals.on_demand_total)
    assert choice.duplicate_items.total < choice.gsi.total  # type: ignore[operator]
    assert report.indexes[0].items == 2 * (1_000_000 + 10_000_000 + 10_000_000)
    # Customer (1 write/s): item and copy of 1 KB each -> 2 x (1 + 1) = 4 units a write
    customer = next(e for e in report.entities if e.entity == "Customer")
    assert customer.per_index == (("table", customer.item_bytes, 4.0),)


def test_a_collection_whose_sort_keys_nest_keeps_the_gsi(tmp_path: Path) -> None:
    """`ORDER` (a constant) starts `ORDER#...`: with suffixes, the copies of the two entities
    could interleave in another order than on the GSI, so the GSI stays and says why."""
    _, layout = compiled(
        tmp_path,
        (
            'gsi1: {pk: "CUSTOMER#{customer_id}", sk: "CUSTOMER"}',
            'gsi1: {pk: "CUSTOMER#{customer_id}", sk: "ORDER"}',
        ),
    )
    assert not layout.copies and [i.name for i in layout.indexes] == ["table", "GSI1"]
    (warning,) = [d for d in layout.diagnostics if d.code == "strategy-not-built"]
    assert "one a prefix of the other" in warning.message, warning.message


def rows(seed: int) -> Dataset:
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, 7)]
    orders = [
        {
            "order_id": n,
            "customer_id": rng.randint(1, 5),  # customer 6 has none
            "notes": "o" * rng.randint(0, 9),
            "total": Decimal(rng.randint(1, 999)) / 10,
        }
        for n in range(1, 61)
    ]
    refunds = [
        {"refund_id": n, "customer_id": rng.randint(1, 5), "notes": "r#" * rng.randint(0, 4)}
        for n in range(1, 41)
    ]
    return Dataset({"Customer": customers, "Order": orders, "Refund": refunds})


@pytest.mark.e2e
def test_shared_gsi_reads_through_copies_match_postgres(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = compiled(tmp_path)
    data = rows(8)
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    items: list[dict[str, Any]] = []
    for entity in model.entities:
        for row in data.of(entity.name):
            generated = t.items_of(entity.name, row)
            assert generated == [
                codec.to_item(model, layout, entity, row),
                *codec.copy_items(model, layout, entity, row),
            ]
            items += generated
    ddb = dynamodb_local.client()
    dynamo.create_table(ddb, layout, "copies_shared")
    dynamo.write_items(ddb, "copies_shared", items, dynamo.LoadResult())
    client = client_module.Client("copies_shared", ddb)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        tables = {n: schema.tables[n].expression().sql("postgres") for n in schema.tables}

        def select(entity: str, key: str, customer: int) -> list[dict[str, Any]]:
            sql = f"SELECT * FROM {tables[entity]} WHERE customer_id = %s ORDER BY {key}"
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(sql, (customer,)).fetchall()

        for customer in range(1, 8):
            customers = select("Customer", "customer_id", customer)
            orders = select("Order", "order_id", customer)
            refunds = select("Refund", "refund_id", customer)
            # the GSI's order: the customer, its orders, its refunds (each by identity)
            want = [
                *(("Customer", r) for r in customers),
                *(("Order", r) for r in orders),
                *(("Refund", r) for r in refunds),
            ]
            got = list(client.iter_activity_of_customer(customer))
            assert [(e, dict(r)) for e, r in got] == [
                (e, {k: r[k] for k in dict(g)}) for (e, r), (_, g) in zip(want, got, strict=True)
            ], customer
            pages: list[Any] = []
            cursor = None
            while True:
                page, cursor = client.activity_of_customer_page(
                    customer, cursor=cursor, page_size=3
                )
                pages += page
                if cursor is None:
                    break
            assert [(e, dict(r)) for e, r in pages] == [(e, dict(r)) for e, r in got]
            assert [r["refund_id"] for r in client.refunds_of_customer(customer)] == [
                r["refund_id"] for r in refunds
            ]
            assert [r["order_id"] for r in client.orders_of_customer(customer)] == [
                r["order_id"] for r in orders
            ]


@pytest.mark.e2e
def test_verify_proves_the_shared_copies(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = compiled(tmp_path)
    options = VerifyOptions(trials=6, sample=SampleOptions(seed=3, roots=10, fanout=4))
    ddb = dynamodb_local.client()
    served = {p.pattern for p in layout.plans if p.copy}
    assert served == {"orders_of_customer", "refunds_of_customer", "activity_of_customer"}
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns if p.failures]
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert served <= proven, served - proven
    # one entity's copies not written: the patterns reading it fail, the others still hold
    partial = dataclasses.replace(
        layout, copies=tuple(c for c in layout.copies if c.entity != "Refund")
    )
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(model, partial, ddb, pg_conn=conn, options=options)
    assert {p.pattern for p in broken.patterns if p.failures} == {
        "refunds_of_customer",
        "activity_of_customer",
    }


def test_copies_of_two_entities_that_could_share_a_key_keep_the_gsi(tmp_path: Path) -> None:
    """Refund's GSI sort key `ORDER` plus its identity suffix renders like Order's
    `ORDER#{order_id}`: on the GSI both may sit at one key, on the table one copy would
    overwrite the other, so the GSI stays and says why."""
    _, layout = compiled(
        tmp_path,
        (
            'gsi1: {pk: "CUSTOMER#{customer_id}", sk: "REFUND#{refund_id}"}',
            'gsi1: {pk: "CUSTOMER#{customer_id}", sk: "ORDER"}',
        ),
        ("    entities: [Customer, Order, Refund]\n", "    entities: [Customer, Order]\n"),
    )
    assert not layout.copies and [i.name for i in layout.indexes] == ["table", "GSI1"]
    (warning,) = [d for d in layout.diagnostics if d.code == "strategy-not-built"]
    assert "could have the same table key" in warning.message, warning.message
