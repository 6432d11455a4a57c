"""Keys from stable attributes (issue 13, item 6): a derived table key holds only attributes
that never change (the identity, the link to the parent, `immutable: true`); a pinned table key
holding a changeable one is warned about (`mutable-table-key`): a change is a delete + put."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from modeling.api import load_model
from modeling.compile import checks, compile_model, templates
from modeling.core import ir

from .builder import entity, model, pattern

ROOT = Path(__file__).resolve().parents[2]
MODELS = [
    *sorted((ROOT / "models").glob("*.yaml")),
    *sorted((ROOT / "tests/fixtures/models").glob("*.yaml")),
    *sorted((ROOT / "tests/fixtures/models/realworld").glob("*.yaml")),
]


def _table_slots(layout: ir.Layout, name: str) -> list[str]:
    el = layout.entity(name)
    assert el is not None
    key = el.key("table")
    assert key is not None
    return [*templates.slots(key.pk), *templates.slots(key.sk or "")]


def _products(
    price: str | dict[str, object] = "decimal", category: str | dict[str, object] = "string"
) -> ir.Model:
    """No get-by-id pattern: the only reads are by category with a price range."""
    return model(
        "shop",
        [
            entity(
                "Product",
                ["product_id"],
                {"product_id": "string", "category": category, "price": price},  # type: ignore[dict-item]
            )
        ],
        [pattern("products_in_price_range", "Product", {"category": "=", "price": "between"})],
    )


def test_a_mutable_price_never_goes_into_a_derived_table_key() -> None:
    layout, bag = compile_model(_products())
    assert layout is not None, [d.format() for d in bag.errors]
    # before: the table key was CATEGORY#{category} / PRODUCT#{price}#{product_id}, so a price
    # change moved the item to a new primary key
    assert _table_slots(layout, "Product") == ["product_id"]
    plan = layout.plan("products_in_price_range")
    assert plan is not None and plan.index == "GSI1"
    assert not [d for d in bag if d.code == "mutable-table-key"]


def test_a_system_assigned_operator_stays_off_the_table_key() -> None:
    """The issue's case: reads by `operator` (a free string the system reassigns)."""
    m = model(
        "calls",
        [
            entity(
                "Call",
                ["call_id"],
                {"call_id": "string", "operator": "string", "at": "datetime"},
            )
        ],
        [pattern("calls_of_operator", "Call", {"operator": "=", "at": ">="})],
    )
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    assert "operator" not in _table_slots(layout, "Call")
    assert layout.plan("calls_of_operator").index == "GSI1"  # type: ignore[union-attr]


def test_a_declared_immutable_attribute_may_key_the_table() -> None:
    fixed = {"immutable": True}
    layout, _bag = compile_model(
        _products({"type": "decimal", **fixed}, {"type": "string", **fixed})
    )
    assert layout is not None
    assert _table_slots(layout, "Product") == ["category", "price", "product_id"]
    assert layout.plan("products_in_price_range").index == "table"  # type: ignore[union-attr]


def test_the_parent_link_is_stable() -> None:
    """An owned child never changes owner: its parent's key may partition the table."""
    m = model(
        "orders",
        [
            entity("Customer", ["customer_id"], {"customer_id": "string"}),
            entity(
                "Order",
                ["order_id"],
                {"order_id": "string", "customer_id": "string"},
                parent="Customer",
            ),
        ],
        [
            pattern("orders_of_customer", "Order", {"customer_id": "="}),
            pattern("customer_with_orders", ["Customer", "Order"], {"customer_id": "="}),
        ],
    )
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    assert _table_slots(layout, "Order")[0] == "customer_id"
    assert len(layout.gsis) == 0


def _pinned(immutable: bool) -> ir.Model:
    status: dict[str, object] = {"type": "string", "immutable": immutable}
    return model(
        "cart",
        [
            entity(
                "CartLine",
                ["customer_id", "added_at"],
                {"customer_id": "string", "added_at": "datetime", "status": status},  # type: ignore[dict-item]
                keys={"table": {"pk": "{customer_id}", "sk": "{status}#{added_at}"}},
            )
        ],
        [pattern("lines_of_customer", "CartLine", {"customer_id": "=", "status": "="})],
    )


