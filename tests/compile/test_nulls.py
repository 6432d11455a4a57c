"""NULL in a key slot (issue 13): a slot a pattern constrains may be sparse (SQL's comparison
with NULL is never true); a slot a pattern only orders by keeps its NULL rows, keyed with the
codec's sentinel where PostgreSQL puts them (NULLS LAST under ASC, NULLS FIRST under DESC, or
the SQL's own NULLS FIRST/LAST)."""

from __future__ import annotations

from pathlib import Path

from modeling.api import check_text, load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.spec.sql_patterns import TableInfo, translate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "null_ordering.yaml"


def _layout(model: ir.Model) -> ir.Layout:
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return layout


def _key(layout: ir.Layout, pattern: str) -> ir.EntityKey:
    plan = next(p for p in layout.plans if p.pattern == pattern)
    el = layout.entity("Order")
    assert el is not None
    return next(k for k in el.keys if k.index == plan.index)


def test_order_only_slot_keeps_null_rows_where_postgres_puts_them() -> None:
    model = load_model(FIXTURE)
    layout = _layout(model)
    placements = {
        "orders_desc": "high",  # DESC NULLS FIRST: NULL above every value, read backwards
        "orders_asc": "high",  # ASC NULLS LAST
        "orders_asc_nulls_first": "low",
        "orders_desc_nulls_last": "low",
    }
    for name, place in placements.items():
        key = _key(layout, name)
        assert key.null_fill == (("order_date", place),), name
        assert not key.sparse and "order_date" not in key.sparse_on, name
    # patterns wanting different placements never share a key
    assert _key(layout, "orders_desc").index == _key(layout, "orders_asc").index
    assert _key(layout, "orders_desc").index != _key(layout, "orders_asc_nulls_first").index
    # a range on the slot would read the sentinel: that pattern gets a sparse key of its own
    since = _key(layout, "orders_since")
    assert since.sparse_on == ("order_date",) and since.null_fill == ()
    assert since.index not in {_key(layout, n).index for n in placements}


def test_explain_says_which_rows_are_left_out_and_why() -> None:
    layout = _layout(load_model(FIXTURE))
    plans = {p.pattern: "\n".join(p.proof) for p in layout.plans}
    assert "order_date NULL have no" in plans["orders_since"]
    assert "never true for NULL" in plans["orders_since"]
    assert (
        "comes back first, as PostgreSQL's ORDER BY order_date DESC NULLS FIRST"
        in (plans["orders_desc"])
    )
    assert (
        "comes back last, as PostgreSQL's ORDER BY order_date ASC NULLS LAST"
        in (plans["orders_asc"])
    )
    assert "sorts before every value, so it comes back first" in plans["orders_asc_nulls_first"]
    assert "sorts before every value, so it comes back last" in plans["orders_desc_nulls_last"]


def test_sql_nulls_clause_is_read() -> None:
    columns = {c: c for c in ("order_id", "customer_id", "order_date")}
    tables = [TableInfo("Order", "orders", columns, ("order_id",))]
    base = "SELECT * FROM orders WHERE customer_id = :c ORDER BY order_date"
    assert translate(base, tables).nulls is None
    assert translate(base + " DESC", tables).nulls is None  # the default, not written
    assert translate(base + " DESC NULLS FIRST", tables).nulls is None  # same as the default
    assert translate(base + " NULLS FIRST", tables).nulls == "first"
    assert translate(base + " DESC NULLS LAST", tables).nulls == "last"


def test_nulls_high_is_postgres_default() -> None:
    def pattern(order: str, nulls: str | None) -> ir.AccessPattern:
        return ir.AccessPattern("p", ("E",), (), order=order, nulls=nulls)  # type: ignore[arg-type]

    assert pattern("asc", None).nulls_high and pattern("desc", None).nulls_high
    assert pattern("asc", "last").nulls_high and pattern("desc", "first").nulls_high
    assert not pattern("asc", "first").nulls_high and not pattern("desc", "last").nulls_high


LOW_STRING = """
model: tags
entities:
  Item:
    key: [item_id]
    attributes:
      item_id: integer
      owner: integer
      label: {type: string, required: false}
access_patterns:
  labels_nulls_first:
    sql: SELECT * FROM items WHERE owner = :owner ORDER BY label NULLS FIRST
"""


def test_nulls_before_an_empty_string_at_the_end_of_a_key_is_an_error() -> None:
    result = check_text(LOW_STRING, "tags.yaml")
    assert result.model is not None
    layout, bag = compile_model(result.model)
    codes = [d.code for d in bag]
    assert layout is None and "null-order-unsupported" in codes, codes
    default = LOW_STRING.replace(" NULLS FIRST", "")
    result = check_text(default, "tags.yaml")
    assert result.model is not None
    assert _layout(result.model).plans


SHARED = """
model: shared
entities:
  Order:
    key: [order_id]
    attributes:
      order_id: integer
      customer_id: integer
      order_date: {type: date, required: false}
access_patterns:
  orders_by_date: {entity: Order, where: {customer_id: "="}, order_by: order_date}
  all_orders_of_customer: {entity: Order, where: {customer_id: "="}}
  get_order: {entity: Order, where: {order_id: "="}, unique: true}
"""


def test_a_pattern_that_reads_the_partition_shares_a_filled_key() -> None:
    """Reading the whole partition needs every row; a key sparse on order_date would lose the
    NULL ones, a filled key keeps them, so both patterns share it (and no key is sparse)."""
    result = check_text(SHARED, "shared.yaml")
    assert result.model is not None
    layout = _layout(result.model)
    indexes = {p.pattern: p.index for p in layout.plans}
    assert indexes["get_order"] == "table"
    assert indexes["orders_by_date"] == indexes["all_orders_of_customer"] == "GSI1"
    el = layout.entity("Order")
    assert el is not None
    assert all(not k.sparse for k in el.keys)
