"""`strategy: lowest_cost` built: a GSI that `modeling.compile.strategy` finds dearer than
writing its relationship as extra items in the table is replaced by `ir.CopyItems`
(`with_copies`, the one builder: the choice prices the layout it returns).

Each item of the entity gets a copy on the table: partition key = the GSI's partition-key
template, sort key = `~<GSI>#` + the GSI's sort-key template + `#{slot}` for each identity
attribute it lacks. Why that key is right:
- unique per row: every identity attribute is a slot of the copy's key and every slot reads
  back from the rendered key (`checks._ambiguous_slots` finds none), so two rows get two copy
  keys (the proof `checks.check_identity` makes for main items);
- never mistaken for a main item: the sort key starts with `~` (no type prefix does: prefixes
  are letters and digits) and the type attribute is `<Entity>~<GSI>` (no entity's type value
  holds `~`); every table Query not served by copies keeps its entity types by a type filter
  (`type_filter`), so collection reads, ranges and prefixes never return a copy;
- same order as the GSI: the marker is constant, the GSI's sort key comes next, and the
  identity suffix only breaks ties the GSI left in storage order.

Sort-key conditions (`_copy_plan`) are derived again for the copy's sort key by the rules every
plan is built by (`plans.copy_sort_key`): the suffix after a range slot makes each bound exact
in the encoded key (`<= v` -> `< after(prefix v #)`, `< v` -> `< prefix v`; an encoded value
followed by `#` or of fixed width is never a prefix of another), so ties stay on their SQL side.

A sparse GSI key (optional slots without NULL fill) gives a sparse copy: a row has it only
while those slots are not NULL (the transformers and the reference codec skip it), so every
writer that computes a row's copies (client, repository, runner, export, worker Lambda) puts,
moves and retires it with the row, and `migrate validate` counts the rows that have the slots.

An `IN` over the copy's key needs nothing more: the client's one Query per value runs on the
copies, and the answers merge by the ORDER BY column as they did on the GSI.

A GSI several entities share gets one copy per entity, all under the GSI's marker (`_copies`):
a pattern reading one entity keeps its copies by type; a pattern reading several together
(`_collection_plan`) reads every copy under the marker in the partition, kept by the copy
types, when it has no sort-key condition and the entities' sort keys on the GSI start with
literals none of which starts another (so copies of two entities compare before any suffix:
the GSI's order; `_collection_unbuildable`).

A filtered plan: the copy also holds the attributes the GSI's patterns filter on
(`cost.filter_attributes`), so the Query of the copies filters where the GSI did, the LIMIT
counts rows kept after the filter and the BatchGet, pages resume from the copies' keys, and a
read drops a copy whose held attributes no longer match its main item (`_current`). Such a
copy changes with any write of the row, so it is priced at the entity's writes.

A sharded GSI (`modeling.compile.sharding`) gives sharded copies: the copy's partition key
gets the suffix the GSI key had (`modeling.runtime.sharding`: the same hash of the encoded
identity, the same N, `CopyItems.shards`); the plans keep `sharded`, so the client, verify and
`migrate validate --patterns` query every shard and merge by the copies' sort key (the GSI's
order; the suffix orders ties), the client before it reads the main items (`_query_entries`:
a stale copy is dropped and LIMIT counts what is kept). The main item is not sharded
(`Layout.key_shards` ignores plans on copies).

What is not built (the GSI stays, `strategy-not-built` says why): a collection read with a sort-key condition or nested literal prefixes, copies of two entities that could
share a table key, a table without sort key, or a main table key whose slots the copy cannot
hold.
"""

from __future__ import annotations

from dataclasses import replace

from modeling.compile import plans as planning
from modeling.compile import templates
from modeling.compile.checks import _ambiguous_slots, _kinds
from modeling.core import ir
from modeling.cost import filter_attributes

MARK = "~"


def copy_type_value(entity: str, index: str) -> str:
    return f"{entity}{MARK}{index}"


