"""Hypothesis properties of the compiler on random small models.

- compiling never crashes, and no pattern is silently unserved (a plan, or an error naming it);
- keys of different entity types never collide on any index;
- every plan is exact: evaluating its key condition (rendered the way clients render it,
  compared as DynamoDB compares: UTF-8 bytes) over random items, then the plan's type filter,
  returns exactly the rows that satisfy the pattern's `where`, in range-attribute order.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeling.compile import compile_model
from modeling.core import ir
from modeling.requests import render_key as render
from modeling.runtime import keys

from .builder import entity, model, pattern

POOLS: dict[str, list[Any]] = {
    "string": ["a", "a#", "a$b", "ab", "b", "é", "a#b"],
    "integer": [-7, -1, 0, 3, 10**12],
    "date": [datetime.date(2020, 1, 1), datetime.date(2021, 6, 30), datetime.date(1999, 12, 31)],
}
TYPES = sorted(POOLS)
OPS = ["=", "<", "<=", ">", ">=", "between", "begins_with"]


@st.composite
def models(draw: st.DrawFn) -> ir.Model:
    n = draw(st.integers(1, 3))
    entities: list[ir.Entity] = []
    for i in range(n):
        name = f"E{i}"
        parent = entities[draw(st.integers(0, i - 1))] if i and draw(st.booleans()) else None
        attrs: dict[str, Any] = {}
        key: list[str] = []
        if parent is not None:
            for k in parent.key:
                attrs[k] = str(parent.attribute(k).type)  # type: ignore[union-attr]
                key.append(k)
        own = f"id{i}"
        attrs[own] = draw(st.sampled_from(TYPES))
        key.append(own)
        for j in range(draw(st.integers(1, 3))):
            optional = draw(st.booleans()) and draw(st.booleans())
            attrs[f"x{j}"] = {"type": draw(st.sampled_from(TYPES)), "required": not optional}
        entities.append(entity(name, key, attrs, parent=parent.name if parent else None))
    patterns: list[ir.AccessPattern] = []
    for p in range(draw(st.integers(1, 5))):
        e = draw(st.sampled_from(entities))
        children = [c for c in entities if c.parent == e.name]
        if children and draw(st.booleans()):
            child = draw(st.sampled_from(children))
            patterns.append(pattern(f"p{p}", [e.name, child.name], {k: "=" for k in e.key}))
            continue
        names = list(e.attribute_names)
        eq = draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
        where = dict.fromkeys(eq, "=")
        rest = [a for a in names if a not in eq]
        if rest and (not eq or draw(st.booleans())):  # range-only patterns: constant partitions
            attr = draw(st.sampled_from(rest))
            kind = e.attribute(attr).type.kind  # type: ignore[union-attr]
            op = draw(
                st.sampled_from(
                    [o for o in OPS if o != "=" and (o != "begins_with" or kind == "string")]
                )
            )
            where[attr] = op
        patterns.append(
            pattern(f"p{p}", e.name, where, order=draw(st.sampled_from(["asc", "desc"])))
        )
    return model("prop", entities, patterns)


@st.composite
def rows(draw: st.DrawFn, m: ir.Model) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in m.entities:
        seen: set[tuple[Any, ...]] = set()
        items = []
        for _ in range(draw(st.integers(0, 6))):
            row = {}
            for a in e.attributes:
                if not a.required and draw(st.booleans()):
                    row[a.name] = None
                else:
                    row[a.name] = draw(st.sampled_from(POOLS[a.type.kind]))
            ident = tuple(row[k] for k in e.key)
            if ident not in seen:
                seen.add(ident)
                items.append(row)
        out[e.name] = items
    return out


def _key(template: str | None, e: ir.Entity, row: dict[str, Any]) -> str | None:
    if template is None:
        return None
    t = keys.parse_template(template)
    values = {}
    for slot in t.slots:
        if row.get(slot) is None:
            return None  # sparse: no key on this index
        values[slot] = keys.encode(e.attribute(slot).type.kind, row[slot])  # type: ignore[union-attr]
    return t.render(values)


def _satisfies(cond: ir.Condition, value: Any, params: dict[str, Any]) -> bool:
    """Python's comparison of the row value with the parameter(s); values of different
    types never compare equal or ordered (as in DynamoDB: a filter on a type mismatch fails)."""
    if value is None:
        return False
    try:
        return _compare(cond, value, params)
    except TypeError:
        return False


def _compare(cond: ir.Condition, value: Any, params: dict[str, Any]) -> bool:
    p = [params[x] for x in cond.params]
    if cond.op == "=":
        return bool(value == p[0])
    if cond.op == "<":
        return bool(value < p[0])
    if cond.op == "<=":
        return bool(value <= p[0])
    if cond.op == ">":
        return bool(value > p[0])
    if cond.op == ">=":
        return bool(value >= p[0])
    if cond.op == "between":
        return bool(p[0] <= value <= p[1])
    return str(value).startswith(p[0])


def _sk_ok(
    plan: ir.PatternPlan, pattern_: ir.AccessPattern, sk: str | None, params: dict[str, Any]
) -> bool:
    if plan.sk.kind == "none":
        return True
    if sk is None:
        return False
    rng = pattern_.range
    prefix_of = rng.attribute if rng is not None and rng.op == "begins_with" else None
    v = [render(kv, params, prefix_of).encode() for kv in plan.sk.values]
    s = sk.encode()
    return {
        "eq": lambda: s == v[0],
        "begins_with": lambda: s.startswith(v[0]),
        "between": lambda: v[0] <= s <= v[1],
        "lt": lambda: s < v[0],
        "le": lambda: s <= v[0],
        "gt": lambda: s > v[0],
        "ge": lambda: s >= v[0],
    }[plan.sk.kind]()


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_compiler_is_total_collision_free_and_exact(data: st.DataObject) -> None:
    _check_exact(data, data.draw(models()))


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_layouts_with_derived_lsis_are_exact_too(data: st.DataObject) -> None:
    """With row counts the item collections can be estimated, so the compiler may serve
    patterns on the table's partition key with LSIs (issue 16, item 3): the same properties."""
    m = data.draw(models())
    counted = replace(m, entities=tuple(replace(e, row_count=1000) for e in m.entities))
    _check_exact(data, counted)


