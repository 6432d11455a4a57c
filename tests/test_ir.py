"""core.ir: rules the IR itself owns (one definition each, used by spec, sample and emit)."""

from __future__ import annotations

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
