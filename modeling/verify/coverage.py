"""What the sample covered when one access pattern ran in `model verify` (issue 13, item 2).

A pattern passing on data proves little about cases the data never produced. Per pattern this
counts, over the parameter values tried:

* `with_null`  — results holding a row whose value is NULL in a nullable attribute the pattern
  orders by or that fills a slot of its index's key templates (the rows a sparse index drops),
  leaving out attributes the pattern compares with (NULL never matches a condition);
* `with_ties`  — results holding two rows with the same (non-NULL) ordering value;
* `multi_page` — DynamoDB answers whose items came on more than one Query page (continuation);
* `empty`      — results with no rows at all.

and says which applicable case was never seen (`warnings`). Counting is over the oracle's
expected answer (after the pattern's `limit`), so it does not depend on whether DynamoDB got it
right; only `multi_page` comes from the DynamoDB run. All of it is deterministic by seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from modeling.core.ir import AccessPattern, Layout, Model
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
    warnings: list[str] = field(default_factory=list)

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
    order, nor when the ordering attribute completes a key whose other attributes the pattern
    binds by equality (`WHERE order_id = :id ORDER BY line_no` on key (order_id, line_no))."""
    if order is None:
        return False
    bound = {c.attribute for c in pattern.equality}
    for name in pattern.entities:
        entity = model.entity(name)
        if entity is None or entity.attribute(order) is None:
            continue
        if not (order in entity.key and set(entity.key) - {order} <= bound):
            return True
    return False


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
