"""Issue 13, done-when: with a nullable `order_date` (10% NULL, ties), the generated client on
DynamoDB Local returns exactly what PostgreSQL returns for every customer, order included,
under DESC (NULLS FIRST), ASC (NULLS LAST) and explicit NULLS FIRST / NULLS LAST; `model
verify` passes on that model and fails on the old layout (the index sparse on order_date).

PostgreSQL runs the patterns' own SQL. Rows with equal order_date (ties, and the NULL rows)
are compared as sets: the SQL orders by order_date only, so their order is not promised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
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
from modeling.core import ir
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_transformers import load_package

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "null_ordering.yaml"
CUSTOMERS = 30
ORDERS = 300
# the one pattern written in YAML (`nulls: last`), as the SQL it stands for
YAML_SQL = {
    "orders_desc_nulls_last": "SELECT * FROM orders WHERE customer_id = :customer_id "
    "ORDER BY order_date DESC NULLS LAST"
}


def _compiled() -> tuple[ir.Model, ir.Layout]:
    model = load_model(FIXTURE)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


def _rows(seed: int = 13) -> Dataset:
    """30 customers, 300 orders (Zipf-ish: a few customers hold many), 10% of order_date NULL,
    dates drawn from 40 days so ties are common."""
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, CUSTOMERS + 1)]
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(40)]
    nulls = set(rng.sample(range(ORDERS), ORDERS // 10))
    weights = [1 / (i + 1) for i in range(CUSTOMERS)]
    orders = [
        {
            "order_id": n,
            "customer_id": rng.choices(range(1, CUSTOMERS + 1), weights)[0],
            "order_date": None if n in nulls else rng.choice(days),
            "total": Decimal(rng.randint(100, 99_999)) / 100,
        }
        for n in range(ORDERS)
    ]
    return Dataset({"Customer": customers, "Order": orders})


def _groups(rows: list[dict[str, Any]]) -> list[tuple[Any, frozenset[int]]]:
    """Consecutive rows with one order_date (NULL included) as one group, in result order."""
    out: list[tuple[Any, set[int]]] = []
    for row in rows:
        if not out or out[-1][0] != row["order_date"]:
            out.append((row["order_date"], set()))
        out[-1][1].add(row["order_id"])
    return [(d, frozenset(ids)) for d, ids in out]


def _postgres_sql(pattern: ir.AccessPattern, table: str) -> str:
    sql = pattern.sql or YAML_SQL[pattern.name]
    sql = re.sub(r"\bFROM orders\b", f"FROM {table}", sql)
    return re.sub(r":([a-z_]+)", r"%(\1)s", sql)


@pytest.mark.e2e
def test_generated_client_returns_what_postgres_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled()
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "null_ordering"
    dynamo.create_table(ddb, layout, table)
    items = [t.TO_ITEM[e.name](row) for e in model.entities for row in data.of(e.name)]
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    since = dt.date(2024, 1, 20)
    checked = {"customers_with_null": 0, "ties": 0, "calls": 0}
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        sql_table = schema.tables["Order"].expression().sql("postgres")
        for pattern in model.patterns:
            sql = _postgres_sql(pattern, sql_table)
            for customer in range(1, CUSTOMERS + 1):
                params: dict[str, Any] = {"customer_id": customer}
                if pattern.range is not None:
                    params["since"] = since
                with conn.cursor(row_factory=dict_row) as cur:
                    expected = cur.execute(sql, params).fetchall()
                got = getattr(client, pattern.name)(**params)
                assert _groups(got) == _groups(expected), (pattern.name, customer)
                assert len(got) == len(expected)
                pages: list[Any] = []
                start = None
                while True:
                    page, start = getattr(client, pattern.name + "_page")(
                        **params, cursor=start, page_size=3
                    )
                    pages += page
                    if start is None:
                        break
                assert [r["order_id"] for r in pages] == [r["order_id"] for r in got]
                checked["calls"] += 1
                if pattern.name == "orders_desc":
                    groups = _groups(expected)
                    checked["customers_with_null"] += any(d is None for d, _ in groups)
                    checked["ties"] += any(len(ids) > 1 for d, ids in groups if d is not None)
    assert checked["calls"] == CUSTOMERS * len(model.patterns)
    # the data exercised the case: many customers have NULL-dated orders and tied dates
    assert checked["customers_with_null"] >= 10 and checked["ties"] >= 5, checked


def _sparse_layout(layout: ir.Layout) -> ir.Layout:
    """The layout as compiled before the fix: every filled key sparse on order_date."""
    entities = []
    for el in layout.entities:
        keys = tuple(
            dataclasses.replace(k, null_fill=(), sparse=True, sparse_on=("order_date",))
            if k.null_fill
            else k
            for k in el.keys
        )
        entities.append(dataclasses.replace(el, keys=keys))
    return dataclasses.replace(layout, entities=tuple(entities))


@pytest.mark.e2e
def test_verify_passes_and_catches_the_sparse_layout(postgres: Any, dynamodb_local: Any) -> None:
    model, layout = _compiled()
    options = VerifyOptions(
        trials=30, sample=SampleOptions(seed=5, roots=30, fanout=10, hot_partition_bytes=0)
    )
    ddb = dynamodb_local.client()
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(model, _sparse_layout(layout), ddb, pg_conn=conn, options=options)
    failing = {p.pattern for p in broken.patterns if p.failures}
    assert not broken.ok
    assert failing == {
        "orders_desc",
        "orders_asc",
        "orders_asc_nulls_first",
        "orders_desc_nulls_last",
    }, failing
