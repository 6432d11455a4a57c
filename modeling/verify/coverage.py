"""What the sample covered when one access pattern ran in `model verify` (issue 13, item 2).

A pattern passing on data proves little about cases the data never produced. Per pattern this
counts, over the parameter values tried:

* `with_null`  — results holding a row whose value is NULL in a nullable attribute the pattern
  orders by or that fills a slot of its index's key templates (the rows a sparse index drops),
  leaving out attributes the pattern compares with (NULL never matches a condition);
* `with_ties`  — results holding two rows with the same (non-NULL) ordering value;
* `multi_page` — DynamoDB answers whose items came on more than one Query page (continuation);
* `empty`      — results with no rows at all.

* `cases`      — per adversarial case (`modeling.sample.adversarial`: boundary, separator,
  literal, prefix, unicode, astral, collation, empty), results holding a row whose value of an
  attribute the plan keys on (a slot of its index's key templates) or orders by carries it;
  `prefix` also counts a string parameter that is a proper prefix of another stored value (or
  extends one), `collation` an answer whose ordering strings sort differently by bytes and by
  a linguistic collation. `case_applies` lists the cases those attributes' types can carry.

and says which applicable case was never seen (`warnings`). Counting is over the oracle's
expected answer (after the pattern's `limit`), so it does not depend on whether DynamoDB got it
right; only `multi_page` comes from the DynamoDB run. All of it is deterministic by seed.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modeling.core.ir import AccessPattern, Layout, Model, TypeRef
from modeling.sample import adversarial
from modeling.sample.codec import slots
from modeling.sample.oracle import Expected, sort_attribute
from modeling.sample.rows import Row, RowRef


@dataclass
class Coverage:
    values_tried: int = 0
    with_null: int = 0
    with_ties: int = 0
    multi_page: int = 0
    empty: int = 0
    # the nullable ordering / key-slot attributes NULL was looked for in, as `Entity.attribute`
    nullable: list[str] = field(default_factory=list)
    ordered: bool = False  # the pattern's order can meet equal values (ties are a case)
    paged: bool = False  # DynamoDB was asked with Query for a non-unique answer (continuation)
    # adversarial cases: results that held each case (only the cases that apply are listed)
    cases: dict[str, int] = field(default_factory=dict)
    case_applies: list[str] = field(default_factory=list)
    case_attributes: list[str] = field(default_factory=list)  # `Entity.attribute` watched
    warnings: list[str] = field(default_factory=list)

    def observe_cases(self, found: set[str]) -> None:
        """Count one trial's adversarial cases (`CaseWatch.cases_of`)."""
        for case in found:
            if case in self.cases:
                self.cases[case] += 1

    def observe(
        self,
        expected: Expected,
        rows: Mapping[RowRef, Row],
        null_slots: Mapping[str, tuple[str, ...]],
        order_attribute: str | None,
        item_pages: int | None = None,
    ) -> None:
        """Count one trial: the oracle's answer, and how many Query pages carried its items
        (None when DynamoDB was not asked)."""
        self.values_tried += 1
        returned = _returned(expected)
        if not returned:
            self.empty += 1
        if any(
            rows[r].get(a) is None
            for r in returned
            if r in rows
            for a in null_slots.get(r.entity, ())
        ):
            self.with_null += 1
        if order_attribute is not None and _has_ties(expected, rows, order_attribute):
            self.with_ties += 1
        if item_pages is not None and item_pages > 1:
            self.multi_page += 1

    def finish(self, pattern: str) -> None:
        """Warn about every case that applies to the pattern but never happened."""
        self.warnings = []
        if not self.values_tried:
            return
        if self.nullable and not self.with_null:
            self.warnings.append(
                f"{pattern}: orders by or keys on nullable {', '.join(self.nullable)}, "
                "but no result held a NULL there"
            )
        if self.ordered and not self.with_ties:
            self.warnings.append(
                f"{pattern}: orders its results, but no result had two rows with equal "
                "ordering values (ties)"
            )
        if self.paged and not self.multi_page:
            self.warnings.append(
                f"{pattern}: no result spanned more than one Query page (continuation untested)"
            )
        missed = [c for c in self.case_applies if not self.cases.get(c)]
        if missed:
            self.warnings.append(
                f"{pattern}: no result held a {'/'.join(missed)} value in "
                f"{', '.join(self.case_attributes)} (adversarial case{'s' if len(missed) > 1 else ''} "
                "not covered)"
            )


