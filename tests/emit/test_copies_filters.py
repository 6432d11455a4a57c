"""Relationship copies serving filtered plans (issue 16 item 5): the copy holds the attributes
its GSI's patterns filter on, so the Query of the copies filters where the GSI did; LIMIT
counts the rows kept after the filter and after the main items are read; pages resume from the
copies' keys. Before: `strategy-not-built` (filtered)."""

from __future__ import annotations

import dataclasses
import math
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
from modeling.compile.strategy import index_strategies
from modeling.core import ir
from modeling.cost import DUPLICATE_ITEMS, Prices, estimate
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_copies_ranges import DAYS
from .test_transformers import load_package

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"
PATTERNS = {
    # pattern: (DSL, the same in SQL over the prepared table {t})
    "big_orders": (
        '    entity: Order\n    where: {customer_id: "="}\n    filter: {total: ">="}\n',
        "SELECT * FROM {t} WHERE customer_id = %(customer_id)s AND total >= %(total)s",
    ),
    "big_recent": (
        '    entity: Order\n    where: {customer_id: "=", placed_at: ">="}\n'
        '    filter: {total: ">=", status: is_not_null}\n    order: desc\n    limit: 4\n',
        "SELECT * FROM {t} WHERE customer_id = %(customer_id)s AND placed_at >= %(placed_at)s "
        "AND total >= %(total)s AND status IS NOT NULL ORDER BY placed_at DESC LIMIT 4",
    ),
    "unsent": (
        '    entity: Order\n    where: {customer_id: "=", placed_at: "<="}\n'
        "    filter: {status: is_null}\n",
        "SELECT * FROM {t} WHERE customer_id = %(customer_id)s AND placed_at <= %(placed_at)s "
        "AND status IS NULL ORDER BY placed_at",
    ),
}


def compiled(tmp_path: Path) -> tuple[ir.Model, ir.Layout]:
    text = MODEL.read_text().replace(
        "      total: decimal\n",
        "      total: decimal\n      placed_at: {type: date, required: false}\n"
        "      status: {type: string, enum: [new, paid, sent], required: false}\n",
    )
    for name, (dsl, _) in PATTERNS.items():
        text += f"  {name}:\n{dsl}    rate: {{reads_per_second: 5, writes_per_second: 2}}\n"
    path = tmp_path / "filters.yaml"
    path.write_text(text)
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.message for d in bag]
    return model, layout


def test_filtered_patterns_are_served_by_copies_holding_the_filtered_attributes(
    tmp_path: Path,
) -> None:
    model, layout = compiled(tmp_path)
    assert [i.name for i in layout.indexes] == ["table"]
    for name in PATTERNS:
        plan = layout.plan(name)
        assert plan is not None and plan.copy is not None and plan.filters, name
        (copy,) = [c for c in layout.copies if c.name == plan.copy]
        assert {f.attribute for f in plan.filters} <= set(copy.slots), name
    # every write of an Order puts the item and all its copies (each under 1 KB) in one
    # TransactWriteItems: 2 x (ceil(item / 1 KB) + copies) units, at each of its writes
    prices = Prices.load("us-east-1")
    report = estimate(model, layout, prices)
    order = next(e for e in report.entities if e.entity == "Order")
    copies = layout.copies_of("Order")
    assert len(copies) >= 2
    assert order.per_index == (
        ("table", order.item_bytes, 2 * (math.ceil(order.item_bytes / 1024) + len(copies))),
    )
    choices = index_strategies(model, layout, prices)
    assert all(c.chosen == DUPLICATE_ITEMS and c.built for c in choices)
    # the last choice compared the layout `model cost` prices (every copy built)
    assert choices[-1].duplicate_items.total == pytest.approx(report.totals.on_demand_total)


def rows(seed: int) -> Dataset:
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, 4)]
    orders = [
        {
            "order_id": n,
            "customer_id": rng.randint(1, 3),
            "notes": "n",
            "total": Decimal(rng.choice([5, 10, 10, 20, 50])),  # ties at the bound
            "placed_at": None if rng.random() < 0.2 else rng.choice(DAYS),
            "status": rng.choice([None, None, "new", "paid", "sent"]),
        }
        for n in range(1, 121)
    ]
    return Dataset({"Customer": customers, "Order": orders})


