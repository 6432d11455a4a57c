"""Coverage counting of `model verify` on hand-built results (issue 13, item 2).

Every count below is worked out by hand from the rows written here."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core.ir import Layout, Model
from modeling.sample.oracle import Expected, evaluate
from modeling.sample.rows import Dataset, Row, RowRef, index_rows
from modeling.verify.coverage import Coverage, applicable, case_watch, ties_possible

NULL_ORDERING = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "null_ordering.yaml"


@pytest.fixture(scope="module")
def compiled() -> tuple[Model, Layout]:
    model = load_model(NULL_ORDERING)
    layout, _ = compile_model(model)
    assert layout is not None
    return model, layout


def _order(oid: int, cid: int, day: date | None) -> Row:
    return {"order_id": oid, "customer_id": cid, "order_date": day, "total": Decimal("1")}


def _data() -> Dataset:
    jan1, feb1 = date(2024, 1, 1), date(2024, 2, 1)
    return Dataset(
        {
            "Customer": [{"customer_id": c, "name": f"c{c}"} for c in (1, 2, 3)],
            "Order": [
                _order(1, 1, jan1),  # customer 1: a tie on jan1, and a NULL date
                _order(2, 1, jan1),
                _order(3, 1, None),
                _order(4, 2, feb1),  # customer 2: one dated order; customer 3: none
            ],
        }
    )


def test_what_applies_to_each_pattern(compiled: tuple[Model, Layout]) -> None:
    model, layout = compiled
    desc = model.pattern("orders_desc")
    since = model.pattern("orders_since")
    assert desc is not None and since is not None
    assert applicable(model, layout, desc) == ({"Order": ("order_date",)}, "order_date")
    # orders_since compares order_date with :since, so NULL rows never belong to its answer
    assert applicable(model, layout, since) == ({}, "order_date")


def test_null_tie_multi_page_and_empty_are_counted(compiled: tuple[Model, Layout]) -> None:
    model, layout = compiled
    pattern = model.pattern("orders_desc")
    assert pattern is not None
    data = _data()
    rows = index_rows(model, data)
    null_slots, order = applicable(model, layout, pattern)
    cov = Coverage(nullable=["Order.order_date"], ordered=True, paged=True)
    for cid, pages in ((1, 2), (2, 1), (3, 1), (2, None)):
        expected = evaluate(model, pattern, data, {"customer_id": cid})
        cov.observe(expected, rows, null_slots, order, pages)
    cov.finish("orders_desc")
    assert (cov.values_tried, cov.with_null, cov.with_ties, cov.multi_page, cov.empty) == (
        4,
        1,  # customer 1 only
        1,  # customer 1's two jan1 orders
        1,  # the 2-page answer
        1,  # customer 3
    )
    assert cov.warnings == []


def test_cases_never_seen_are_warned(compiled: tuple[Model, Layout]) -> None:
    model, layout = compiled
    pattern = model.pattern("orders_desc")
    assert pattern is not None
    data = _data()
    rows = index_rows(model, data)
    null_slots, order = applicable(model, layout, pattern)
    cov = Coverage(nullable=["Order.order_date"], ordered=True, paged=True)
    for cid in (2, 3):
        cov.observe(
            evaluate(model, pattern, data, {"customer_id": cid}), rows, null_slots, order, 1
        )
    cov.finish("orders_desc")
    assert (cov.with_null, cov.with_ties, cov.multi_page, cov.empty) == (0, 0, 0, 1)
    assert len(cov.warnings) == 3
    assert "nullable Order.order_date" in cov.warnings[0] and "NULL" in cov.warnings[0]
    assert "ties" in cov.warnings[1]
    assert "more than one Query page" in cov.warnings[2]


def test_cases_that_do_not_apply_are_not_warned() -> None:
    cov = Coverage()  # no nullable slot, no order, not a Query (a GetItem, say)
    cov.observe(Expected({"Order": []}), {}, {}, None, 1)
    cov.finish("by_id")
    assert cov.warnings == [] and cov.empty == 1


def order(oid: int) -> RowRef:
    return RowRef("Order", (oid,))


def test_the_limit_decides_what_was_returned() -> None:
    rows: dict[RowRef, Row] = {
        order(1): {"order_date": date(2024, 3, 1)},
        order(2): {"order_date": date(2024, 1, 1)},
        order(3): {"order_date": date(2024, 1, 1)},
        order(4): {"order_date": None},
    }
    groups = [
        [order(1)],
        [order(2), order(3)],
        [order(4)],
    ]  # ASC NULLS LAST, but newest first: hand-made
    slots = {"Order": ("order_date",)}
    cut = Coverage()
    cut.observe(Expected({"Order": groups}, limit=1), rows, slots, "order_date", 1)
    # limit 1 returns order(1) only: neither the tie nor the NULL row is in the answer
    assert (cut.with_ties, cut.with_null) == (0, 0)
    cut.observe(Expected({"Order": groups}, limit=2), rows, slots, "order_date", 1)
    # limit 2 reaches the tie group (either of order(2), order(3) may come): the tie is exercised
    assert (cut.with_ties, cut.with_null) == (1, 0)
    cut.observe(Expected({"Order": groups}), rows, slots, "order_date", 1)
    assert (cut.with_ties, cut.with_null, cut.values_tried) == (2, 1, 3)


def test_ties_cannot_happen_when_the_order_completes_a_bound_key() -> None:
    orders = load_model(Path(__file__).resolve().parents[2] / "models" / "orders.yaml")
    lines = orders.pattern("lines_of_order")  # WHERE order_id = :id ORDER BY line_no
    newest = orders.pattern("orders_of_customer_newest_first")  # ORDER BY placed_at
    assert lines is not None and newest is not None
    assert not ties_possible(orders, lines, "line_no")
    assert ties_possible(orders, newest, "placed_at")
    assert not ties_possible(orders, newest, None)


# ------------------------------------------------------------------ adversarial cases


def _watch_orders(compiled: tuple[Model, Layout], data: Dataset, pattern_name: str) -> Any:
    model, layout = compiled
    pattern = model.pattern(pattern_name)
    assert pattern is not None
    return pattern, case_watch(model, layout, pattern, data.rows, ("ORDER#",))


def test_case_applies_by_type(compiled: tuple[Model, Layout]) -> None:
    # orders_desc keys on customer_id (integer) and orders by order_date (date): only
    # boundaries can occur; no string, so no separator, prefix, unicode or collation
    _, watch = _watch_orders(compiled, _data(), "orders_desc")
    assert watch.applies == ("boundary",)
    assert {a for a, *_ in watch.attributes["Order"]} >= {"customer_id", "order_date"}


def test_boundary_values_in_an_answer_are_counted(compiled: tuple[Model, Layout]) -> None:
    model, _ = compiled
    data = _data()
    data.rows["Order"].append(_order(5, 2, date(9999, 12, 31)))  # the last date there is
    pattern, watch = _watch_orders(compiled, data, "orders_desc")
    rows = index_rows(model, data)
    seen = [
        watch.cases_of(evaluate(model, pattern, data, {"customer_id": c}), rows, {}) for c in (1, 2)
    ]
    assert seen == [set(), {"boundary"}]


def test_string_cases_separator_literal_prefix_astral_collation() -> None:
    model = load_model(Path(__file__).resolve().parents[2] / "models" / "catalog.yaml")
    layout, _ = compile_model(model)
    assert layout is not None
    pattern = model.pattern("active_products_of_category_by_title")
    assert pattern is not None and pattern.order_by == "title"
    cat = uuid.UUID(int=1)

    def product(n: int, title: str) -> Row:
        return {
            "product_id": uuid.UUID(int=100 + n),
            "category_id": cat,
            "status": "active",
            "title": title,
        }

    rows_list = [product(1, "apple"), product(2, "Banana"), product(3, "PRODUCT#x𝄞")]
    data = Dataset({"Product": rows_list})
    watch = case_watch(model, layout, pattern, data.rows, ("PRODUCT#",))
    assert {"separator", "literal", "prefix", "astral", "collation"} <= set(watch.applies)
    rows = {RowRef("Product", (r["product_id"],)): r for r in rows_list}
    expected = Expected({"Product": [[RowRef("Product", (r["product_id"],))] for r in rows_list]})
    found = watch.cases_of(expected, rows, {})
    # "Banana" < "apple" in bytes, "apple" < "Banana" in words; "PRODUCT#" is template text
    assert {"separator", "literal", "astral", "collation"} <= found
    assert "prefix" not in found
    rows_list.append(product(4, "apple#x"))  # now one title is a prefix of another
    rows = {RowRef("Product", (r["product_id"],)): r for r in rows_list}
    expected = Expected({"Product": [[RowRef("Product", (r["product_id"],))] for r in rows_list]})
    assert "prefix" in watch.cases_of(expected, rows, {})


def test_a_case_that_applies_but_never_came_is_warned() -> None:
    cov = Coverage(case_applies=["boundary", "separator"], case_attributes=["T.a"])
    cov.cases = {"boundary": 0, "separator": 0}
    cov.observe(Expected({"T": []}), {}, {}, None, None)
    cov.observe_cases({"separator"})
    cov.finish("p")
    assert cov.cases == {"boundary": 0, "separator": 1}
    assert len(cov.warnings) == 1 and "boundary" in cov.warnings[0] and "T.a" in cov.warnings[0]
