"""Pass 4b: local secondary indexes where they save a GSI.

A pattern that binds the table's partition key but needs another sort order costs a GSI whose
partition key repeats the table's (`CUSTOMER#{customer_id}` twice). A local secondary index
serves it with the table's own `PK` and a sort key of its own (`LSI1SK`): one GSI fewer
(DynamoDB allows 20), reads that can be strongly consistent, and no second partition space to
keep in step. It has two costs, so it is derived only when they are paid for:

- an item collection (every item of one partition-key value, plus its entries in every LSI) is
  limited to 10 GB once the table has an LSI (writes beyond it fail). The collection is
  estimated from `row_count`s, the number of distinct partition values (`cost.distinct_values`)
  and the item sizes of `cost.item_bytes`; an LSI is derived only when the average collection
  stays under `limits.LSI_COLLECTION_BUDGET` (a tenth of the limit: averages hide skew). An
  unknown estimate keeps the GSI.
- an LSI exists only from table creation: it cannot be added to or removed from a live table.
  A model that says `table: {exists: true}` gets no derived LSI, and a note where one would
  have saved a GSI.

The pass runs after the index assignment (pass 3) and the keys (pass 4): it takes the units on
derived GSIs whose every requirement fits a key with the entity's table partition key, packs
them on at most 5 (minus the pinned) LSIs, re-runs the GSI assignment on the other units, and
keeps the result only when the table keys are unchanged and fewer GSIs are needed; LSIs whose
units the GSIs could take without a new GSI are dropped again. `layout: {lsi: never}` turns
it off. Each decision is a diagnostic (info) that layout.md and `model compile` show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from modeling import cost
from modeling.compile.assign import (
    assign_indexes,
    index_kind,
    index_name,
    pk_template,
    solve,
    unit_order,
)
from modeling.compile.entity_keys import build_keys
from modeling.compile.state import TABLE, Derivation, Placement, Requirement, Unit
from modeling.core import ir, limits
from modeling.core.diagnostics import Diagnostic, Severity

_ANY_GSI = "GSI*"  # `solve` places a derived key as on a fresh GSI; the pass renames it


@dataclass(frozen=True)
class _Collection:
    """The estimated size of one table partition's item collection."""

    template: str  # the table partition-key template, e.g. CUSTOMER#{customer_id}
    size: float | None  # bytes per partition value (average); None: unknown
    basis: str  # what the estimate rests on, or why it is unknown


def derive_lsis(model: ir.Model, state: Derivation) -> Derivation:
    if model.layout.lsi == "never" or state.previous is not None:
        return state  # with a previous layout (a live table), only its LSIs are kept
    pinned = {index_name(k.index) for e in model.entities for k in e.pinned_keys}
    derived = [i for i in state.index_names if index_kind(i) == "gsi" and i not in pinned]
    free = [
        f"LSI{n}"
        for n in range(1, 64)
        if f"LSI{n}" not in state.index_names and f"LSI{n}" not in pinned
    ]
    free = free[: limits.MAX_LSIS - sum(index_kind(i) == "lsi" for i in state.index_names)]
    if not derived or not free:
        return state
    table = {p.entity: p for p in state.placements if p.index == TABLE}
    units = sorted(
        (u for u in state.units if state.assignment.get(u.pattern) in derived),
        key=lambda u: unit_order(model, u),
    )
    local = [u for u in units if _local(model, state, table, [u]) is not None]
    trial = _best(model, state, table, local, free)
    if trial is None:
        return state  # no LSI saves a GSI
    if model.table.exists:
        return state.with_diagnostics(*_exists_notes(model, state, trial))
    sizes = _collections(model, trial[0], table)
    why = {u.pattern: _too_big(trial[0], sizes, table, u) for u in local}
    refused = [u for u in local if why[u.pattern] is not None]
    notes = [_kept_note(model, state, u, why[u.pattern]) for u in refused]
    if refused:
        keep = [u for u in local if u not in refused]
        trial = _best(model, state, table, keep, free)
        if trial is None:
            return state.with_diagnostics(*notes)
    result, groups = trial
    saved = len(_gsis(state)) - len(_gsis(result))
    sizes = _collections(model, result, table)
    notes += [_derived_note(model, result, u, saved, sizes) for g in groups for u in g]
    return result.with_diagnostics(*notes)


def _gsis(state: Derivation) -> list[str]:
    return [i for i in state.index_names if index_kind(i) == "gsi"]