@pytest.mark.e2e
def test_filtered_reads_through_copies_match_postgres(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = compiled(tmp_path)
    data = rows(2)
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    order = model.entity("Order")
    assert order is not None
    items = []
    for entity in model.entities:
        for row in data.of(entity.name):
            generated = t.items_of(entity.name, row)
            assert generated == [
                codec.to_item(model, layout, entity, row),
                *codec.copy_items(model, layout, entity, row),
            ]
            items += generated
    ddb = dynamodb_local.client()
    dynamo.create_table(ddb, layout, "copies_filters")
    dynamo.write_items(ddb, "copies_filters", items, dynamo.LoadResult())
    client = client_module.Client("copies_filters", ddb)
    seen = {"rows": 0, "limited": 0, "pages": 0}
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        table = schema.tables["Order"].expression().sql("postgres")

        def sql(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            with conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(PATTERNS[name][1].format(t=table), params).fetchall()

        for customer in (1, 2, 3):
            for total in (Decimal(5), Decimal(10), Decimal(20), Decimal(60)):
                params = {"customer_id": customer, "total": total}
                want = sql("big_orders", params)
                got = client.big_orders(customer, total)
                assert sorted(r["order_id"] for r in got) == sorted(r["order_id"] for r in want)
                seen["rows"] += len(got)
                pages: list[Any] = []
                cursor = None
                while True:  # page_size counts copies read before the filter
                    page, cursor = client.big_orders_page(
                        customer, total, cursor=cursor, page_size=3
                    )
                    pages += page
                    seen["pages"] += 1
                    if cursor is None:
                        break
                assert [r["order_id"] for r in pages] == [r["order_id"] for r in got]
                for day in DAYS[:3]:
                    params = {"customer_id": customer, "total": total, "placed_at": day}
                    want = sql("big_recent", params)
                    got = client.big_recent(customer, day, total)
                    # LIMIT 4 after the filter: the same dates in the same order
                    assert [r["placed_at"] for r in got] == [r["placed_at"] for r in want]
                    unlimited = re.sub(r" LIMIT \d+$", "", PATTERNS["big_recent"][1])
                    with conn.cursor(row_factory=dict_row) as cur:
                        every = cur.execute(unlimited.format(t=table), params).fetchall()
                    assert {r["order_id"] for r in got} <= {r["order_id"] for r in every}
                    seen["limited"] += len(every) > 4
            for day in DAYS:
                params = {"customer_id": customer, "placed_at": day}
                want = sql("unsent", params)
                got = client.unsent(customer, day)
                assert [(r["placed_at"], r["order_id"]) for r in got] == sorted(
                    (r["placed_at"], r["order_id"]) for r in want
                )
                assert all(r["status"] is None for r in got)
    assert seen["rows"] > 50 and seen["limited"] >= 3 and seen["pages"] > 40, seen
    # a writer that ignores copies changes a filtered attribute: the stale copy still says
    # it matches, but the main item does not, so the row is not returned
    row = next(r for r in data.of("Order") if r["customer_id"] == 1 and r["total"] >= 20)
    assert row["order_id"] in {r["order_id"] for r in client.big_orders(1, Decimal(20))}
    ddb.put_item(TableName="copies_filters", Item=t.order_to_item({**row, "total": 1}))
    assert row["order_id"] not in {r["order_id"] for r in client.big_orders(1, Decimal(20))}


@pytest.mark.e2e
def test_verify_proves_filtered_copies(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> None:
    model, layout = compiled(tmp_path)
    options = VerifyOptions(trials=6, sample=SampleOptions(seed=9, roots=10, fanout=5))
    served = {p.pattern for p in layout.plans if p.copy}
    assert set(PATTERNS) <= served
    ddb = dynamodb_local.client()
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns if p.failures]
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert served <= proven, served - proven
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(
            model, dataclasses.replace(layout, copies=()), ddb, pg_conn=conn, options=options
        )
    assert {p.pattern for p in broken.patterns if p.failures} == served
