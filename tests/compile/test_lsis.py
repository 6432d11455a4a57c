"""LSIs derived where they save a GSI (issue 16, item 3).

A pattern that binds the table's partition key but needs another sort order used to cost a GSI
whose partition key repeats the table's. `compile.lsis` serves it with a local secondary index
when that saves a GSI and the item-collection estimate stays under the budget; otherwise the
GSI stays and a diagnostic says why. The fixture model is verified on DynamoDB Local here and
runs through the generated client in tests/emit/test_client.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint

from modeling import cost
from modeling.api import load_model, table_requests
from modeling.compile import compile_model
from modeling.core import ir, limits
from modeling.emit import emit
from modeling.migrate.table import differences
from modeling.sample.generate import SampleOptions
from modeling.verify.runner import VerifyOptions, verify

from .builder import entity, model, pattern

FIXTURE = Path(__file__).parents[1] / "fixtures" / "models" / "lsi_orders.yaml"
MOVED = (
    "orders_of_customer_newest_first",
    "orders_of_customer_from_total",
    "orders_of_customer_shipped_since",
)


def _compiled(m: ir.Model) -> ir.Layout:
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    return layout


def _counts(m: ir.Model, **rows: int | None) -> ir.Model:
    return replace(
        m,
        entities=tuple(
            replace(e, row_count=rows[e.name]) if e.name in rows else e for e in m.entities
        ),
    )


def _codes(layout: ir.Layout) -> list[str]:
    return [d.code for d in layout.diagnostics if d.code.startswith("lsi-")]


def test_lsis_replace_the_gsis_of_patterns_on_the_table_partition() -> None:
    m = load_model(FIXTURE)
    gsis_only = _compiled(replace(m, layout=ir.LayoutOptions(lsi="never")))
    # without LSIs every other sort order costs a GSI that repeats the table's partition key
    assert len(gsis_only.gsis) == 3 and not gsis_only.lsis
    assert {p.pattern for p in gsis_only.plans if p.index != "table"} == set(MOVED)

    layout = _compiled(m)
    assert not layout.gsis and [i.name for i in layout.lsis] == ["LSI1", "LSI2", "LSI3"]
    order = layout.entity("Order")
    assert order is not None and order.key("table") is not None
    for name in MOVED:
        plan = layout.plan(name)
        assert plan is not None
        index = layout.index(plan.index)
        assert index is not None and index.kind == "lsi" and index.pk.name == "PK"
        key = order.key(plan.index)
        assert key is not None and key.pk == order.key("table").pk  # type: ignore[union-attr]
    # the plans the LSIs do not concern are the same
    for name in ("get_customer", "orders_of_customer"):
        assert layout.plan(name) == gsis_only.plan(name)
    assert _codes(layout) == ["lsi-derived"] * 3
    assert all("save 3 GSI(s)" in d.message for d in layout.diagnostics if d.code == "lsi-derived")
    # the optional shipped_at leaves unshipped orders off their LSI (a sparse index)
    shipped = order.key(layout.plan(MOVED[2]).index)  # type: ignore[union-attr]
    assert shipped is not None and shipped.sparse_on == ("shipped_at",)


def _collection_bytes(layout: ir.Layout, m: ir.Model, orders_per_customer: float) -> float:
    """One customer's item collection as DynamoDB counts it: every item of the partition (the
    customer and its orders, with storage overhead) plus each order's entry in every LSI."""
    customer, order = m.entity("Customer"), m.entity("Order")
    assert customer is not None and order is not None
    per_order = cost.item_bytes(layout, order) + cost.ITEM_OVERHEAD
    per_order += sum(
        cost.projected_bytes(layout, i, order) + cost.ITEM_OVERHEAD for i in layout.lsis
    )
    return cost.item_bytes(layout, customer) + cost.ITEM_OVERHEAD + orders_per_customer * per_order