def _local(
    model: ir.Model,
    state: Derivation,
    table: dict[str, Placement],
    units: Sequence[Unit],
) -> list[Placement] | None:
    """The placements of `units` on one LSI, or None when they do not fit one: every
    requirement is keyed under its entity's table partition key (same template), and the
    requirements of one entity merge into one sort key."""
    by_entity: dict[str, list[Requirement]] = {}
    for unit in units:
        for req in unit.requirements:
            tp = table.get(req.entity)
            if tp is None:
                return None
            if req.owner is not None and req.owner != tp.owner:
                return None
            if req.fixed_pk is not None and set(req.fixed_pk) != set(tp.pk):
                return None
            by_entity.setdefault(req.entity, []).append(
                replace(req, fixed_pk=tp.pk, owner=tp.owner)
            )
    out = []
    for entity, reqs in sorted(by_entity.items()):
        placed = solve(model, entity, _ANY_GSI, reqs)
        if placed is None:
            return None
        if pk_template(placed, state.prefixes) != pk_template(table[entity], state.prefixes):
            return None
        out.append(placed)
    for unit in units:  # an item collection keeps one partition template for its members
        if unit.root is not None:
            members = {p.entity for p in out} & set(unit.entities)
            if len({pk_template(table[m], state.prefixes) for m in members}) > 1:
                return None
    return out


def _pack(
    model: ir.Model,
    state: Derivation,
    table: dict[str, Placement],
    units: Sequence[Unit],
    slots: int,
) -> list[list[Unit]]:
    """First fit of `units` on at most `slots` LSIs."""
    groups: list[list[Unit]] = []
    for unit in units:
        for group in groups:
            if _local(model, state, table, [*group, unit]) is not None:
                group.append(unit)
                break
        else:
            if len(groups) < slots:
                groups.append([unit])
    return groups


def _apply(
    model: ir.Model,
    state: Derivation,
    table: dict[str, Placement],
    groups: Sequence[Sequence[Unit]],
    names: Sequence[str],
) -> Derivation | None:
    """The derivation with `groups` on the LSIs `names` and every other unit assigned again;
    None when that changes a table key (the LSIs were planned under the old one)."""
    moved = {u.pattern for g in groups for u in g}
    rest = tuple(u for u in state.units if u.pattern not in moved)
    again = assign_indexes(model, replace(state, units=rest))
    if {p for p in again.placements if p.index == TABLE} != set(table.values()):
        return None
    assignment = dict(again.assignment)
    placements = list(again.placements)
    for name, group in zip(names, groups, strict=False):
        local = _local(model, state, table, group)
        if local is None:  # pragma: no cover - groups are packed by `_local`
            return None
        placements += [replace(p, index=name) for p in local]
        for unit in group:
            assignment[unit.pattern] = name
            pattern = model.pattern(unit.pattern)
            ordered = pattern is not None and (pattern.order == "desc" or pattern.limit is not None)
            if unit.root is not None and pattern is not None and ordered:
                again.parent_first.setdefault((name, unit.root), pattern.order)
    used = list(names[: len(groups)])
    index_names = sorted(
        {*again.index_names, *used},
        key=lambda i: (index_kind(i) != "table", index_kind(i) == "lsi", _number(i)),
    )
    placed = replace(
        again,
        units=state.units,
        assignment=assignment,
        placements=tuple(sorted(placements, key=lambda p: (p.entity, p.index))),
        index_names=tuple(index_names),
        diagnostics=state.diagnostics,
    )
    return build_keys(model, replace(placed, indexes=(), entity_layouts=()))


def _number(name: str) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else 0


def _best(
    model: ir.Model,
    state: Derivation,
    table: dict[str, Placement],
    local: Sequence[Unit],
    free: Sequence[str],
) -> tuple[Derivation, list[list[Unit]]] | None:
    """The LSI grouping of `local` that saves the most GSIs, with as few LSIs as that needs;
    None when no grouping saves one."""
    if not local:
        return None
    before = len(_gsis(state))
    groups = _pack(model, state, table, local, len(free))
    result = _apply(model, state, table, groups, free)
    if result is None or len(_gsis(result)) >= before:
        return None
    best = len(_gsis(result))
    for group in reversed(list(groups)):  # drop an LSI the GSIs absorb at no extra GSI
        fewer = [g for g in groups if g is not group]
        trial = _apply(model, state, table, fewer, free) if fewer else None
        if trial is not None and len(_gsis(trial)) <= best:
            groups, result = fewer, trial
    return result, groups


# --------------------------------------------------------------------------- item collections


def _collections(
    model: ir.Model, state: Derivation, table: dict[str, Placement]
) -> dict[str, _Collection]:
    """Per table partition template: the average item collection (every entity whose table key
    has that partition template, each item with its copies in the LSIs it is keyed on)."""
    layout = ir.Layout(model.name, model.table.name, state.indexes, state.entity_layouts, ())
    members: dict[str, list[str]] = {}
    for owner, tp in sorted(table.items()):
        members.setdefault(pk_template(tp, state.prefixes), []).append(owner)
    out = {}
    for template, names in members.items():
        total: float = 0
        basis: list[str] = []
        unknown = None
        for name in names:
            entity = model.entity(name)
            if entity is None:
                continue
            rows = _rows_per_value(model, entity, table[name].pk)
            if isinstance(rows, str):
                unknown = rows
                break
            size = cost.item_bytes(layout, entity) + cost.ITEM_OVERHEAD
            el = layout.entity(name)
            for index in layout.lsis:
                if el is not None and el.key(index.name) is not None:
                    size += cost.projected_bytes(layout, index, entity) + cost.ITEM_OVERHEAD
            total += rows * size
            basis.append(f"{name}: {rows:,.4g} item(s) x ~{size:,.0f} B with LSI entries")
        if unknown is not None:
            out[template] = _Collection(template, None, unknown)
        else:
            out[template] = _Collection(template, total, "; ".join(basis))
    return out