def unbuildable(layout: ir.Layout, model: ir.Model, index: str) -> str | None:
    """Why GSI `index` cannot be replaced by copies (None: it can)."""
    table = layout.indexes[0]
    if table.sk is None or table.pk.type != "S" or table.sk.type != "S":
        return "the table has no string sort key"
    gsi = layout.index(index)
    if gsi is None or gsi.kind != "gsi" or gsi.pk.type != "S" or (gsi.sk and gsi.sk.type != "S"):
        return f"{index} is not a string-keyed GSI"
    owners = [el for el in layout.entities if el.key(index) is not None]
    if not owners:
        return f"{index} holds no entity"
    for plan in layout.plans:
        if plan.index != index:
            continue
        if plan.operation != "Query":
            return f"{plan.pattern} is a {plan.operation}"
        if len(plan.entities) > 1:
            why = _collection_unbuildable(layout, plan, index)
            if why is not None:
                return why
    copies = _copies(layout, model, index)
    if copies is None:
        return f"a copy's key on {index} could not be read back (ambiguous slots)"
    for i, a in enumerate(copies):
        for b in copies[i + 1 :]:
            ka, kb = _kinds(model, a.entity), _kinds(model, b.entity)
            if templates.may_coincide(a.pk, b.pk, ka, kb) and templates.may_coincide(
                a.sk, b.sk, ka, kb
            ):
                return (
                    f"the copies of {a.entity} ({a.sk}) and {b.entity} ({b.sk}) could have "
                    "the same table key (a GSI repeats keys, the table may not)"
                )
    return None


def _collection_unbuildable(layout: ir.Layout, plan: ir.PatternPlan, index: str) -> str | None:
    """Why a pattern reading several entities from GSI `index` cannot read their copies.

    Built: a read of whole partitions (no sort-key condition) whose entities' sort keys on
    the GSI start with literal texts none of which starts another. The copies' sort keys are
    the marker, the GSI's sort key and a suffix, so keys of two entities compare where their
    literals differ, before any suffix: the copies come in the GSI's order (within an entity,
    the suffix only orders ties), and a type filter keeps the pattern's entities."""
    if plan.sk.kind != "none":
        return (
            f"{plan.pattern} reads {len(plan.entities)} entities with a sort-key condition "
            "(copies are built for whole-partition collection reads)"
        )
    literals: dict[str, str] = {}
    for el in layout.entities:
        ek = el.key(index)
        if el.entity in plan.entities and ek is not None:
            literals[el.entity] = templates.literal_prefix(ek.sk or "")
    names = sorted(literals)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if templates.comparable(literals[a], literals[b]):
                return (
                    f"{plan.pattern}: the sort keys of {a} and {b} on {index} start with "
                    f"{literals[a]!r} and {literals[b]!r}, one a prefix of the other, so their "
                    "copies could interleave in another order"
                )
    return None


def _copies(layout: ir.Layout, model: ir.Model, index: str) -> list[ir.CopyItems] | None:
    """One copy per entity on GSI `index` (None when one of them cannot have one)."""
    out = []
    for el in layout.entities:
        if el.key(index) is None:
            continue
        copy = _copy(layout, model, index, el)
        if copy is None:
            return None
        out.append(copy)
    return out


def _copy(
    layout: ir.Layout, model: ir.Model, index: str, el: ir.EntityLayout
) -> ir.CopyItems | None:
    entity = model.entity(el.entity)
    ek = el.key(index)
    main = el.key(layout.indexes[0].name)
    if entity is None or ek is None or main is None:
        return None
    in_key = [*templates.slots(ek.pk), *templates.slots(ek.sk or "")]
    lacking = [k for k in entity.key if k not in in_key]
    marker = f"{MARK}{index}#"
    sk = marker + (ek.sk or "") + "".join(f"#{{{k}}}" for k in lacking)
    if _ambiguous_slots(sk, _kinds(model, el.entity)) or _ambiguous_slots(
        ek.pk, _kinds(model, el.entity)
    ):
        return None
    held = set(in_key) | set(entity.key) | set(filter_attributes(layout, index, el.entity))
    if entity.version is not None:
        held.add(entity.version)
    table = layout.indexes[0]
    ref = [(table.pk.name, table.pk.name + ir.COPY_REF_SUFFIX)]
    if table.sk is not None:
        ref.append((table.sk.name, table.sk.name + ir.COPY_REF_SUFFIX))
    return ir.CopyItems(
        name=index,
        entity=el.entity,
        type_value=copy_type_value(el.entity, index),
        pk=ek.pk,
        sk=sk,
        marker=marker,
        slots=tuple(sorted(held)),
        ref=tuple(ref),
        purpose=ek.purpose,
        replaces=layout.index(index),
        key=ek,
        plans=tuple(p for p in layout.plans if p.index == index),
        shards=layout.key_shards(el.entity, index),
    )


