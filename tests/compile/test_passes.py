"""Per-pass fixtures: input -> expected output for each derivation step."""

from __future__ import annotations

import pytest

from modeling.compile import derive
from modeling.compile.assign import fits, solve
from modeling.compile.names import assign_prefixes, type_prefix
from modeling.compile.requirements import collect_units, common_ancestor, pattern_unit
from modeling.compile.state import Derivation, Requirement
from modeling.core.diagnostics import Diagnostic

from .builder import entity, model, pattern
from .designs import catalog, ecommerce


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Product", "PRODUCT"),
        ("OrderItem", "ORDER_ITEM"),
        ("HTTPLog", "HTTP_LOG"),
        ("v2Thing", "V2_THING"),
    ],
)
def test_type_prefix(name: str, prefix: str) -> None:
    assert type_prefix(name) == prefix


def test_prefixes_are_unique_even_when_names_fold_together() -> None:
    m = model(
        "x",
        [entity("OrderItem", ["a"], {"a": "string"}), entity("Order_Item", ["a"], {"a": "string"})],
        [],
    )
    prefixes = assign_prefixes(m, Derivation()).prefixes
    assert sorted(prefixes.values()) == ["ORDER_ITEM", "ORDER_ITEM_2"]


FITS = [
    # pk, sk, eq, range, expected
    (("brand_id",), ("created_at",), {"brand_id"}, "created_at", True),
    (("brand_id",), ("created_at",), {"brand_id"}, None, True),
    (("brand_id",), ("status", "created_at"), {"brand_id", "status"}, "created_at", True),
    (
        ("brand_id",),
        ("status", "created_at"),
        {"brand_id"},
        "created_at",
        False,
    ),  # status unbound first
    (("brand_id", "status"), (), {"brand_id"}, None, False),  # pk slot unbound
    (("brand_id",), (), {"brand_id", "title"}, None, False),  # title nowhere in the key
]


@pytest.mark.parametrize(("pk", "sk", "eq", "rng", "expected"), FITS)
def test_fits(
    pk: tuple[str, ...], sk: tuple[str, ...], eq: set[str], rng: str | None, expected: bool
) -> None:
    assert fits(pk, sk, Requirement("p", "E", frozenset(eq), rng)) is expected


def test_solve_merges_equality_and_range_into_a_composite_sort_key() -> None:
    m, _ = catalog()
    reqs = [
        Requirement("a", "Product", frozenset({"brand_id"}), None),
        Requirement("b", "Product", frozenset({"brand_id", "status"}), "created_at"),
    ]
    p = solve(m, "Product", "GSI1", reqs)
    assert p is not None
    assert (p.pk, p.sk) == (("brand_id",), ("status", "created_at"))
    assert p.owner == "Brand"  # brand_id references Brand: the partition is the brand's


def test_solve_refuses_incompatible_ranges() -> None:
    m, _ = catalog()
    reqs = [
        Requirement("a", "Product", frozenset({"brand_id"}), "created_at"),
        Requirement("b", "Product", frozenset({"brand_id"}), "price"),
    ]
    assert solve(m, "Product", "GSI1", reqs) is None


def test_table_key_always_contains_the_entity_key() -> None:
    m, _ = catalog()
    p = solve(m, "Variant", "table", [Requirement("x", "Variant", frozenset({"product_id"}), None)])
    assert p is not None and set(p.pk) | set(p.sk) >= {"product_id", "sku"}


def test_common_ancestor() -> None:
    m, _ = ecommerce()
    assert common_ancestor(m, ("Order", "OrderItem")) == "Order"
    assert common_ancestor(m, ("OrderItem", "Customer")) == "Customer"