def applicable(
    model: Model, layout: Layout, pattern: AccessPattern
) -> tuple[dict[str, tuple[str, ...]], str | None]:
    """Per entity of the pattern, its nullable attributes that the pattern orders by or that
    fill a slot of the plan's key templates; and the ordering attribute (None: no order)."""
    order = None if pattern.unique else sort_attribute(pattern)
    plan = layout.plan(pattern.name)
    # an attribute the pattern compares with never holds NULL in a result: no case to cover
    constrained = {c.attribute for c in (*pattern.where, *pattern.filter)}
    out: dict[str, tuple[str, ...]] = {}
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            continue
        candidates: list[str] = [order] if order else []
        el = layout.entity(name)
        key = el.key(plan.index) if el is not None and plan is not None else None
        if key is not None:
            for template in (key.pk, key.sk or ""):
                candidates.extend(slots(template))
        nullable = sorted(
            {
                a
                for a in candidates
                if a not in constrained
                and (attr := entity.attribute(a)) is not None
                and not attr.required
            }
        )
        if nullable:
            out[name] = tuple(nullable)
    return out, order


def ties_possible(model: Model, pattern: AccessPattern, order: str | None) -> bool:
    """Can two rows of one answer share the ordering value? Not when the pattern promises no
    order, nor when the ordering attribute completes a key (or a unique lookup's attributes)
    whose other attributes the pattern binds by equality (`WHERE order_id = :id ORDER BY
    line_no` on key (order_id, line_no); `ORDER BY slug` where `slug` is looked up unique)."""
    if order is None:
        return False
    bound = {c.attribute for c in pattern.equality}
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None or entity.attribute(order) is None:
            continue
        if not any(order in u and u - {order} <= bound for u in unique_sets(model, name)):
            return True
    return False


def unique_sets(model: Model, entity: str) -> list[set[str]]:
    """Attribute sets no two rows of `entity` share: its key, and the `=` attributes of every
    `unique: true` pattern that reads only this entity."""
    e = model.entity(entity)
    out = [set(e.key)] if e is not None else []
    for p in model.patterns:
        if p.unique and p.entities == (entity,):
            attrs = {c.attribute for c in p.where if c.op == "="}
            if attrs:
                out.append(attrs)
    return out


def _returned(expected: Expected) -> list[RowRef]:
    """The rows the pattern returns: every group, cut at the limit (a cut group counts)."""
    out: list[RowRef] = []
    for groups in expected.groups.values():
        for g in groups:
            out.extend(g)
    if expected.limit is not None and len(expected.groups) == 1:
        # the groups reached before the limit; rows of a group the limit cuts may be any subset
        kept: list[RowRef] = []
        for g in next(iter(expected.groups.values())):
            if len(kept) >= expected.limit:
                break
            kept.extend(g)
        return kept
    return out


def _has_ties(expected: Expected, rows: Mapping[RowRef, Row], attribute: str) -> bool:
    limit = expected.limit if len(expected.groups) == 1 else None
    for groups in expected.groups.values():
        seen = 0
        for g in groups:
            if limit is not None and seen >= limit:
                break
            seen += len(g)
            if len(g) > 1 and all(r in rows and rows[r].get(attribute) is not None for r in g):
                return True
    return False


