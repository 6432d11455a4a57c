"""The Python oracle: what an access pattern must return, evaluated directly over the rows.

The answer is an `Expected`: per entity, the matching rows as a sequence of *tie groups*.

Ordering rules (what a correct Query must reproduce), and why:

* A pattern with a range attribute orders each entity's rows by that attribute (`order` asc or
  desc). Rows with equal values form one tie group: their relative order is whatever the sort
  key's remaining bytes make it, which the pattern does not promise, so inside a group order is
  not compared.
* `order_by` without a range condition orders the same way by that attribute.
* A pattern without either promises no order: all rows of an entity are one group.
* A multi-entity (item-collection) read promises no order *between* entities (the entity-type
  prefix of the sort key decides it), so each entity's rows are checked separately: the
  projection of the answer onto one entity must walk that entity's groups in order.
* `limit` L: the answer holds min(L, total) rows, and every entity's projection is a prefix
  of its groups (a group cut by the limit may contribute any subset of the right size).

Values compare the way DynamoDB compares the encoded keys: numbers numerically, strings by code
point (= UTF-8 byte order), datetimes as instants (any time zone), dates, uuids by their text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from modeling.core import values
from modeling.core.ir import IN, NULL_TESTS, AccessPattern, Condition, Entity, Model, TypeRef
from modeling.sample.rows import Dataset, Row, RowRef, ref_of

Params = Mapping[str, Any]


def coerce(t: TypeRef | None, value: Any) -> Any:
    """A SQL literal (str/int/float/bool) as the attribute type's Python value."""
    return value if t is None else values.coerce(t.kind, value)


def condition_values(c: Condition, t: TypeRef | None, params: Params) -> tuple[Any, ...]:
    """The value(s) a condition compares with: its literals, or its bound parameters."""
    if c.literals and not c.params:
        return tuple(coerce(t, v) for v in c.literals)
    return tuple(params[p] for p in c.param_names)


def sort_value(value: Any) -> Any:
    """A value made comparable the way DynamoDB orders the encoded key (see module doc)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def text_of(value: Any) -> str:
    """The text a `begins_with` prefix is matched against (strings as-is, others canonical)."""
    if isinstance(value, datetime):
        return sort_value(value).isoformat()
    if isinstance(value, date | UUID):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def matches(c: Condition, row: Row, params: Params, t: TypeRef | None = None) -> bool:
    """Does `row` satisfy one condition? NULL (or a missing attribute) never matches."""
    value = row.get(c.attribute)
    if c.op in NULL_TESTS:
        return (value is None) == (c.op == "is_null")
    if value is None:
        return False
    given = condition_values(c, t, params)
    if c.op == IN:  # `IN :ids` holds its values in one list parameter
        values = given[0] if c.listed and c.params else given
        return sort_value(value) in {sort_value(v) for v in values}
    if c.op == "begins_with":
        return text_of(value).startswith(text_of(given[0]))
    v = sort_value(value)
    p = sort_value(given[0])
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    if c.op == "between":
        low_op, high_op = c.bounds
        return ops[low_op](v, p) and ops[high_op](v, sort_value(given[1]))
    return ops[c.op](v, p)


@dataclass
class Expected:
    """What a pattern must return: per entity, ordered tie groups of row refs."""

    groups: dict[str, list[list[RowRef]]] = field(default_factory=dict)
    limit: int | None = None

    def all_refs(self) -> list[RowRef]:
        return [r for gs in self.groups.values() for g in gs for r in g]

    def total(self) -> int:
        return sum(len(g) for gs in self.groups.values() for g in gs)

    def expected_count(self) -> int:
        return self.total() if self.limit is None else min(self.limit, self.total())


class RowIndex:
    """The rows of a Dataset by (entity, attribute, value), built on first use per attribute,
    so `evaluate` looks the rows of one equality value up instead of testing every row.

    Build it after the rows have their final values (the DDL fit rewrites them in place)."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self._by: dict[tuple[str, str], dict[Any, list[Row]]] = {}

    def rows(self, entity: str, attribute: str, value: Any) -> list[Row]:
        key = (entity, attribute)
        table = self._by.get(key)
        if table is None:
            table = {}
            for r in self.data.of(entity):
                v = r.get(attribute)
                if v is not None:
                    table.setdefault(values.hashable(sort_value(v)), []).append(r)
            self._by[key] = table
        return table.get(values.hashable(sort_value(value)), [])


