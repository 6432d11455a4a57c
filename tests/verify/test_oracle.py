"""The Python oracle on tiny hand-built rows; every expected answer is worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from modeling.core.ir import AccessPattern, Condition, Model
from modeling.sample.oracle import Expected, compare, evaluate
from modeling.sample.rows import Dataset, RowRef


def P(pid: str) -> RowRef:
    return RowRef("Product", (pid,))


def V(pid: str, sku: str) -> RowRef:
    return RowRef("Variant", (pid, sku))


def _dt(h: int, tz: timezone = UTC) -> datetime:
    return datetime(2024, 1, 1, h, tzinfo=tz)


def _data() -> Dataset:
    plus2 = timezone(timedelta(hours=2))
    prods = [
        # p1 and p3 are created at the same instant, written in different zones: a tie.
        {"product_id": "p1", "brand_id": "b1", "status": "active", "created_at": _dt(10), "price": Decimal("1.50"), "title": "ab"},
        {"product_id": "p2", "brand_id": "b1", "status": "draft", "created_at": _dt(8), "price": Decimal("-2"), "title": "a#"},
        {"product_id": "p3", "brand_id": "b1", "status": "active", "created_at": _dt(12, plus2), "price": Decimal("10"), "title": "b"},
        {"product_id": "p4", "brand_id": "b2", "status": "active", "created_at": _dt(9), "price": Decimal("1.5"), "title": "𝄞"},
    ]  # fmt: skip
    variants = [
        {"product_id": "p1", "sku": "s1", "size": "M", "stock": 3},
        {"product_id": "p1", "sku": "s2", "size": "L", "stock": -1},
        {"product_id": "p2", "sku": "s3", "size": "M", "stock": 0},
    ]
    return Dataset({"Brand": [], "Product": prods, "Variant": variants})


def test_equality_and_between_desc_with_a_tie(catalog_model: Model) -> None:
    p = catalog_model.pattern("products_of_brand_newest_first")
    assert p is not None
    params = {"brand_id": "b1", "since": _dt(8), "until": _dt(10)}
    got = evaluate(catalog_model, p, _data(), params)
    # b1 rows: p1 10:00, p2 08:00, p3 10:00Z (12:00+02:00); all within [08:00, 10:00]; desc.
    assert got.groups == {"Product": [[P("p1"), P("p3")], [P("p2")]]}


def test_collection_read_returns_both_entities(catalog_model: Model) -> None:
    p = catalog_model.pattern("product_with_variants")
    assert p is not None
    got = evaluate(catalog_model, p, _data(), {"product_id": "p1"})
    assert got.groups == {"Product": [[P("p1")]], "Variant": [[V("p1", "s1"), V("p1", "s2")]]}


def _one(
    model: Model, cond: Condition, params: dict[str, object], **kw: object
) -> list[list[RowRef]]:
    p = AccessPattern("t", ("Product",), (cond,), **kw)  # type: ignore[arg-type]
    return evaluate(model, p, _data(), params).groups["Product"]


def test_each_range_operator(catalog_model: Model) -> None:
    m = catalog_model
    assert _one(m, Condition("price", "<", ("x",)), {"x": Decimal("1.5")}) == [[P("p2")]]
    assert _one(m, Condition("price", "<=", ("x",)), {"x": Decimal("1.5")}) == [
        [P("p2")],
        [P("p1"), P("p4")],  # 1.50 and 1.5 are the same number
    ]
    assert _one(m, Condition("price", ">", ("x",)), {"x": Decimal("1.5")}) == [[P("p3")]]
    assert _one(m, Condition("price", ">=", ("x",)), {"x": Decimal("10")}) == [[P("p3")]]
    # code point order: "#" (0x23) < "b" < "𝄞"; "a#" < "ab"
    assert _one(m, Condition("title", "begins_with", ("x",)), {"x": "a"}) == [[P("p2")], [P("p1")]]
    assert _one(m, Condition("title", ">", ("x",)), {"x": "b"}) == [[P("p4")]]
    assert _one(m, Condition("title", "between", ("lo", "hi")), {"lo": "a#", "hi": "ab"}) == [
        [P("p2")],
        [P("p1")],
    ]
    assert _one(m, Condition("title", "=", ("x",)), {"x": "zz"}) == []


def test_limit_counts_and_prefixes() -> None:
    exp = Expected({"Product": [[P("a"), P("b")], [P("c")]]}, limit=1)
    assert compare(exp, [P("b")]).ok  # either member of the first tie group
    assert not compare(exp, [P("c")]).ok  # skipped the first group
    assert not compare(exp, [P("a"), P("b")]).ok  # too many
    exp2 = Expected({"Product": [[P("a"), P("b")], [P("c")]]}, limit=3)
    assert compare(exp2, [P("b"), P("a"), P("c")]).ok


def test_compare_reports_missing_extra_duplicates_and_order() -> None:
    exp = Expected({"Product": [[P("a")], [P("b")], [P("c")]]})
    assert compare(exp, [P("a"), P("b"), P("c")]).ok
    c = compare(exp, [P("a"), P("c")])
    assert c.missing == [P("b")] and not c.order  # a missing row is not also an order error
    c = compare(exp, [P("a"), P("b"), P("c"), P("z")])
    assert c.extra == [P("z")]
    c = compare(exp, [P("a"), P("a"), P("b"), P("c")])
    assert c.duplicates == [P("a")]
    c = compare(exp, [P("b"), P("a"), P("c")])
    assert c.order and not c.missing


def test_entities_are_ordered_independently_in_a_collection() -> None:
    exp = Expected({"Product": [[P("p")]], "Variant": [[V("p", "1")], [V("p", "2")]]})
    assert compare(exp, [V("p", "1"), P("p"), V("p", "2")]).ok
    assert not compare(exp, [P("p"), V("p", "2"), V("p", "1")]).ok


def test_null_rows_come_where_postgres_puts_them(catalog_model: Model) -> None:
    """NULL sorts above every value in PostgreSQL: last under ASC, first under DESC, unless
    the SQL says NULLS FIRST / NULLS LAST (worked out by hand)."""
    data = _data()
    data.rows["Product"].append(
        {"product_id": "p5", "brand_id": "b1", "status": "draft", "created_at": _dt(7), "price": None, "title": "c"}
    )  # fmt: skip
    cond = Condition("brand_id", "=", ("brand_id",))
    cases = {
        ("asc", None): ["p2", "p1", "p3", "p5"],
        ("desc", None): ["p5", "p3", "p1", "p2"],
        ("asc", "first"): ["p5", "p2", "p1", "p3"],
        ("asc", "last"): ["p2", "p1", "p3", "p5"],
        ("desc", "first"): ["p5", "p3", "p1", "p2"],
        ("desc", "last"): ["p3", "p1", "p2", "p5"],
    }
    for (order, nulls), expected in cases.items():
        p = AccessPattern(
            "t",
            ("Product",),
            (cond,),
            order=order,
            order_by="price",
            nulls=nulls,  # type: ignore[arg-type]
        )
        got = evaluate(catalog_model, p, data, {"brand_id": "b1"}).groups["Product"]
        assert got == [[P(x)] for x in expected], (order, nulls)