def _copy_plan(
    plan: ir.PatternPlan, copy: ir.CopyItems, table: ir.Index, model: ir.Model
) -> ir.PatternPlan:
    """The pattern's plan on the copies: its sort-key condition is derived again for the
    copy's sort key (`planning.copy_sort_key`: the rules every plan is built by), because the
    marker and the identity suffix change what a bound renders to. A range on a slot the
    suffix follows is no longer at the end of the key: `<= v` becomes `< after(prefix v #)`,
    `> v` starts `after(prefix v #)`, `< v` / `>= v` stop / start at `prefix v` (the encoded
    value followed by nothing: below every key holding v, above every smaller value, since
    encodings are prefix-free once followed by `#` or fixed width), so ties land on the same
    side as in SQL and no residual filter is needed; a range on the last slot keeps its
    inclusive key bound and a residual filter on the copy (which holds the slot)."""
    pattern = model.pattern(plan.pattern)
    entity = model.entity(copy.entity)
    assert pattern is not None and entity is not None
    sk, lines, residual = planning.copy_sort_key(pattern, entity, copy.sk)
    filters = tuple(f for f in plan.filters if f.read_cost != planning.RESIDUAL_COST) + residual
    proof = (
        *plan.proof[:1],
        f"served by relationship copies on the table (strategy lowest_cost): {table.pk.name} = "
        f"{copy.pk}, {table.sk.name if table.sk else 'SK'} = {copy.sk}; the type filter keeps "
        f"{copy.type_value} only, then each main item is read by the table key the copy holds",
        *lines,
        f"order: the copies' sort key, {'ascending' if plan.scan_forward else 'descending'}; "
        "the identity suffix only orders ties",
    )
    return replace(
        plan,
        index=table.name,
        sk=sk,
        filters=filters,
        type_filter=(copy.type_value,),
        copy=copy.name,
        proof=proof,
    )


def _collection_plan(
    plan: ir.PatternPlan, copies: tuple[ir.CopyItems, ...], table: ir.Index
) -> ir.PatternPlan:
    """A whole-partition read of several entities on the GSI (`_collection_unbuildable`): every
    copy under the GSI's marker in the partition, the pattern's copy types kept."""
    marker = copies[0].marker
    proof = (
        *plan.proof[:1],
        f"served by relationship copies on the table (strategy lowest_cost): {table.pk.name} = "
        f"the GSI's partition key, {table.sk.name if table.sk else 'SK'} begins with {marker!r} "
        "(every copy of the GSI in the partition); the type filter keeps "
        + ", ".join(c.type_value for c in copies)
        + ", then each main item is read by the table key the copy holds",
        "order: the entities' sort keys on the GSI start with literals none of which starts "
        "another, so copies of two entities compare there, before any suffix: the GSI's order "
        f"({'ascending' if plan.scan_forward else 'descending'}); a suffix only orders ties",
    )
    return replace(
        plan,
        index=table.name,
        sk=ir.SortKeyCondition("begins_with", (ir.KeyValue(marker, (), "full"),)),
        type_filter=tuple(c.type_value for c in copies),
        copy=copies[0].name,
        proof=proof,
    )


def with_copies(model: ir.Model, layout: ir.Layout, indexes: list[str]) -> ir.Layout:
    """`layout` with each GSI of `indexes` replaced by its relationship copies (`_copies`;
    the caller checks `unbuildable` first, and `modeling.compile.strategy` prices the result
    with `modeling.cost.estimate` against the layout with the GSI)."""
    copies = [c for i in indexes for c in (_copies(layout, model, i) or [])]
    if not copies:
        return layout
    gone = {c.name for c in copies}
    table = layout.indexes[0]
    by_name = {(c.name, c.entity): c for c in copies}
    plans = []
    for plan in layout.plans:
        if plan.index in gone and len(plan.entities) > 1:
            on = tuple(by_name[(plan.index, e)] for e in plan.entities)
            plans.append(_collection_plan(plan, on, table))
        elif plan.index in gone:
            plans.append(_copy_plan(plan, by_name[(plan.index, plan.entities[0])], table, model))
        elif plan.index == table.name and plan.operation == "Query" and not plan.type_filter:
            # a copy may share the partition: keep the entity types by name
            types = tuple(
                el.type_value
                for e in plan.entities
                if (el := next((x for x in layout.entities if x.entity == e), None))
            )
            plans.append(replace(plan, type_filter=types))
        else:
            plans.append(plan)
    return replace(
        layout,
        indexes=tuple(i for i in layout.indexes if i.name not in gone),
        entities=tuple(
            replace(el, keys=tuple(k for k in el.keys if k.index not in gone))
            for el in layout.entities
        ),
        plans=tuple(plans),
        copies=layout.copies + tuple(copies),
    )