def _check_exact(data: st.DataObject, m: ir.Model) -> None:
    layout, bag = compile_model(m)
    refused = {d.subject for d in bag.errors}
    if layout is None:
        assert bag.errors
        return
    assert {p.pattern for p in layout.plans} == {p.name for p in m.patterns}
    dataset = data.draw(rows(m))

    # every item's keys, per index
    stored: list[tuple[str, dict[str, Any], dict[str, tuple[str, str | None]]]] = []
    for el in layout.entities:
        e = m.entity(el.entity)
        assert e is not None
        for row in dataset[el.entity]:
            placed = {}
            for k in el.keys:
                pk = _key(k.pk, e, row)
                if pk is not None:
                    placed[k.index] = (pk, _key(k.sk, e, row))
            assert "table" in placed
            stored.append((el.entity, row, placed))
    for index in layout.indexes:
        owners: dict[tuple[str, str | None], str] = {}
        for name, _row, placed in stored:
            if index.name in placed:
                other = owners.setdefault(placed[index.name], name)
                assert other == name or index.kind != "table" or False, "table keys collide"
                # index keys need not be unique (GSIs and LSIs), table keys must
                assert other == name or index.kind != "table", f"{other} and {name} collide"
                if index.kind == "table":
                    assert other == name
    table_keys = [placed["table"] for _n, _r, placed in stored]
    assert len(table_keys) == len(set(table_keys)), "two items share a table key"

    for plan in layout.plans:
        pat = m.pattern(plan.pattern)
        assert pat is not None and plan.pattern not in refused
        first = m.entity(plan.entities[0])
        assert first is not None
        params: dict[str, Any] = {}
        for c in pat.where:
            attr = first.attribute(c.attribute)
            assert attr is not None
            for p in c.params:
                params[p] = data.draw(st.sampled_from(POOLS[attr.type.kind]))
        pk = render(plan.pk, params)
        got = []
        for name, row, placed in stored:
            if plan.index not in placed:
                continue
            ipk, isk = placed[plan.index]
            kept = all(
                _satisfies(ir.Condition(f.attribute, f.op, f.params), row.get(f.attribute), params)
                for f in plan.filters
            )
            if (
                ipk == pk
                and _sk_ok(plan, pat, isk, params)
                and (not plan.type_filter or name in plan.type_filter)
                and kept
            ):
                got.append((name, row, isk))
        assert all(n in plan.entities for n, _r, _s in got), f"{plan.pattern}: other types leak in"
        expected = sorted(
            (n, repr(r))
            for n in plan.entities
            for r in dataset[n]
            if all(_satisfies(c, r.get(c.attribute), params) for c in pat.where)
        )
        assert sorted((n, repr(r)) for n, r, _s in got) == expected, plan.pattern
        rng = pat.range
        if rng is not None and len(plan.entities) == 1:
            ordered = [
                r[rng.attribute] for _n, r, _s in sorted(got, key=lambda g: (g[2] or "").encode())
            ]
            assert ordered == sorted(ordered), f"{plan.pattern}: not in {rng.attribute} order"
