"""Pass 4: placements -> concrete indexes and key templates per entity.

Derived templates are `OWNER#{pk slots}` / `TYPE#{sk slots}`: the sort key always starts with
the entity's own type prefix, which is what makes overloaded indexes collision-free. Within an
item collection read in a fixed direction (`order: desc` or a `limit`), the parent must come
first: if the type prefixes sort the wrong way, `#` (below every letter and digit) is put in
front of the parent's (asc) or the children's (desc) sort key, as in DeBrie's `#ORDER#`.
"""

from __future__ import annotations

from dataclasses import replace

from modeling.compile import templates
from modeling.compile.assign import index_kind, pk_template
from modeling.compile.state import TABLE, Derivation, Placement
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.runtime import keys as codec


def _index(name: str) -> ir.Index:
    kind = index_kind(name)
    if kind == "table":
        return ir.Index(TABLE, "table", ir.KeyAttribute("PK"), ir.KeyAttribute("SK"), alias=TABLE)
    if kind == "lsi":
        return ir.Index(
            name, "lsi", ir.KeyAttribute("PK"), ir.KeyAttribute(f"{name}SK"), alias=name.lower()
        )
    return ir.Index(
        name, "gsi", ir.KeyAttribute(f"{name}PK"), ir.KeyAttribute(f"{name}SK"), alias=name.lower()
    )


def _sk_literal(state: Derivation, placement: Placement) -> str:
    """The type prefix that starts this placement's sort key, with the ordering tweak."""
    prefix = state.prefixes[placement.entity]
    order = state.parent_first.get((placement.index, placement.owner))
    if order is None:
        return prefix
    group = [
        p
        for p in state.placements
        if p.index == placement.index
        and p.owner == placement.owner
        and (p.pinned is None or p.inherited)
    ]
    if any(p.inherited for p in group):
        return _sk_literal_beside_kept(state, placement, prefix, order, group)
    members = sorted({p.entity for p in group})
    root = placement.owner
    if root not in members:
        return prefix
    root_prefix = state.prefixes[root]
    child_prefixes = [state.prefixes[m] for m in members if m != root]
    if not child_prefixes:
        return prefix
    if order == "asc" and not all(root_prefix < c for c in child_prefixes):
        return "#" + prefix if placement.entity == root else prefix
    if order == "desc" and not all(root_prefix > c for c in child_prefixes):
        return prefix if placement.entity == root else "#" + prefix
    return prefix


def _sk_literal_beside_kept(
    state: Derivation, placement: Placement, prefix: str, order: str, group: list[Placement]
) -> str:
    """The ordering tweak of a derived key in a collection where some members keep the
    previous layout's templates (`Placement.inherited`): those literals are fixed, so only the
    derived keys move. asc: a derived root gets `#` when a member would sort before it. desc:
    derived children get `#` when one would sort after the root. (A kept member that sorts on
    the wrong side cannot be moved; the plan's proof is then the previous layout's.)"""
    root = placement.owner
    literal = {
        p.entity: templates.literal_prefix(p.pinned.sk or "")
        if p.inherited and p.pinned is not None
        else state.prefixes[p.entity]
        for p in group
    }
    if root not in literal:
        return prefix
    children = [lit for entity, lit in literal.items() if entity != root]
    if order == "asc" and placement.entity == root and root not in _kept(group):
        return prefix if all(literal[root] < c for c in children) else "#" + prefix
    if order == "desc" and placement.entity != root:
        derived = [state.prefixes[p.entity] for p in group if not p.inherited and p.entity != root]
        return prefix if all(literal[root] > c for c in derived) else "#" + prefix
    return prefix


def _kept(group: list[Placement]) -> set[str]:
    return {p.entity for p in group if p.inherited}


def sk_template(state: Derivation, placement: Placement) -> str | None:
    if placement.pinned is not None:
        return placement.pinned.sk
    return templates.build(_sk_literal(state, placement), placement.sk)


def _without_unused_sort_keys(
    indexes: tuple[ir.Index, ...], layouts: list[ir.EntityLayout]
) -> tuple[ir.Index, ...]:
    """An index on which every entity's (pinned) key has no sort-key template gets no sort key.

    Items lacking an index's sort-key attribute are not written to it, so a pk-only pinned key on
    an index that declares a sort key would silently leave the index empty. Mixed indexes keep
    their sort key; the key-shape check reports the pk-only entity.
    """
    out = []
    for index in indexes:
        keys = [k for layout in layouts for k in layout.keys if k.index == index.name]
        if index.kind == "gsi" and keys and all(k.sk is None for k in keys):
            index = replace(index, sk=None)
        out.append(index)
    return tuple(out)


def build_keys(model: ir.Model, state: Derivation) -> Derivation:
    indexes = tuple(_index(n) for n in state.index_names)
    order = {name: i for i, name in enumerate(state.index_names)}
    layouts = []
    problems: list[Diagnostic] = []
    # each entity's placements, grouped once (a scan per entity was quadratic: issue 18)
    placed: dict[str, list[Placement]] = {}
    for p in state.placements:
        placed.setdefault(p.entity, []).append(p)
    for entity in sorted(model.entities, key=lambda e: e.name):
        keys = []
        placements = sorted(placed.get(entity.name, ()), key=lambda p: order[p.index])
        for p in placements:
            filled = dict(p.null_fill)
            optional = tuple(
                s
                for s in (*p.pk, *p.sk)
                if (a := entity.attribute(s)) is not None and not a.required and s not in filled
            )
            problems += _null_problems(model, entity, p, sk_template(state, p))
            keys.append(
                ir.EntityKey(
                    index=p.index,
                    pk=pk_template(p, state.prefixes),
                    sk=sk_template(state, p),
                    pinned=p.pinned is not None and not p.inherited,
                    sparse=bool(optional),
                    sparse_on=tuple(sorted(set(optional))),
                    null_fill=tuple((s, "high" if h else "low") for s, h in p.null_fill),
                    purpose=p.patterns,
                )
            )
        layouts.append(ir.EntityLayout(entity.name, entity.name, tuple(keys)))
    indexes = _without_unused_sort_keys(indexes, layouts)
    return replace(
        state,
        indexes=indexes,
        entity_layouts=tuple(layouts),
        diagnostics=state.diagnostics + tuple(problems),
    )


def _null_problems(
    model: ir.Model, entity: ir.Entity, p: Placement, sk: str | None
) -> list[Diagnostic]:
    """A NULL placed before every value of a string/binary slot that ends the sort key cannot
    sort before the empty value: refuse it rather than return rows in the wrong order."""
    if sk is None or not p.null_fill:
        return []
    template = codec.parse_template(sk)
    kinds = {s: a.type.kind for s in template.slots if (a := entity.attribute(s)) is not None}
    out = []
    for slot, high in p.null_fill:
        why = codec.null_problems(template, kinds, slot, high)
        if why is None:
            continue
        for name in p.patterns:
            pattern = model.pattern(name)
            if pattern is None or pattern.order_by != slot:
                continue
            out.append(
                Diagnostic(
                    "null-order-unsupported",
                    Severity.ERROR,
                    f"pattern {name!r} wants rows with NULL {entity.name}.{slot} before every "
                    f"value, but on {p.index} ({sk!r}) {why}",
                    pattern.span,
                    "use the default NULL placement (NULLS LAST under asc, NULLS FIRST under "
                    "desc), or make the attribute required (a CHECK/NOT NULL in the source)",
                    name,
                )
            )
    return out