def test_the_item_collection_budget_decides_lsi_or_gsi() -> None:
    m = load_model(FIXTURE)
    layout = _compiled(m)
    at_budget = 1.0
    while _collection_bytes(layout, m, at_budget * 2) <= limits.LSI_COLLECTION_BUDGET:
        at_budget *= 2
    lo, hi = at_budget, at_budget * 2  # bisect the orders per customer that fill the budget
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (
            (mid, hi)
            if _collection_bytes(layout, m, mid) <= limits.LSI_COLLECTION_BUDGET
            else (lo, mid)
        )
    customers = 1000
    under = _compiled(_counts(m, Customer=customers, Order=int(customers * lo * 0.97)))
    assert len(under.lsis) == 3 and not under.gsis
    over = _compiled(_counts(m, Customer=customers, Order=int(customers * lo * 1.03)))
    assert not over.lsis and len(over.gsis) == 3
    assert _codes(over) == ["lsi-kept-gsi"] * 3
    note = next(d for d in over.diagnostics if d.code == "lsi-kept-gsi")
    assert "over the 1 GB an LSI is derived for" in note.message
    assert "CUSTOMER#{customer_id}" in note.message and note.hint and "nothing to do" in note.hint
    # the budget leaves room for skew: the collection it refuses is far below DynamoDB's limit
    assert limits.LSI_COLLECTION_BUDGET * 10 == limits.ITEM_COLLECTION_BYTES


def test_an_unknown_collection_size_keeps_the_gsi() -> None:
    layout = _compiled(_counts(load_model(FIXTURE), Customer=None, Order=None))
    assert not layout.lsis and len(layout.gsis) == 3
    notes = [d for d in layout.diagnostics if d.code == "lsi-kept-gsi"]
    assert {d.subject for d in notes} == set(MOVED)
    assert all("cannot be estimated" in d.message and "row_count" in (d.hint or "") for d in notes)


def test_an_existing_table_gets_no_lsi_and_says_where_one_would_help() -> None:
    m = load_model(FIXTURE)
    layout = _compiled(replace(m, table=replace(m.table, exists=True)))
    assert not layout.lsis and len(layout.gsis) == 3
    notes = [d for d in layout.diagnostics if d.code == "lsi-needs-new-table"]
    assert {d.subject for d in notes} == set(MOVED)
    assert all("only be created with its table" in d.message for d in notes)


def test_lsi_never_keeps_the_gsis_silently() -> None:
    layout = _compiled(replace(load_model(FIXTURE), layout=ir.LayoutOptions(lsi="never")))
    assert not layout.lsis and not _codes(layout)


def _sort_orders(n: int, pinned_lsi: bool = False) -> ir.Model:
    attrs: dict[str, Any] = {"id": "string", "owner": {"type": "string", "references": "Owner"}}
    attrs |= {f"a{i}": "integer" for i in range(1, n + 1)}
    keys = {"lsi1": {"pk": "OWNER#{owner}", "sk": "ITEM#{a1}"}} if pinned_lsi else None
    item = replace(entity("Item", ["id"], attrs, parent="Owner", keys=keys), row_count=1000)
    owner = replace(entity("Owner", ["owner"], {"owner": "string"}), row_count=100)
    patterns = [pattern("items_of_owner", "Item", {"owner": "=", "id": ">="})]
    patterns += [
        pattern(f"by_a{i}", "Item", {"owner": "=", f"a{i}": ">="}) for i in range(1, n + 1)
    ]
    return model("orders7", [owner, item], patterns)


def test_at_most_five_lsis_the_rest_stay_gsis() -> None:
    layout = _compiled(_sort_orders(7))
    assert len(layout.lsis) == limits.MAX_LSIS and len(layout.gsis) == 2
    pinned = _compiled(_sort_orders(7, pinned_lsi=True))
    assert len(pinned.lsis) == limits.MAX_LSIS and len(pinned.gsis) == 2
    item = pinned.entity("Item")
    assert item is not None and item.key("LSI1") is not None and item.key("LSI1").pinned  # type: ignore[union-attr]


def test_an_lsi_that_saves_no_gsi_is_not_derived() -> None:
    """Order's sort order shares GSI1 with Product's (another partition): moving Order's to an
    LSI leaves GSI1 in place, so the layout stays as it was."""
    m = load_model(FIXTURE)
    product = replace(
        entity("Product", ["sku"], {"sku": "string", "brand": "string", "price": "decimal"}),
        row_count=10,
    )
    patterns = [p for p in m.patterns if p.name in ("get_customer", "orders_of_customer")]
    patterns.append(next(p for p in m.patterns if p.name == MOVED[1]))
    patterns.append(pattern("products_of_brand", "Product", {"brand": "=", "price": ">="}))
    mixed = replace(m, entities=(*m.entities, product), patterns=tuple(patterns))
    layout = _compiled(mixed)
    assert not layout.lsis and [i.name for i in layout.gsis] == ["GSI1"]
    assert {p.index for p in layout.plans if p.entities != ("Customer",)} >= {"GSI1"}
    assert not _codes(layout)


