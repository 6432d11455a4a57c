"""Key conditions as DynamoDB checks them (issue 13, item 3).

A pinned sort key that starts with a slot, read with only the partition key bound, used to be
planned as `begins_with(SK, "")` and called exact; DynamoDB rejects an empty key value. The
planner now makes that a partition-only Query; conditions no plan can make valid are an
`invalid-key-condition` error at the pattern.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.key_conditions import check_key_conditions
from modeling.core import ir
from modeling.core.diagnostics import Severity
from modeling.core.key_parts import always_empty, key_parts
from modeling.requests import Param, PlanError, build_request, key_condition, key_shape, render_key
from modeling.runtime import keys
from modeling.sample.codec import attribute_av, from_item, to_item
from modeling.verify.dynamo import create_table

from .builder import entity, model, pattern
from .designs import DESIGNS
from .test_properties import OPS, POOLS, _key, _satisfies, _sk_ok, rows

REPO = Path(__file__).resolve().parents[2]
POOL_TYPES = sorted(POOLS)

CART = {"ItemSKU": "string", "Status": "string", "Date": "datetime", "CustomerID": "string"}
CART_KEYS = {
    "table": {"pk": "{CustomerID}", "sk": "{Status}#{Date}"},
    "gsi1": {"pk": "{ItemSKU}", "sk": "{Status}#{Date}"},
}


def _compile(m: ir.Model) -> ir.Layout:
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    return layout


def _cart(*patterns: ir.AccessPattern, other: ir.Entity | None = None) -> ir.Model:
    cart = entity("Cart", ["CustomerID", "Status", "Date"], CART, keys=CART_KEYS)
    return model("cart", [cart, *([other] if other else [])], list(patterns))


def test_partition_only_read_of_a_slot_first_sort_key_is_a_partition_only_query() -> None:
    layout = _compile(_cart(pattern("by_sku", "Cart", {"ItemSKU": "="})))
    plan = layout.plan("by_sku")
    assert plan is not None and plan.index == "GSI1"
    assert plan.sk == ir.SortKeyCondition()  # was begins_with(GSI1SK, "")
    assert plan.type_filter == ()  # only Cart lives in GSI1: nothing to drop
    index = layout.index("GSI1")
    assert key_condition(plan, index) == "GSI1PK = <:ItemSKU>"
    request = build_request(
        _cart(), layout, plan, {"ItemSKU": "d9bl3"}, "CartTable", lambda *a: attribute_av(*a)
    )
    assert request["KeyConditionExpression"] == "#pk = :pk"
    assert any("no sort-key condition" in line for line in plan.proof)


def test_partition_shared_with_another_type_keeps_the_type_filter() -> None:
    """The same read when another entity's key can fall in the partition: still one Query
    with no sort-key condition (begins_with on "" never excluded anything), and the client
    keeps Cart items by type, as it did."""
    wish = entity(
        "Wish",
        ["ItemSKU", "Who"],
        {"ItemSKU": "string", "Who": "string"},
        keys={
            "table": {"pk": "WISH#{ItemSKU}", "sk": "W#{Who}"},
            "gsi1": {"pk": "{ItemSKU}", "sk": "#W#{Who}"},
        },
    )
    layout = _compile(_cart(pattern("by_sku", "Cart", {"ItemSKU": "="}), other=wish))
    plan = layout.plan("by_sku")
    assert plan is not None and plan.index == "GSI1"
    assert plan.sk.kind == "none" and plan.type_filter == ("Cart",)


def test_open_range_on_a_slot_first_sort_key_has_no_upper_bound() -> None:
    """`Date >= :since` under `{Date}#...` with nothing bound before it: the old plan's upper
    bound was after(""), which has no value (PlanError at request time)."""
    m = model(
        "ev",
        [
            entity(
                "Event",
                ["room", "at", "id"],
                {"room": "string", "at": "datetime", "id": "string"},
                keys={"table": {"pk": "ROOM#{room}", "sk": "{at}#{id}"}},
            )
        ],
        [pattern("since", "Event", {"room": "=", "at": ">="})],
    )
    layout = _compile(m)
    plan = layout.plan("since")
    assert plan is not None and plan.sk.kind == "ge"
    assert [v.mode for v in plan.sk.values] == ["open"]
    old = ir.KeyValue("{at}#{id}", (), "after")
    assert always_empty(old)
    with pytest.raises(PlanError):
        render_key(old, {})
    before = replace(
        layout, plans=(replace(plan, sk=ir.SortKeyCondition("between", (plan.sk.values[0], old))),)
    )
    diags = list(check_key_conditions(before, m))
    assert [d.code for d in diags] == ["invalid-key-condition"]
    assert diags[0].hint is not None and "upper bound" in diags[0].hint


BAD = REPO / "tests/fixtures/models/bad_compile"


@pytest.mark.parametrize("case", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_conditions_no_plan_can_fix_are_located_errors(case: Path) -> None:
    """The compile-time malformed-model corpus: each `bad_compile/<case>.yaml` loads, fails to
    compile, and prints exactly `<case>.expected` (errors only, file path stripped); regenerate
    with UPDATE_EXPECTED=1 and review the diff."""
    layout, bag = compile_model(load_model(case))
    assert layout is None
    lines = []
    for d in bag.sorted():
        if d.severity is Severity.ERROR:
            lines.append(d.format().removeprefix(f"{case}:"))
    actual = "\n".join(lines) + "\n"
    expected = case.with_suffix(".expected")
    if os.environ.get("UPDATE_EXPECTED"):
        expected.write_text(actual)
    assert actual == expected.read_text()
    # a case named after its code (key_not_identity) shows that code
    code = case.stem.replace("_", "-")
    assert "[invalid-key-condition]" in actual or f"[{code}]" in actual


def _layout_with(plan: ir.PatternPlan, index: ir.Index) -> ir.Layout:
    return ir.Layout("m", "T", (index,), (), (plan,))


def _m() -> ir.Model:
    return model(
        "m", [entity("A", ["n"], {"n": "integer", "s": "string"})], [pattern("p", "A", {"n": "="})]
    )


def _codes(plan: ir.PatternPlan, index: ir.Index) -> list[str]:
    return [d.code for d in check_key_conditions(_layout_with(plan, index), _m())]


N_INDEX = ir.Index("table", "table", ir.KeyAttribute("PK", "N"), ir.KeyAttribute("SK", "N"))
N_BIND = ir.SlotBinding("n", "n", "integer")


NO_SK = ir.SortKeyCondition()


def _plan(pk: ir.KeyValue, sk: ir.SortKeyCondition = NO_SK) -> ir.PatternPlan:
    return ir.PatternPlan("p", ("A",), "table", "Query", pk, sk)


def test_number_keys_take_one_bound_number_slot() -> None:
    good = ir.KeyValue("{n}", (N_BIND,))
    assert _codes(_plan(good, ir.SortKeyCondition("ge", (good,))), N_INDEX) == []
    text = ir.KeyValue("A#{n}", (N_BIND,))
    assert _codes(_plan(text), N_INDEX) == ["invalid-key-condition"]
    string = ir.KeyValue("{s}", (ir.SlotBinding("s", "s", "string"),))
    assert _codes(_plan(string), N_INDEX) == ["invalid-key-condition"]
    successor = ir.KeyValue("{n}", (N_BIND,), "after")
    assert _codes(_plan(good, ir.SortKeyCondition("lt", (successor,))), N_INDEX) == [
        "invalid-key-condition"
    ]


def test_begins_with_on_a_number_sort_key_and_a_condition_without_sort_key() -> None:
    good = ir.KeyValue("{n}", (N_BIND,))
    assert _codes(_plan(good, ir.SortKeyCondition("begins_with", (good,))), N_INDEX) == [
        "invalid-key-condition"
    ]
    s_only = ir.Index("table", "table", ir.KeyAttribute("PK"), None)
    pk = ir.KeyValue("A#{n}", (N_BIND,))
    assert _codes(_plan(pk, ir.SortKeyCondition("eq", (pk,))), s_only) == ["invalid-key-condition"]
    binary = ir.Index("table", "table", ir.KeyAttribute("PK", "B"), None)
    blob = ir.KeyValue("{b}", (ir.SlotBinding("b", "b", "binary"),))
    assert _codes(_plan(blob), binary) == []
    assert _codes(_plan(good), binary) == ["invalid-key-condition"]


def test_the_old_empty_prefix_plan_is_an_error() -> None:
    """The plan the compiler used to make is rejected by the check (it fails on the old plan)."""
    layout = _compile(_cart(pattern("by_sku", "Cart", {"ItemSKU": "="})))
    plan = layout.plan("by_sku")
    assert plan is not None
    old = replace(
        plan, sk=ir.SortKeyCondition("begins_with", (ir.KeyValue("{Status}#{Date}", (), "prefix"),))
    )
    broken = replace(layout, plans=(old,))
    diags = list(check_key_conditions(broken, _cart(pattern("by_sku", "Cart", {"ItemSKU": "="}))))
    assert [d.code for d in diags] == ["invalid-key-condition"]
    assert diags[0].hint is not None and "partition-only Query" in diags[0].hint


def _every_layout() -> list[tuple[str, ir.Model, ir.Layout]]:
    out = []
    for path in sorted((REPO / "models").glob("*.yaml")):
        m = load_model(path)
        out.append((path.stem, m, _compile(m)))
    for name, build in sorted(DESIGNS.items()):
        m, _gsis = build()
        out.append((name, m, _compile(m)))
    return out


def test_key_shape_and_key_parts_agree_on_every_plan() -> None:
    """requests.key_shape (what a request sends) is built on core.key_parts (what the check
    reads): same parts, same `after`, on every key value of the example models and designs;
    none of them is always empty."""
    seen = 0
    for name, _m, layout in _every_layout():
        for plan in layout.plans:
            for kv in (plan.pk, *plan.sk.values):
                parts, shape = key_parts(kv), key_shape(kv)
                assert shape.after == parts.after, (name, plan.pattern)
                assert len(shape.parts) == len(parts.parts), (name, plan.pattern)
                for a, b in zip(parts.parts, shape.parts, strict=True):
                    if isinstance(a, keys.Text):
                        assert b == a.text
                    elif isinstance(b, Param):
                        assert b.slot == a.attribute
                    else:  # a slot fixed to a literal: its encoded text
                        assert isinstance(b, str) and b != ""
                assert not always_empty(kv), (name, plan.pattern)
                seen += 1
    assert seen > 40


def test_like_everything_on_a_slot_only_sort_key_is_a_partition_only_query() -> None:
    """`title LIKE '%'` under the pinned sort key `{title}`: begins_with(SK, "") would be
    rejected; it holds for every item of the partition, so the plan has no sort-key condition."""
    m = load_model(REPO / "tests/fixtures/models/key_conditions/like_everything.yaml")
    plan = _compile(m).plan("any_title")
    assert plan is not None and plan.sk == ir.SortKeyCondition() and plan.type_filter == ()


def test_dynamodb_local_rejects_the_old_request_and_serves_the_new_one(dynamodb_local: Any) -> None:
    """On DynamoDB Local: the formerly planned `begins_with(GSI1SK, "")` is a
    ValidationException; the partition-only Query returns exactly the carts of the SKU."""
    m = _cart(pattern("by_sku", "Cart", {"ItemSKU": "="}))
    layout = _compile(m)
    plan = layout.plan("by_sku")
    assert plan is not None
    cart = m.entity("Cart")
    assert cart is not None
    client = dynamodb_local.client()
    table = "KeyConditionsCart"
    create_table(client, layout, table)
    when = datetime(2019, 11, 26, 22, 46, 26, tzinfo=UTC)
    rows = [
        {"CustomerID": c, "Status": s, "Date": when + timedelta(days=d), "ItemSKU": sku}
        for d, (c, s, sku) in enumerate(
            [("Liz", "Active", "d9bl3"), ("Chad", "Saved", "d9bl3"), ("Sue", "Active", "72f49")]
        )
    ]
    for row in rows:
        client.put_item(TableName=table, Item=to_item(m, layout, cart, row))
    old = replace(
        plan,
        sk=ir.SortKeyCondition("begins_with", (ir.KeyValue("{Status}#{Date}", (), "prefix"),)),
    )
    params = {"ItemSKU": "d9bl3"}
    old_request = build_request(m, layout, old, params, table, attribute_av)
    assert old_request["ExpressionAttributeValues"][":sk0"] == {"S": ""}
    with pytest.raises(ClientError) as rejected:
        client.query(**old_request)
    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    got = client.query(**build_request(m, layout, plan, params, table, attribute_av))["Items"]
    assert sorted(from_item(m, layout, item)[1]["CustomerID"] for item in got) == ["Chad", "Liz"]


# --------------------------------------------------------------------------- property


@st.composite
def slot_first_models(draw: st.DrawFn) -> ir.Model:
    """An entity E whose pinned sort key starts with a slot (`{a}#{b}`), maybe a second entity
    F in the same partitions (`F#{c}`), and patterns that bind the partition and a leading run
    of the sort-key slots, with or without a range on the next one."""
    ta, tb = draw(st.sampled_from(POOL_TYPES)), draw(st.sampled_from(POOL_TYPES))
    entities = [
        entity(
            "E",
            ["p", "a", "b"],
            {"p": "string", "a": ta, "b": tb},
            keys={"table": {"pk": "P#{p}", "sk": "{a}#{b}"}},
        )
    ]
    if draw(st.booleans()):
        entities.append(
            entity(
                "F",
                ["p", "c"],
                {"p": "string", "c": "string"},
                keys={"table": {"pk": "P#{p}", "sk": "F#{c}"}},
            )
        )
    patterns = []
    for n in range(draw(st.integers(1, 4))):
        bound = draw(st.integers(0, 2))
        where = {"p": "=", **dict.fromkeys(["a", "b"][:bound], "=")}
        if bound < 2 and draw(st.booleans()):
            slot, kind = ("a", ta) if bound == 0 else ("b", tb)
            ops = [o for o in OPS if o != "=" and (o != "begins_with" or kind == "string")]
            where[slot] = draw(st.sampled_from(ops))
        patterns.append(pattern(f"q{n}", "E", where, order=draw(st.sampled_from(["asc", "desc"]))))
    return model("slotfirst", entities, patterns)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_slot_first_sort_keys_plan_valid_and_exact_conditions(data: st.DataObject) -> None:
    """Every plan over a slot-first pinned sort key sends only non-empty key values (for
    non-empty parameters) and returns exactly the rows its `where` selects."""
    m = data.draw(slot_first_models())
    layout, bag = compile_model(m)
    if layout is None:  # F's `F#{c}` can equal E's `{a}#{b}` when a is a string
        assert [d.code for d in bag.errors] == ["key-collision"]
        return
    dataset = data.draw(rows(m))
    stored = []
    for el in layout.entities:
        e = m.entity(el.entity)
        assert e is not None
        for row in dataset[el.entity]:
            k = el.key("table")
            assert k is not None
            stored.append((el.entity, row, _key(k.pk, e, row), _key(k.sk, e, row)))
    for plan in layout.plans:
        pat = m.pattern(plan.pattern)
        e = m.entity("E")
        assert pat is not None and e is not None
        params: dict[str, Any] = {}
        for c in pat.where:
            kind = e.attribute(c.attribute).type.kind  # type: ignore[union-attr]
            for p in c.params:
                params[p] = data.draw(st.sampled_from(POOLS[kind]))
        prefix = pat.range.attribute if pat.range and pat.range.op == "begins_with" else None
        for kv in (plan.pk, *plan.sk.values):
            assert render_key(kv, params, prefix) != "", plan
        pk = render_key(plan.pk, params)
        got = sorted(
            repr(row)
            for name, row, ipk, isk in stored
            if ipk == pk
            and _sk_ok(plan, pat, isk, params)
            and (not plan.type_filter or name in plan.type_filter)
            and all(
                _satisfies(ir.Condition(f.attribute, f.op, f.params), row.get(f.attribute), params)
                for f in plan.filters
            )
        )
        expected = sorted(
            repr(r)
            for r in dataset["E"]
            if all(_satisfies(c, r.get(c.attribute), params) for c in pat.where)
        )
        assert got == expected, plan
