"""On classic published single-table designs, we need no more GSIs than the hand-made one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modeling.compile import compile_model
from modeling.core import ir

from .designs import DESIGNS


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_no_more_gsis_than_published(name: str) -> None:
    make: Callable[[], tuple[ir.Model, int]] = DESIGNS[name]
    m, published = make()
    layout, diagnostics = compile_model(m)
    assert layout is not None, [d.format() for d in diagnostics.errors]
    assert len(layout.gsis) <= published
    assert {p.pattern for p in layout.plans} == {p.name for p in m.patterns}


def test_ecommerce_matches_debrie_shape() -> None:
    m, _ = DESIGNS["ecommerce"]()
    layout, _d = compile_model(m)
    assert layout is not None
    plans = {p.pattern: p for p in layout.plans}
    assert plans["customer_with_orders"].index == "table"
    assert plans["order_with_items"].index == plans["get_order"].index == "GSI1"
    assert plans["get_customer"].operation == "GetItem"