def test_a_pinned_table_key_with_a_mutable_attribute_is_warned_about() -> None:
    """AWS's cart design keys the table on Status#Date: moving a line from the cart to
    `saved` is a delete + put. The pinned key is kept (never rewritten), with a warning."""
    layout, bag = compile_model(_pinned(immutable=False))
    assert layout is not None
    warned = [d for d in bag if d.code == "mutable-table-key"]
    assert len(warned) == 1 and warned[0].subject == "CartLine"
    assert "status" in warned[0].message and "delete" in warned[0].message
    assert warned[0].hint is not None and "immutable: true" in warned[0].hint
    assert "mutable-table-key" in {r.code for r in layout.diagnostics}
    quiet, bag2 = compile_model(_pinned(immutable=True))
    assert quiet is not None and not [d for d in bag2 if d.code == "mutable-table-key"]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_no_derived_table_key_holds_a_changeable_attribute(path: Path) -> None:
    with contextlib.chdir(path.parent):
        m = load_model(Path(path.name))
    layout, _bag = compile_model(m)
    if layout is None:
        pytest.skip("model does not compile")
    for el in layout.entities:
        key = el.key("table")
        e = m.entity(el.entity)
        if key is None or key.pinned or e is None:
            continue
        slots = [*templates.slots(key.pk), *templates.slots(key.sk or "")]
        assert all(m.stable(e, s) for s in slots), (el.entity, key)


def test_immutable_is_part_of_the_language(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "model: things\n"
        "entities:\n"
        "  Thing:\n"
        "    key: [id]\n"
        "    attributes:\n"
        "      id: string\n"
        "      made_at: {type: datetime, immutable: true}\n"
        "      name: string\n"
        "access_patterns:\n"
        "  things_since:\n"
        "    entity: Thing\n"
        '    where: {id: "=", made_at: ">="}\n',
        encoding="utf-8",
    )
    m = load_model(path)
    thing = m.entity("Thing")
    assert thing is not None
    assert m.stable(thing, "made_at") and not m.stable(thing, "name") and m.stable(thing, "id")


def _payments(*extra: ir.AccessPattern) -> ir.Model:
    """A Payment keyed under its account (a parent link), read by account; `extra` patterns."""
    return model(
        "ledger",
        [
            entity("Account", ["account_id"], {"account_id": "integer"}),
            entity(
                "Payment",
                ["payment_id"],
                {
                    "payment_id": "uuid",
                    "account_id": {"type": "integer", "references": "Account"},
                    "amount": "decimal",
                },
                parent="Account",
            ),
        ],
        [pattern("payments_of_account", "Payment", {"account_id": "="}), *extra],
    )


def test_a_table_key_beyond_the_identity_is_said_plainly_unless_a_pattern_finds_it() -> None:
    layout, bag = compile_model(_payments())
    assert layout is not None, [d.format() for d in bag.errors]
    assert checks.table_key_beyond_identity(layout, _payments(), "Payment") == ("account_id",)
    said = [d for d in bag if d.code == "identity-needs-key-attributes"]
    assert [(d.subject, d.severity.value) for d in said] == [("Payment", "info")]
    assert "needs account_id besides its identity (payment_id)" in said[0].message
    assert 'payment_id: "="' in (said[0].hint or "")
    # a pattern reading Payment by its identity alone is the lookup: nothing to say
    by_id = pattern("payment_by_id", "Payment", {"payment_id": "="}, unique=True)
    m = _payments(by_id)
    layout, bag = compile_model(m)
    assert layout is not None
    assert checks.identity_lookup(m, "Payment") == by_id
    assert not [d for d in bag if d.code == "identity-needs-key-attributes"]
    # a pattern that also filters, or binds more than the identity, is no lookup
    filtered = pattern("paid", "Payment", {"payment_id": "="}, filter={"amount": ">"})
    wider = pattern("p2", "Payment", {"payment_id": "=", "account_id": "="})
    assert checks.identity_lookup(_payments(filtered, wider), "Payment") is None
