"""`extraction.pattern_select`: an access pattern as SQL, shared by verify's PostgreSQL oracle
and `migrate validate --patterns`."""

from __future__ import annotations

import dataclasses

import pytest
import shopdata

from modeling.api import load_model
from modeling.core import ir
from modeling.extraction import pattern_select


@pytest.fixture(scope="module")
def shop() -> ir.Model:
    return load_model(shopdata.MODEL)


def _orders(model: ir.Model) -> tuple[ir.Entity, ir.AccessPattern]:
    entity, pattern = model.entity("Order"), model.pattern("orders_of_customer")
    assert entity is not None and pattern is not None
    return entity, pattern


def test_conditions_are_binds_and_strings_use_the_chosen_collation(shop: ir.Model) -> None:
    entity, pattern = _orders(shop)
    p = dataclasses.replace(
        pattern, filter=(ir.Condition("status", "="), ir.Condition("notes", "begins_with"))
    )
    values = [(7,), ("x'; DROP TABLE orders; --",), ("no",)]
    kwargs = {"order_by": "placed_at", "nulls_first": False}
    byte_order, binds = pattern_select(entity, p, values, **kwargs)
    assert binds == {"b0": 7, "b1": "x'; DROP TABLE orders; --", "b2": "no"}
    assert "DROP" not in byte_order
    assert '"status" COLLATE "C" = %(b1)s' in byte_order
    assert '"customer_id" = %(b0)s' in byte_order  # an integer: no collation
    source, _ = pattern_select(entity, p, values, collate=None, **kwargs)
    assert "COLLATE" not in source and '"status" = %(b1)s' in source
    assert source.startswith('SELECT "order_id" FROM "orders" WHERE ')
    assert source.endswith('ORDER BY "placed_at" ASC, "order_id"')


@pytest.mark.parametrize(
    ("order", "nulls_first", "clause"),
    [
        ("asc", False, 'ORDER BY "placed_at" ASC, "order_id"'),  # PostgreSQL's default: NULLS LAST
        ("asc", True, 'ORDER BY "placed_at" ASC NULLS FIRST, "order_id"'),
        ("desc", True, 'ORDER BY "placed_at" DESC, "order_id"'),  # the default: NULLS FIRST
        ("desc", False, 'ORDER BY "placed_at" DESC NULLS LAST, "order_id"'),
    ],
)
def test_nulls_come_where_the_pattern_says(
    shop: ir.Model, order: str, nulls_first: bool, clause: str
) -> None:
    entity, pattern = _orders(shop)
    p = dataclasses.replace(pattern, order=order)
    sql, _ = pattern_select(entity, p, [(1,)], order_by="placed_at", nulls_first=nulls_first)
    assert sql.endswith(clause), sql


def test_limit_columns_and_table(shop: ir.Model) -> None:
    entity, pattern = _orders(shop)
    limited = dataclasses.replace(pattern, limit=5)
    sql, _ = pattern_select(
        entity,
        limited,
        [(1,)],
        order_by="placed_at",
        nulls_first=False,
        table=("scratch", "orders 100%"),
        columns=["order_id", "placed_at"],
    )
    assert sql.startswith('SELECT "order_id", "placed_at" FROM "scratch"."orders 100%%" WHERE')
    assert sql.endswith(" LIMIT 5")
    collection = dataclasses.replace(limited, entities=("Order", "LineItem"))
    sql, _ = pattern_select(entity, collection, [(1,)], order_by=None, nulls_first=False)
    assert "LIMIT" not in sql and sql.endswith('ORDER BY "order_id"')
    with pytest.raises(ValueError, match="1 conditions, 2 values"):
        pattern_select(entity, pattern, [(1,), (2,)], order_by=None, nulls_first=False)
