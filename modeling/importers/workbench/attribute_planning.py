"""Attribute planning: each entity's attributes (key slots first), their types from declared
Workbench types and sample values, and whether they are required.
"""

from __future__ import annotations

from modeling.core.diagnostics import Diagnostics
from modeling.core.limits import KEYABLE_TYPES
from modeling.formats.workbench import WbAttribute, WbTable, attribute_kind
from modeling.importers.workbench.names import ident, key_names, unique_name
from modeling.importers.workbench.plans import AttrPlan, Candidate, EntityPlan, KeyPlan
from modeling.importers.workbench.values import scalar_type, value_type


def declared_types(table: WbTable, diags: Diagnostics) -> dict[str, str]:
    """Name → declared type (first declaration); repeated declarations are reported."""
    out: dict[str, str] = {}
    seen: dict[str, list[WbAttribute]] = {}
    for a in table.attributes:
        seen.setdefault(a.name, []).append(a)
        out.setdefault(a.name, a.type)
    for name, decls in seen.items():
        if len(decls) < 2:
            continue
        types = sorted({d.type for d in decls})
        detail = (
            f"always as {types[0]}"
            if len(types) == 1
            else f"as {', '.join(types)}; used {decls[0].type} (the first)"
        )
        diags.warning(
            "workbench-duplicate-attribute",
            f"table {table.name!r} declares attribute {name!r} {len(decls)} times in NonKeyAttributes ({detail}); imported once",
            decls[1].span,
            "Workbench repeats an attribute when several facets declare it; remove the repeats to silence this",
            table.name,
        )
    return out


def plan_attributes(
    table: WbTable, g: Candidate, declared: dict[str, str], diags: Diagnostics
) -> EntityPlan:
    """One entity's plan: key slots first (typed from their sample values), then the declared and
    observed attributes; Workbench names that are not attribute names are renamed."""
    keynames = key_names(table)
    n_items = len(g.items)
    table_key = next(k for k in g.keys if k.index == "table")  # unpinned later, if ever
    key = list(dict.fromkeys(table_key.pk.slots + (table_key.sk.slots if table_key.sk else ())))
    other_slots = [
        s for k in g.keys for s in k.pk.slots + (k.sk.slots if k.sk else ()) if s not in key
    ]
    seen_in_items = [n for it, _ in g.items for n in it if n not in keynames and n != g.type_attr]
    plain = [
        n
        for n in dict.fromkeys(g.declared + seen_in_items)
        if n not in g.slots and n != g.type_attr
    ]
    # Workbench names → valid attribute names, collisions resolved in order
    names: dict[str, str] = {}
    for n in dict.fromkeys(key + other_slots + plain):
        names[n] = unique_name(ident(n), names.values())
    attrs: dict[str, AttrPlan] = {}
    for n in dict.fromkeys(key + other_slots):
        slot = g.slots[n]
        values = g.slot_values.get(n, [])
        if slot.existing and (n in declared or any(n in it for it, _ in g.items)):
            avs = [it[n] for it, _ in g.items if n in it]
            type_, why = value_type(avs, g.declared_types.get(n) or declared.get(n))
        else:
            type_, why = scalar_type(slot.kind if slot.kind in ("N", "B") else "S", values)
        examples = ", ".join(list(dict.fromkeys(values))[:3])
        note = f"key slot, {slot.why}; {why}" + (f"; e.g. {examples}" if examples else "")
        if type_ not in KEYABLE_TYPES:
            diags.warning(
                "workbench-unkeyable-slot",
                f"slot {{{n}}} of {g.name} names attribute {n!r} of type {type_}, which cannot be in a key; typed string",
                table.span,
                "rename the slot in the pinned keys",
                g.name,
            )
            type_ = "string"
        required = True
        if n not in key and n_items:  # an index-only slot may be absent: a sparse index
            present = sum(1 for iv in g.item_values if n in iv)
            if present < n_items:
                required = False
                note += f"; missing in {n_items - present} of {n_items} sample items (sparse index)"
        attrs[names[n]] = AttrPlan(names[n], type_, required, note, n if names[n] != n else None)
    for n in plain:
        avs = [it[n] for it, _ in g.items if n in it]
        decl = g.declared_types.get(n) or declared.get(n)
        type_, why = value_type(avs, decl)
        if decl is None:
            why += "; not in NonKeyAttributes, seen in sample items"
        kinds = sorted({attribute_kind(av) for av in avs} - {decl or "", "NULL"})
        if decl and kinds:
            why += f"; declared {decl} but sample values are {'/'.join(kinds)}"
        present = sum(1 for it, _ in g.items if n in it and attribute_kind(it[n]) != "NULL")
        required = present == n_items if n_items else True
        if not required:
            why += f"; missing in {n_items - present} of {n_items} sample items"
        attrs[names[n]] = AttrPlan(names[n], type_, required, why, n if names[n] != n else None)
    for a in attrs.values():
        if a.source_name:
            a.note += f"; renamed from {a.source_name!r}"
    renames = {n: names[n] for n in g.slots if n in names and names[n] != n}
    keys = []
    for k in g.keys:
        pk, sk = k.pk, k.sk
        for old, new in renames.items():
            pk = pk.renamed(old, new)
            sk = sk.renamed(old, new) if sk else None
        keys.append(KeyPlan(k.index, k.wb_index, pk, sk, k.note))
    notes = [f"guessed: entity from {g.origin}, {n_items} sample item(s)"]
    if g.type_attr:
        notes.append(
            f"attribute {g.type_attr!r} (the entity type) is left out: the compiler writes its own"
        )
    dropped = sorted(n for n in keynames if any(n in it for it, _ in g.items) and n not in g.slots)
    if dropped:
        notes.append(
            "physical key attributes " + ", ".join(dropped) + " became the key templates below"
        )
    if not key:
        diags.warning(
            "workbench-constant-key",
            f"entity {g.name}'s table key has no varying part ({table_key.pk.text!r}); it holds one item",
            table.span,
            "add the identifying attribute to the key template if there can be several",
            g.name,
        )
    return EntityPlan(
        g.name, g.origin, n_items, [names[n] for n in key], keys, attrs, notes + g.notes
    )
