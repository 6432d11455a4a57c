"""core.ir: rules the IR itself owns (one definition each, used by spec, sample and emit)."""

from __future__ import annotations

import dataclasses

import pytest

from modeling.api import check_text
from modeling.core import ir


def test_condition_parameter_names() -> None:
    assert ir.Condition("placed_at", "between").param_names == ("placed_at_from", "placed_at_to")
    assert ir.Condition("status", "=").param_names == ("status",)
    assert ir.Condition("status", "=", ("s",)).param_names == ("s",)
    assert ir.Condition("status", "=", literals=("active",)).param_names == ()


def test_the_loader_names_parameters_by_the_same_rule() -> None:
    text = (
        "model: shop\nentities:\n  Order:\n    key: [order_id]\n    attributes:\n"
        "      order_id: string\n      customer_id: string\n      placed_at: datetime\n"
        "access_patterns:\n  in_period:\n    entity: Order\n"
        "    where: {customer_id: '=', placed_at: between}\n"
        "  in_period_sql:\n    sql: >-\n"
        "      SELECT * FROM orders WHERE customer_id = :c\n"
        "      AND placed_at >= :p AND placed_at <= :p\n"
    )
    result = check_text(text, "shop.yaml")
    assert result.model is not None, [d.format() for d in result.diagnostics]
    for name in ("in_period", "in_period_sql"):
        pattern = next(p for p in result.model.patterns if p.name == name)
        between = next(c for c in pattern.where if c.op == "between")
        assert between.params == ir.default_params("placed_at", "between"), name


def _attr(name: str, kind: str) -> ir.Attribute:
    return ir.Attribute(name, ir.TypeRef.parse(kind))


def test_attribute_and_key_lookups_follow_the_object_they_are_asked_on() -> None:
    """`Entity.attribute` and `EntityLayout.key` look names up in a map built on first use:
    a copy with other attributes or keys (`dataclasses.replace`) answers from its own, and
    of two equal names the first wins, as the scan it replaced did."""
    entity = ir.Entity("Job", "job", ("id",), (_attr("id", "string"), _attr("at", "date")))
    assert entity.attribute("at") is entity.attributes[1] and entity.attribute("x") is None
    other = dataclasses.replace(entity, attributes=(_attr("id", "integer"), _attr("x", "uuid")))
    assert other.attribute("at") is None and other.attribute("x") is other.attributes[1]
    assert entity.attribute("at") is entity.attributes[1]  # the first keeps its own
    twice = dataclasses.replace(entity, attributes=(_attr("id", "string"), _attr("id", "date")))
    assert twice.attribute("id") is twice.attributes[0]
    assert entity == dataclasses.replace(entity)  # the map is no field: equality unchanged

    table, gsi = ir.EntityKey("table", "JOB#{id}", "A"), ir.EntityKey("gsi1", "S#{at}", "{id}")
    el = ir.EntityLayout("Job", "Job", (table, gsi))
    assert el.key("gsi1") is gsi and el.key("gsi2") is None
    moved = dataclasses.replace(el, keys=(table, ir.EntityKey("gsi1", "T#{at}", "{id}")))
    assert moved.key("gsi1").pk == "T#{at}" and el.key("gsi1") is gsi  # type: ignore[union-attr]
    dup = ir.EntityLayout("Job", "Job", (gsi, ir.EntityKey("gsi1", "other")))
    assert dup.key("gsi1") is gsi


def test_typeref_parse_remembers_answers_but_never_an_error() -> None:
    """parse caches by text (issue 18 item 5: thousands of attributes name a few types)."""
    first = ir.TypeRef.parse("list<set<string>>")
    assert first == ir.TypeRef("list", ir.TypeRef("set", ir.TypeRef("string")))
    assert ir.TypeRef.parse("list<set<string>>") == first
    for _ in range(2):
        with pytest.raises(ValueError, match="not a DynamoDB set"):
            ir.TypeRef.parse("set<map>")