@dataclass
class CaseWatch:
    """The attributes of one pattern whose values are checked for adversarial cases, and the
    stored string values a parameter may be a prefix of."""

    attributes: dict[str, list[tuple[str, TypeRef, Any]]]  # entity -> (attribute, type, bound)
    order: str | None
    literals: Sequence[str]
    applies: tuple[str, ...]
    stored: dict[str, list[str]] = field(default_factory=dict)  # attribute -> sorted strings
    params: dict[str, str] = field(default_factory=dict)  # parameter -> string attribute

    def cases_of(
        self, expected: Expected, rows: Mapping[RowRef, Row], params: Mapping[str, Any]
    ) -> set[str]:
        found: set[str] = set()
        returned = [r for r in _returned(expected) if r in rows]
        for ref in returned:
            for name, t, bound in self.attributes.get(ref.entity, ()):
                found |= adversarial.value_cases(t, rows[ref].get(name), self.literals, bound)
        for name in {
            n for attrs in self.attributes.values() for n, t, _ in attrs if t.kind == "string"
        }:
            if adversarial.shares_prefix(rows[r].get(name) for r in returned):
                found.add("prefix")
                break
        for param, attribute in self.params.items():
            value = params.get(param)
            if isinstance(value, str) and _prefix_related(value, self.stored.get(attribute, [])):
                found.add("prefix")
        if self.order is not None and adversarial.collation_sensitive(
            rows[r].get(self.order) for r in returned
        ):
            found.add("collation")
        return found & set(self.applies)


def _prefix_related(value: str, stored: list[str]) -> bool:
    """Is `value` a proper prefix of a stored string, or a stored string one of its own?"""
    i = bisect.bisect_right(stored, value)
    if i < len(stored) and stored[i].startswith(value) and stored[i] != value:
        return True
    known = set(stored)
    return any(value[:k] in known for k in range(1, len(value)))


def case_watch(
    model: Model,
    layout: Layout,
    pattern: AccessPattern,
    rows_by_entity: Mapping[str, Sequence[Row]],
    literals: Sequence[str] = (),
    bounds: Mapping[tuple[str, str], Any] | None = None,
    keyed: frozenset[tuple[str, str]] = frozenset(),
) -> CaseWatch:
    """What to watch for `pattern`: the slots of its plan's key templates and its ordering
    attribute, per entity; the cases their types can carry (collation only for a string the
    answer is ordered by)."""
    bounds = bounds or {}
    order = None if pattern.unique else sort_attribute(pattern)
    plan = layout.plan(pattern.name)
    attributes: dict[str, list[tuple[str, TypeRef, Any]]] = {}
    applies: set[str] = set()
    stored: dict[str, set[str]] = {}
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            continue
        names: list[str] = []
        el = layout.entity(name)
        key = el.key(plan.index) if el is not None and plan is not None else None
        if key is not None:
            for template in (key.pk, key.sk or ""):
                names.extend(slots(template))
        if order is not None:
            names.append(order)
        for attr_name in dict.fromkeys(names):
            a = entity.attribute(attr_name)
            if a is None:
                continue
            attributes.setdefault(name, []).append(
                (attr_name, a.type, bounds.get((name, attr_name)))
            )
            cases = adversarial.applicable_cases(
                a.type,
                a.enum or (),
                (name, attr_name) in keyed or attr_name in entity.key,
                literals,
            )
            applies.update(c for c in cases if c != "collation" or attr_name == order)
            if a.type.kind == "string" and not a.enum:
                stored.setdefault(attr_name, set()).update(
                    v
                    for r in rows_by_entity.get(name, ())
                    if isinstance(v := r.get(attr_name), str)
                )
    params = {
        c.param_names[0]: c.attribute
        for c in pattern.where
        if c.param_names and c.attribute in stored and c.op in ("=", "begins_with")
    }
    return CaseWatch(
        attributes,
        order,
        tuple(literals),
        tuple(c for c in adversarial.CASES if c in applies),
        {k: sorted(v) for k, v in stored.items()},
        params,
    )
