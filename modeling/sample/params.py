"""Parameter values to run each access pattern with: real ones, misses, and range edges.

Why these: a key template that drops a slot still answers a query for a value that exists; it
fails on a neighbour that shares a prefix, on a bound equal to a stored value (inclusive vs
exclusive), one step beside it, or beyond every value. So parameters are drawn from the sample
rows (an anchor row gives the equality values), plus values that match nothing, plus range
bounds at, just below and just above real values of the same partition, plus the extremes;
datetimes are sometimes given in another time zone (the same instant).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from modeling.core.ir import IN, AccessPattern, Condition, Entity, Model, TypeRef
from modeling.sample.adversarial import value_cases
from modeling.sample.generate import fresh_value, nudge
from modeling.sample.oracle import matches, sort_attribute, sort_value
from modeling.sample.rows import Dataset, Row


def _type_of(model: Model, pattern: AccessPattern, attribute: str) -> TypeRef:
    for name in pattern.entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e else None
        if a is not None:
            return a.type
    return TypeRef("string")


def _candidates(model: Model, pattern: AccessPattern, data: Dataset) -> list[tuple[Entity, Row]]:
    """Rows of the pattern's entities that carry every `where` attribute (possible anchors)."""
    out = []
    for name in pattern.entities:
        e = model.entity(name)
        if e is None:
            continue
        for r in data.of(name):
            if all(r.get(c.attribute) is not None for c in pattern.where):
                out.append((e, r))
    return out


def _other_zone(value: Any, rng: random.Random) -> Any:
    if isinstance(value, datetime) and rng.random() < 0.3:
        zone = timezone(timedelta(hours=rng.choice((-7, 3, 9))))
        try:
            return value.astimezone(zone)
        except OverflowError:  # 0001-01-01 or 9999-12-31 has no local time beyond the year
            return value
    return value


def _bound(t: TypeRef, values: list[Any], rng: random.Random, whole_seconds: bool = False) -> Any:
    """A range bound at, beside, or beyond the real values of one partition (`whole_seconds`:
    steps of a second, for the TTL datetime that DynamoDB compares as epoch seconds)."""
    if not values:
        return fresh_value(t, rng)
    v = rng.choice(values)
    roll = rng.random()
    if roll < 0.45:
        return v
    if roll < 0.65:
        return nudge(t, v, -1, whole_seconds)
    if roll < 0.85:
        return nudge(t, v, +1, whole_seconds)
    lo = min(values, key=sort_value)
    hi = max(values, key=sort_value)
    return (
        nudge(t, lo, -1, whole_seconds) if rng.random() < 0.5 else nudge(t, hi, +1, whole_seconds)
    )


def _prefix(value: Any, rng: random.Random) -> Any:
    if not isinstance(value, str) or not value:
        return value
    roll = rng.random()
    if roll < 0.15:
        return value + "~~"  # longer than any stored value: matches nothing here
    if roll < 0.3:
        return value
    return value[: rng.randint(1, len(value))]


def _adversarial(pattern: AccessPattern, anchors: list[tuple[Entity, Row]]) -> list[Row]:
    """Anchor rows holding a case of `adversarial` in an attribute the pattern compares or
    orders by, or a tie on its ordering attribute inside their partition; ordered so that the
    first ones cover every (attribute, case) there is (a greedy cover), so the cycle of
    adversarial trials reaches each case early."""
    watched = [c.attribute for c in pattern.where]
    by = sort_attribute(pattern)
    if by is not None:
        watched.append(by)
    equality = [c.attribute for c in pattern.equality]
    seen_order: dict[tuple[Any, ...], int] = {}
    if by is not None:
        for _, row in anchors:
            if row.get(by) is not None:
                key = (*(row.get(a) for a in equality), sort_value(row[by]))
                seen_order[key] = seen_order.get(key, 0) + 1
    labelled: list[tuple[frozenset[str], Row]] = []
    for entity, row in anchors:
        found: set[str] = set()
        for name in watched:
            a = entity.attribute(name)
            if a is not None:
                found |= {f"{name}:{c}" for c in value_cases(a.type, row.get(name))}
        if (
            by is not None
            and row.get(by) is not None
            and seen_order[(*(row.get(a) for a in equality), sort_value(row[by]))] > 1
        ):
            found.add("tie")
        if found:
            labelled.append((frozenset(found), row))
    ordered: list[Row] = []
    covered: set[str] = set()
    left = labelled
    while left:
        best = max(range(len(left)), key=lambda i: (len(left[i][0] - covered), -i))
        labels, row = left.pop(best)
        if not labels - covered and ordered:
            break
        covered |= labels
        ordered.append(row)
    return ordered


