"""An entity's `writes_per_second` (from `model init --queries`, issue 14 item 6) feeds the
capacity and hot-partition checks: each write also writes every GSI the item is keyed on."""

from __future__ import annotations

import pytest

from modeling.api import check_text
from modeling.compile import compile_model

MODEL = """
model: rates
table:
  billing: {billing}
entities:
  Order:
    key: [order_id]
    writes_per_second: {writes}
    attributes:
      order_id: string
      paid: boolean
access_patterns:
  get_order: {{entity: Order, where: {{order_id: "="}}, unique: true}}
  orders_by_paid: {{entity: Order, where: {{paid: "="}}}}
"""


def _diags(billing: str, writes: float) -> list[tuple[str, str]]:
    result = check_text(MODEL.format(billing=billing, writes=writes), "rates.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    _, diags = compile_model(result.model)
    return [(d.code, d.message) for d in diags.items]


@pytest.mark.parametrize(
    ("billing", "writes", "below"),
    [
        ("{provisioned: {read: 5, write: 10}}", 8, 0),
        # 20 writes/s land on the table and on the GSI of orders_by_paid: both under capacity
        ("{provisioned: {read: 5, write: 10}}", 20, 2),
        ("on_demand", 20, 0),
    ],
)
def test_writes_against_provisioned_capacity(billing: str, writes: float, below: int) -> None:
    found = [m for c, m in _diags(billing, writes) if c == "capacity-below-rate"]
    assert len(found) == below, found
    if below:
        assert "20 writes/s on the table" in found[0] and "provisions 10 WCU" in found[0]


def test_writes_beyond_one_partition_on_a_boolean_key_are_sharded() -> None:
    """1,500 writes/s over a boolean key: 750 WCU/s per partition, over the 500 a partition
    may plan for (half of 1,000), so the compiler shards it 2 ways (issue 16) instead of
    warning; at 500 writes/s (250 per partition) the key stays as it is, with its warning."""
    diags = _diags("on_demand", 1500)
    assert not [m for c, m in diags if c == "hot-partition"], diags
    sharded = [m for c, m in diags if c == "sharded-partition"]
    assert sharded and "orders_by_paid" in sharded[0] and "N = 2" in sharded[0], diags
    calm = _diags("on_demand", 500)
    assert not [m for c, m in calm if c == "sharded-partition"]
    assert [m for c, m in calm if c == "hot-partition" and "paid is a boolean" in m]