def test_the_lsis_flow_through_every_artifact() -> None:
    m = load_model(FIXTURE)
    layout = _compiled(m)
    files = emit(layout, m)
    errors = [
        str(x)
        for x in lint(files["table.yaml"], config=ManualArgs(regions=["us-east-1"]))
        if x.rule.severity == "error"
    ]
    assert errors == []
    create, _post = table_requests(layout, m)
    assert (
        json.loads(files["create-table.json"])["LocalSecondaryIndexes"]
        == create["LocalSecondaryIndexes"]
    )
    lsis = {i["IndexName"]: i for i in create["LocalSecondaryIndexes"]}
    assert sorted(lsis) == ["LSI1", "LSI2", "LSI3"] and "GlobalSecondaryIndexes" not in create
    for name, index in lsis.items():
        assert index["KeySchema"] == [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ]
    schema = json.loads(files["workbench.json"])["DataModel"][0]["ModelSchema"]
    for name in lsis:
        assert schema["indexes"][name] == {
            "hash": "PK",
            "sort": f"{name}SK",
            "projection": "ALL",
            "local": True,
        }
    client = files["client.py"]
    for name in MOVED:
        plan = layout.plan(name)
        assert plan is not None and f'"IndexName": "{plan.index}"' in client
    assert all(f'"{i}SK"' in files["transformers.py"] for i in lsis)
    assert "exist only from table creation" in files["layout.md"]


def test_derived_lsis_verify_on_dynamodb_local(dynamodb_local: Any) -> None:
    m = load_model(FIXTURE)
    layout = _compiled(m)
    options = VerifyOptions(
        trials=8, sample=SampleOptions(roots=5, fanout=6, hot_partition_bytes=0)
    )
    report = verify(m, layout, dynamodb_local.client(), options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    by_name = {p.pattern: p for p in report.patterns}
    for name in MOVED:
        assert by_name[name].non_empty > 0, name
        plan = layout.plan(name)
        assert plan is not None and plan.index.startswith("LSI")


def test_provisioned_capacity_of_an_lsi_is_the_tables() -> None:
    """An LSI has no provisioned throughput of its own: its writes use the table's units, so
    `model cost` sizes the table for both and gives the LSIs none (before: 1 RCU / 1 WCU each
    at least, and their writes on top)."""
    m = load_model(FIXTURE)
    m = replace(
        m,
        entities=tuple(replace(e, writes_per_second=40.0) for e in m.entities),
        patterns=tuple(replace(p, rate=ir.Rate(reads_per_second=20.0)) for p in m.patterns),
    )
    layout = _compiled(m)
    report = cost.estimate(m, layout, cost.Prices.load("us-east-1"))
    rows = {c.index: c for c in report.indexes}
    assert {rows[i.name].provisioned_wcu for i in layout.lsis} == {0}
    assert {rows[i.name].provisioned_rcu for i in layout.lsis} == {0}
    wcu = sum(c.write_units_per_second for c in report.indexes)
    rcu = sum(c.read_units_per_second or 0.0 for c in report.indexes)
    assert rows["table"].provisioned_wcu == math.ceil(wcu / 0.7 - 1e-9)
    assert rows["table"].provisioned_rcu == math.ceil(rcu / 0.7 - 1e-9)
    assert any(rows[i.name].write_units_per_second > 0 for i in layout.lsis)


def test_a_live_table_without_the_lsi_is_told_how_to_get_one() -> None:
    m = load_model(FIXTURE)
    create, _post = table_requests(_compiled(m), m)
    live = {**create, "LocalSecondaryIndexes": create["LocalSecondaryIndexes"][1:]}
    (found,) = differences(create, live)
    assert found.startswith("LSI LSI1 (PK HASH, LSI1SK RANGE) is missing")
    assert "only be created with its table" in found and "exists: true" in found