def draw(
    model: Model, pattern: AccessPattern, data: Dataset, rng: random.Random, trials: int
) -> list[dict[str, Any]]:
    """`trials` parameter sets for `pattern` (deterministic for the rng's state)."""
    anchors = _candidates(model, pattern, data)
    adversarial_anchors = _adversarial(pattern, anchors)
    out: list[dict[str, Any]] = []
    for i in range(trials):
        params: dict[str, Any] = {}
        anchor = rng.choice(anchors)[1] if anchors else {}
        if adversarial_anchors and i % 3 == 2:
            # every third trial reads where a planted case sits, cycling through them
            anchor = adversarial_anchors[(i // 3) % len(adversarial_anchors)]
        miss = not anchors or i % 7 == 6  # every seventh trial asks for something absent
        equality = [c for c in pattern.where if not c.is_range]
        for j, c in enumerate(equality):
            if not c.param_names:
                continue  # a fixed SQL literal
            t = _type_of(model, pattern, c.attribute)
            value = anchor.get(c.attribute)
            if value is None or (miss and j == len(equality) - 1):
                value = fresh_value(t, rng) if t.keyable else value
            if c.op == IN:  # the anchor's value and other rows' values (repeats included)
                pool = [r.get(c.attribute) for _, r in anchors]
                pool = [v for v in pool if v is not None] or [value]
                drawn = [_other_zone(value, rng), *(rng.choice(pool) for _ in range(2))]
                if c.listed:
                    params[c.param_names[0]] = drawn[: rng.randint(1, 3)]
                else:
                    for k, p in enumerate(c.param_names):
                        params[p] = drawn[k % len(drawn)]
                continue
            params[c.param_names[0]] = _other_zone(value, rng)
        rng_cond = pattern.range
        if rng_cond is not None and rng_cond.param_names:
            same = [
                r
                for _, r in anchors
                if all(
                    matches(c, r, params, _type_of(model, pattern, c.attribute)) for c in equality
                )
                and r.get(rng_cond.attribute) is not None
            ]
            values = [r[rng_cond.attribute] for r in same] or [anchor.get(rng_cond.attribute)]
            values = [v for v in values if v is not None]
            _range_params(model, pattern, rng_cond, values, anchor, params, rng)
        for c in pattern.filter:
            if not c.param_names:
                continue
            t = _type_of(model, pattern, c.attribute)
            pool = [r[c.attribute] for _, r in anchors if r.get(c.attribute) is not None]
            whole = c.attribute == model.table.ttl and t.kind == "datetime"
            if c.op == "between":
                pair = (_bound(t, pool, rng, whole), _bound(t, pool, rng, whole))
                a, b = sorted(pair, key=sort_value)
                params.update(dict(zip(c.param_names, (a, b), strict=True)))
            elif c.op == "begins_with":
                params[c.param_names[0]] = _prefix(rng.choice(pool) if pool else "x", rng)
            else:
                params[c.param_names[0]] = (
                    _bound(t, pool, rng, whole) if pool else fresh_value(t, rng)
                )
        out.append(params)
    return out


def _range_params(
    model: Model,
    pattern: AccessPattern,
    c: Condition,
    values: list[Any],
    anchor: Row,
    params: dict[str, Any],
    rng: random.Random,
) -> None:
    t = _type_of(model, pattern, c.attribute)
    names = c.param_names
    if c.op == "begins_with":
        base = anchor.get(c.attribute)
        params[names[0]] = _prefix(base if base is not None else rng.choice(values or ["x"]), rng)
        return
    if c.op == "between":
        a, b = _bound(t, values, rng), _bound(t, values, rng)
        if rng.random() < 0.1:
            b = a  # an empty-width range at a real value
        lo, hi = sorted((a, b), key=sort_value)
        params[names[0]], params[names[1]] = _other_zone(lo, rng), _other_zone(hi, rng)
        return
    params[names[0]] = _other_zone(_bound(t, values, rng), rng)