def evaluate(
    model: Model,
    pattern: AccessPattern,
    data: Dataset,
    params: Params,
    index: RowIndex | None = None,
) -> Expected:
    """The rows of `pattern`'s entities satisfying every `where` and `filter` condition
    (`index`: look the rows of the first equality condition up rather than scan)."""
    out = Expected(limit=pattern.limit)
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None:
            continue
        conds = [(c, _type(entity, c.attribute)) for c in (*pattern.where, *pattern.filter)]
        candidates = data.of(name)
        first = next(((c, t) for c, t in conds if c.op == "=" and t is not None), None)
        if index is not None and first is not None:
            c, t = first
            candidates = index.rows(name, c.attribute, condition_values(c, t, params)[0])
        hits = [r for r in candidates if all(matches(c, r, params, t) for c, t in conds)]
        out.groups[name] = tie_groups(
            entity, hits, sort_attribute(pattern), pattern.order, nulls_first(pattern)
        )
    return out


def sort_attribute(pattern: AccessPattern) -> str | None:
    """The attribute results are ordered by: the range attribute, else `order_by`, else none."""
    rng = pattern.range
    return rng.attribute if rng is not None else pattern.order_by


def _type(entity: Entity, attribute: str) -> TypeRef | None:
    a = entity.attribute(attribute)
    return a.type if a is not None else None


def nulls_first(pattern: AccessPattern) -> bool:
    """Whether PostgreSQL returns rows whose sort attribute is NULL first: as the SQL says
    (`NULLS FIRST` / `NULLS LAST`), else its default, where NULL is larger than every value
    (NULLS LAST under ASC, NULLS FIRST under DESC)."""
    if pattern.nulls is not None:
        return pattern.nulls == "first"
    return pattern.order == "desc"


def tie_groups(
    entity: Entity,
    rows: Sequence[Row],
    attribute: str | None,
    order: str,
    nulls_first: bool = False,
) -> list[list[RowRef]]:
    """Rows grouped by equal `attribute` value, groups ordered asc/desc.

    One group when there is no sort attribute or this entity lacks it (a collection read
    sorted by a child's attribute leaves the parent unordered); rows whose value is NULL
    form one group (the pattern promises them, in no particular order), first or last as
    `nulls_first` says.
    """
    if not rows:
        return []
    if attribute is None or entity.attribute(attribute) is None:
        return [sorted(ref_of(entity, r) for r in rows)]
    present = [r for r in rows if r.get(attribute) is not None]
    nulls = sorted(ref_of(entity, r) for r in rows if r.get(attribute) is None)
    keyed = sorted(present, key=lambda r: sort_value(r[attribute]), reverse=order == "desc")
    groups: list[list[RowRef]] = []
    last: Any = object()
    for r in keyed:
        v = sort_value(r[attribute])
        if not groups or v != last:
            groups.append([])
            last = v
        groups[-1].append(ref_of(entity, r))
    if nulls:
        if nulls_first:
            groups.insert(0, nulls)
        else:
            groups.append(nulls)
    return groups


@dataclass
class Comparison:
    """How an actual answer differs from the expected one (empty lists = agreement)."""

    missing: list[RowRef] = field(default_factory=list)
    extra: list[RowRef] = field(default_factory=list)
    duplicates: list[RowRef] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    count: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicates or self.order or self.count)


def compare(expected: Expected, actual: Sequence[RowRef]) -> Comparison:
    """Check `actual` (in returned order) against the ordering rules in the module doc."""
    out = Comparison()
    seen: set[RowRef] = set()
    for r in actual:
        if r in seen:
            out.duplicates.append(r)
        seen.add(r)
    wanted = set(expected.all_refs())
    out.extra = [r for r in actual if r not in wanted]
    limited = expected.limit is not None and expected.limit < expected.total()
    if not limited:
        out.missing = [r for r in expected.all_refs() if r not in seen]
    elif len(seen) != expected.expected_count():
        out.count = (
            f"limit {expected.limit}: expected {expected.expected_count()} rows, got {len(actual)}"
        )
    for entity, groups in expected.groups.items():
        projection = [r for r in actual if r.entity == entity and r in wanted]
        problem = _walk(groups, projection, strict_prefix=limited)
        if problem:
            out.order.append(problem)
    return out


def _walk(groups: list[list[RowRef]], projection: list[RowRef], strict_prefix: bool) -> str | None:
    """Does `projection` consume `groups` in order (any order within one group)?

    Without a limit, rows missing altogether are reported as missing, so the walk skips them;
    under a limit the answer must be a true prefix, so a skipped row is an order problem.
    """
    present = set(projection) if not strict_prefix else {r for g in groups for r in g}
    gi = 0
    left = set(groups[0]) & present if groups else set()
    for pos, r in enumerate(projection):
        while gi < len(groups) and not left:
            gi += 1
            left = set(groups[gi]) & present if gi < len(groups) else set()
        if r in left:
            left.discard(r)
            continue
        later = next((i for i in range(gi + 1, len(groups)) if r in groups[i]), None)
        if later is not None:
            pending = sorted(left)[:3]
            return (
                f"{r} returned at position {pos} before "
                + ", ".join(str(p) for p in pending)
                + (" (which sort earlier)" if pending else "")
            )
        return f"{r} at position {pos} is out of order"
    return None
