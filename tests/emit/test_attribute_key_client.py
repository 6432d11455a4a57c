"""The generated client on an index keyed on the items' own attributes (issue 16 item 4).

`layout: {gsi_keys: attributes}` (tests/fixtures/models/attribute_gsis.yaml): hand-picked sales
with negative amounts, ties and numbers whose text order differs from their numeric order are
written through the generated transformers to DynamoDB Local and to PostgreSQL; each pattern
on an attribute-keyed GSI, read two rows a page through the generated client, returns
PostgreSQL's rows in PostgreSQL's order.
"""

from __future__ import annotations

import importlib
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core.naming import snake
from modeling.emit.transformers import pattern_params
from modeling.verify import dynamo

from .test_transformers import load_package

FIXTURE = Path(__file__).parents[1] / "fixtures" / "models" / "attribute_gsis.yaml"


# sale_id, store_id, region, amount, quantity, sold_on: negatives (refunds), ties, 9 < 10 < 100
SALES = [
    (1, 7, "eu", "10", 5, "2026-01-02"),
    (2, 7, "eu", "-2.5", 1, "2026-01-02"),
    (3, 7, "eu", "100", 9, "2026-01-01"),
    (4, 7, "eu", "9", 10, "2026-01-02"),
    (5, 7, "eu", "-10", 100, "2026-01-03"),
    (6, 7, "eu", "9", 2, "2026-01-02"),
    (7, 7, "us", "0", 3, "2026-01-02"),
    (8, 8, "eu", "1", 5, "2026-01-02"),
    (9, 7, "eu", "-2.5", -4, "2026-01-02"),
    (10, 7, "eu", "0", 7, "2026-01-04"),
]
QUERIES = [
    # pattern, parameters, the same question in SQL (ties broken by the test, not the SQL)
    (
        "sales_of_store_by_amount",
        {"store_id": 7, "region": "eu", "amount_from": Decimal(-5), "amount_to": Decimal(10)},
        "store_id = 7 AND region = 'eu' AND amount BETWEEN -5 AND 10 ORDER BY amount",
    ),
    (
        "sales_of_store_on_day_over",
        {"store_id": 7, "sold_on": date(2026, 1, 2), "quantity": -5},
        "store_id = 7 AND sold_on = '2026-01-02' AND quantity > -5 ORDER BY quantity",
    ),
    (
        "sales_of_store_since",
        {"store_id": 7, "sold_on": date(2026, 1, 2)},
        "store_id = 7 AND sold_on >= '2026-01-02' ORDER BY sold_on, quantity",
    ),
]


@pytest.mark.e2e
def test_generated_client_pages_like_postgres(
    dynamodb_local: Any, postgres: Any, tmp_path: Path
) -> None:
    """The generated client on DynamoDB Local returns PostgreSQL's rows in PostgreSQL's order
    (numbers numerically, negatives first; ties as a set), two rows a page."""
    m = load_model(FIXTURE)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg", client=True)
    ddb = dynamodb_local.client()
    table = f"attrkeys_{uuid.uuid4().hex[:8]}"
    dynamo.create_table(ddb, layout, table)
    rows = [
        {
            "sale_id": s,
            "store_id": st,
            "region": r,
            "amount": Decimal(a),
            "quantity": q,
            "sold_on": date.fromisoformat(d),
            "note": None,
        }
        for s, st, r, a, q, d in SALES
    ]
    items = [t.TO_ITEM["Sale"](row) for row in rows]
    assert all(not k.startswith(("GSI2", "GSI3")) for i in items for k in i)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = importlib.import_module(t.__name__.rsplit(".", 1)[0] + ".client").Client(table, ddb)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE sales (sale_id int, store_id int, region text, amount numeric, "
            "quantity int, sold_on date)"
        )
        for s, st, r, a, q, d in SALES:
            conn.execute("INSERT INTO sales VALUES (%s, %s, %s, %s, %s, %s)", (s, st, r, a, q, d))
        for pattern, params, sql in QUERIES:
            order = sql.split("ORDER BY ")[1].split(", ")
            expected = conn.execute(
                f"SELECT sale_id, {', '.join(order)} FROM sales WHERE {sql}"
            ).fetchall()
            plan = layout.plan(pattern)
            assert plan is not None and plan.key_attributes, pattern
            names = pattern_params(m, plan).names
            page = getattr(client, snake(pattern) + "_page")
            got: list[Any] = []
            cursor, pages = None, 0
            while True:
                batch, cursor = page(
                    **{names[k]: v for k, v in params.items()}, cursor=cursor, page_size=2
                )
                got += batch
                pages += 1
                if cursor is None:
                    break
            assert len(expected) >= 4 and pages >= 2, pattern
            # the same sort values in the same order; the same rows in each tie group
            assert [tuple(g[c] for c in order) for g in got] == [e[1:] for e in expected]
            assert sorted(g["sale_id"] for g in got) == sorted(e[0] for e in expected), pattern


def test_an_empty_string_in_a_key_attribute_is_refused_with_the_row(tmp_path: Path) -> None:
    """DynamoDB refuses a whole write whose attribute-index key attribute is an empty string;
    the transformer refuses that row alone (a dead-letter with its reason in a migration)."""
    m = load_model(FIXTURE)
    layout, bag = compile_model(m)
    assert layout is not None, [d.message for d in bag.errors]
    t = load_package(layout, m, tmp_path / "pkg")
    row = {"sale_id": 1, "store_id": 7, "region": "eu", "amount": Decimal(1), "quantity": 1}
    row |= {"sold_on": date(2026, 1, 1), "note": None}
    assert t.TO_ITEM["Sale"](row)["region"] == {"S": "eu"}
    with pytest.raises(t.InvalidKey, match="region is a key attribute"):
        t.TO_ITEM["Sale"]({**row, "region": ""})
    store = {"store_id": 7, "name": "", "region": ""}  # Store is not on that index: still refused
    with pytest.raises(t.InvalidKey, match="region"):
        t.TO_ITEM["Store"](store)
    assert t.TO_ITEM["Store"]({**store, "region": "us"})["name"] == {"S": ""}