@pytest.mark.parametrize(
    ("where", "entities", "fragment"),
    [
        ({}, "Product", "no key condition"),
        ({"brand_id": "=", "created_at": ">=", "price": "<"}, "Product", "range conditions on"),
        ({"product_id": ">="}, ["Product", "Variant"], "range on product_id"),
        ({"brand_id": "="}, ["Brand", "Product"], "no common parent"),
    ],
)
def test_unservable_patterns_are_refused_with_a_reason(
    where: dict[str, str], entities: str | list[str], fragment: str
) -> None:
    m, _ = catalog()
    result = pattern_unit(m, pattern("p", entities, where))
    assert isinstance(result, Diagnostic)
    assert result.code in {"unservable-pattern", "unknown-attribute"}
    assert fragment in result.message and result.hint


def test_range_only_pattern_gets_a_constant_partition_and_a_warning() -> None:
    m, _ = catalog()
    m = model("c", list(m.entities), [pattern("recent", "Product", {"created_at": ">="})])
    state = collect_units(m, assign_prefixes(m, Derivation()))
    assert [d.code for d in state.diagnostics] == ["constant-partition"]
    assert state.units[0].requirements[0].fixed_pk == ()
    final = derive(m)
    key = next(
        k
        for el in final.entity_layouts
        if el.entity == "Product"
        for k in el.keys
        if k.index != "table"
    )
    assert key.pk == "ALL#PRODUCT" and key.sk == "PRODUCT#{created_at}"


def test_collection_members_share_the_partition_template_and_parent_sorts_first() -> None:
    m, _ = ecommerce()
    state = derive(m)
    keys = {(el.entity, k.index): k for el in state.entity_layouts for k in el.keys}
    assert keys[("Customer", "table")].pk == keys[("Order", "table")].pk == "CUSTOMER#{username}"
    # customer_with_orders reads desc: the customer must come first, so orders sort below it
    assert keys[("Order", "table")].sk is not None and keys[("Customer", "table")].sk is not None
    assert keys[("Order", "table")].sk < keys[("Customer", "table")].sk
    assert keys[("Order", "GSI1")].pk == keys[("OrderItem", "GSI1")].pk == "ORDER#{order_id}"


def test_plans_pick_getitem_begins_with_and_between() -> None:
    m, _ = catalog()
    plans = {p.pattern: p for p in derive(m).plans}
    assert plans["get_product"].operation == "GetItem"
    assert plans["product_with_variants"].sk.kind == "none"
    newest = plans["products_of_brand_newest_first"]
    assert newest.sk.kind == "between" and not newest.scan_forward
    assert [v.mode for v in newest.sk.values] == ["open", "full"]
    since = plans["active_products_since"]
    # >= inside a shared sort-key space is bounded above by the prefix's successor
    assert since.sk.kind == "between" and [v.mode for v in since.sk.values] == ["open", "after"]
    assert [b.param for b in since.pk.bindings] == ["status"]


def test_sparse_gsi_for_optional_attributes() -> None:
    m = model(
        "s",
        [
            entity(
                "User",
                ["user_id"],
                {"user_id": "string", "referrer": {"type": "string", "required": False}},
            )
        ],
        [pattern("by_referrer", "User", {"referrer": "="})],
    )
    state = derive(m)
    key = next(k for el in state.entity_layouts for k in el.keys if k.index == "GSI1")
    assert key.sparse and key.sparse_on == ("referrer",)
    assert any("sparse" in line for line in state.plans[0].proof)


def test_state_attributes_stay_off_the_table_key() -> None:
    """`status = :s` on an entity read by id: the enum goes to a GSI, never into the table key."""
    from modeling.compile import compile_model

    from .builder import entity, model, pattern

    m = model(
        "returns",
        [
            entity(
                "Return",
                ["return_id"],
                {
                    "return_id": "string",
                    "status": {"type": "string", "enum": ["requested", "done"]},
                    "requested_at": "datetime",
                },
            )
        ],
        [pattern("open_returns", "Return", {"status": "=", "requested_at": ">="})],
    )
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    table_key = layout.entity("Return").key("table")  # type: ignore[union-attr]
    assert table_key is not None and "{status}" not in table_key.pk + (table_key.sk or "")
    assert layout.plan("open_returns").index == "GSI1"  # type: ignore[union-attr]