def _rows_per_value(model: ir.Model, entity: ir.Entity, pk: Sequence[str]) -> float | str:
    """Average rows of `entity` per partition value of its table key, or why unknown."""
    if entity.row_count is None:
        return f"{entity.name} has no row_count"
    values: float = 1
    for slot in pk:
        d = cost.distinct_values(model, entity, slot)
        if d is None:
            return f"the number of distinct {entity.name}.{slot} values is unknown"
        values *= max(d, 1)
    return entity.row_count / min(max(values, 1), max(entity.row_count, 1))


def _too_big(
    state: Derivation, sizes: dict[str, _Collection], table: dict[str, Placement], unit: Unit
) -> str | None:
    """Why `unit` cannot go on an LSI for its item collections' sake, or None."""
    for req in unit.requirements:
        c = sizes.get(pk_template(table[req.entity], state.prefixes))
        if c is None:
            continue
        if c.size is None:
            return f"the item collection of {c.template} cannot be estimated: {c.basis}"
        if c.size > limits.LSI_COLLECTION_BUDGET:
            return (
                f"the item collection of {c.template} is estimated at ~{_bytes(c.size)} per "
                f"partition value ({c.basis}), over the {_bytes(limits.LSI_COLLECTION_BUDGET)} "
                f"an LSI is derived for (DynamoDB's limit with an LSI: "
                f"{_bytes(limits.ITEM_COLLECTION_BYTES)})"
            )
    return None


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:,.3g} {unit}"
    return f"{n:,.0f} B"


# --------------------------------------------------------------------------- diagnostics


def _span(model: ir.Model, name: str) -> object:
    pattern = model.pattern(name)
    return pattern.span if pattern is not None else None


def _derived_note(
    model: ir.Model, state: Derivation, unit: Unit, saved: int, sizes: dict[str, _Collection]
) -> Diagnostic:
    name = state.assignment[unit.pattern]
    templates = sorted(
        {
            pk_template(p, state.prefixes)
            for p in state.placements
            if p.index == name and p.entity in unit.entities
        }
    )
    estimate = "; ".join(
        f"{t}: ~{_bytes(sizes[t].size or 0)} per value ({sizes[t].basis})"
        for t in templates
        if t in sizes
    )
    return Diagnostic(
        "lsi-derived",
        Severity.INFO,
        f"pattern {unit.pattern!r} runs on {name}, a local secondary index on the table's "
        f"partition key {', '.join(templates)} with a sort key of its own: the layout's LSIs "
        f"save {saved} GSI(s). Item collection estimate {estimate}, under DynamoDB's "
        f"{_bytes(limits.ITEM_COLLECTION_BYTES)} limit. An LSI exists only from table "
        "creation: it cannot be added to or removed from an existing table",
        _span(model, unit.pattern),  # type: ignore[arg-type]
        "`layout: {lsi: never}` keeps GSIs; `table: {exists: true}` when the table is live",
        unit.pattern,
    )


def _kept_note(model: ir.Model, state: Derivation, unit: Unit, why: str | None) -> Diagnostic:
    hint = (
        "declare `row_count` (and distinct values: `references`, `enum`, `stats.n_distinct`) "
        "so the collection can be estimated, or pin an `lsiN` key to decide yourself"
        if why is not None and "cannot be estimated" in why
        else "nothing to do: the GSI has no size limit per partition (pin an `lsiN` key if "
        "you know every collection stays far below 10 GB)"
    )
    return Diagnostic(
        "lsi-kept-gsi",
        Severity.INFO,
        f"pattern {unit.pattern!r} shares the table's partition key and could be served by an "
        f"LSI instead of {state.assignment.get(unit.pattern)}, but {why}; it keeps a GSI",
        _span(model, unit.pattern),  # type: ignore[arg-type]
        hint,
        unit.pattern,
    )


def _exists_notes(
    model: ir.Model, state: Derivation, trial: tuple[Derivation, list[list[Unit]]]
) -> list[Diagnostic]:
    result, groups = trial
    saved = len(_gsis(state)) - len(_gsis(result))
    return [
        Diagnostic(
            "lsi-needs-new-table",
            Severity.INFO,
            f"pattern {unit.pattern!r} could run on an LSI instead of "
            f"{state.assignment.get(unit.pattern)} (the layout's LSIs would save {saved} "
            "GSI(s)), but the table exists (`table: {exists: true}`) and an LSI can only be "
            "created with its table: the layout keeps GSIs",
            _span(model, unit.pattern),  # type: ignore[arg-type]
            "to use LSIs, create a new table from this model and copy the items over "
            "(`model migrate`); otherwise nothing to do",
            unit.pattern,
        )
        for group in groups
        for unit in group
    ]
