"""`model cost` against what the generated client really sends (issue 16, item 2).

A recording proxy around a DynamoDB Local client lists the requests of one call of the
generated client; the estimate must count the same requests: a sharded page is one Query per
shard (each on its own shard partition value), a read of relationship copies is one Query then
BatchGetItem of the main items, and a write of an entity with copies is one strongly
consistent GetItem then one TransactWriteItems holding the item and its copies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modeling.api import compile_file
from modeling.cost import Prices, estimate, write_units
from modeling.verify import dynamo

from .test_transformers import load_package

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


class Recorder:
    """A boto3 DynamoDB client that records each call (operation name, request) and passes
    it on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return attr(**kwargs)

        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.mark.e2e
def test_a_sharded_page_sends_one_query_per_shard(dynamodb_local: Any, tmp_path: Path) -> None:
    model, layout = compile_file(FIXTURES / "sharded_orders.yaml")
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "cost_sharded_orders"
    dynamo.create_table(ddb, layout, table)
    statuses = ("pending", "paid", "shipped", "cancelled")
    rows = [
        {
            "order_id": i,
            "status": statuses[i % 4],
            "created_at": dt.date(2024, 1, 1 + i % 28),
            "total": Decimal(i),
        }
        for i in range(60)
    ]
    dynamo.write_items(ddb, table, [t.TO_ITEM["Order"](r) for r in rows], dynamo.LoadResult())
    costs = {p.pattern: p for p in estimate(model, layout, Prices.load()).patterns}
    for pattern in ("orders_by_status", "first_orders_by_status"):
        recorder = Recorder(ddb)
        client = client_module.Client(table, recorder)
        page, _cursor = getattr(client, pattern + "_page")(status="paid")
        assert page, pattern
        queries = [kw for name, kw in recorder.calls if name == "query"]
        assert recorder.names() == ["query"] * len(queries)
        # the estimate counts what was sent: 3 shards, one Query each (15 items: one page)
        assert len(queries) == costs[pattern].queries_per_request == 3
        shards = {q["ExpressionAttributeValues"][":pk"]["S"] for q in queries}
        assert shards == {"ORDER#paid#0", "ORDER#paid#1", "ORDER#paid#2"}


@pytest.mark.e2e
def test_copies_read_and_write_as_the_estimate_counts(dynamodb_local: Any, tmp_path: Path) -> None:
    model, layout = compile_file(FIXTURES / "strategy.yaml")
    assert [c.entity for c in layout.copies] == ["Order"]
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "cost_strategy"
    dynamo.create_table(ddb, layout, table)
    recorder = Recorder(ddb)
    client = client_module.Client(table, recorder)
    client.put_customer({"customer_id": 1, "name": "Ada"})
    recorder.calls.clear()
    client.put_order({"order_id": 7, "customer_id": 1, "notes": "n", "total": Decimal("9.5")})
    # a strongly consistent GetItem, then the item and its copy in one transaction
    assert recorder.names() == ["get_item", "transact_write_items"]
    assert recorder.calls[0][1]["ConsistentRead"] is True
    assert len(recorder.calls[1][1]["TransactItems"]) == 2
    order = model.entity("Order")
    assert order is not None
    # the estimate: 2 x (ceil(10,094 / 1,024) + ceil(156 / 1,024)) = 2 x (10 + 1) write units
    # (tests/test_strategy.py has the sizes: notes up to 20,000) and ceil(10,094 / 4,096) = 3
    # read units
    assert write_units(model, layout, order, layout.indexes[0]) == (22, 3)
    recorder.calls.clear()
    client.put_order({"order_id": 8, "customer_id": 1, "notes": "m", "total": Decimal("1")})
    recorder.calls.clear()
    found = client.orders_of_customer(customer_id=1)
    assert sorted(r["order_id"] for r in found) == [7, 8]
    # one Query of the copies, then BatchGetItem of the main items
    assert recorder.names() == ["query", "batch_get_item"]
    (cost,) = [
        p
        for p in estimate(model, layout, Prices.load()).patterns
        if p.pattern == "orders_of_customer"
    ]
    assert cost.queries_per_request == 1 and cost.fetch_units_per_request > 0
