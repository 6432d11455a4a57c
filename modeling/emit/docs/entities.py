"""`entities/<Entity>.md`: attributes and SQL columns, the key on every index, a sample item."""

from __future__ import annotations

import json

from modeling.core.ir import Entity, EntityKey, Index, Layout, Model
from modeling.emit.docs.markdown import (
    code,
    entity_link,
    fenced,
    header,
    join_parts,
    pattern_link,
    qualified,
    table,
    text,
    yes,
)
from modeling.emit.docs.samples import Sample, jsonable_item


def entity_page(model: Model, layout: Layout, entity: Entity, sample: Sample) -> str:
    """One entity: attributes and their SQL columns, its key on every index, patterns, a sample."""
    out = [header(model), f"# {text(entity.name)}\n"]
    if entity.description:
        out.append(text(entity.description) + "\n")
    facts = [
        f"Rows come from the SQL table {code(qualified(entity))}",
        f"identity ({', '.join(code(k) for k in entity.key)})",
    ]
    if entity.row_count is not None:
        facts.append(f"about {entity.row_count:,} rows")
    out.append("; ".join(facts) + ".\n")
    if entity.parent:
        out.append(f"Owned by {entity_link(entity.parent, False)} (parent, 1:N).\n")
    children = model.children(entity.name)
    if children:
        out.append("Owns: " + ", ".join(entity_link(c.name, False) for c in children) + ".\n")
    referenced_by = sorted(
        {e.name for e in model.entities for a in e.attributes if a.references == entity.name}
    )
    if referenced_by:
        out.append(
            "Referenced by: " + ", ".join(entity_link(n, False) for n in referenced_by) + ".\n"
        )
    out.append("\n## Attributes\n")
    rows = []
    for a in entity.attributes:
        notes = []
        if a.name in entity.key:
            notes.append("key")
        if a.enum:
            notes.append("one of " + ", ".join(code(v) for v in a.enum))
        if a.name == model.table.ttl and a.type.kind == "datetime":
            notes.append("time to live: stored as N epoch seconds (sub-second part dropped)")
        elif a.name == model.table.ttl:
            notes.append("time to live (epoch seconds)")
        if a.description:
            notes.append(text(a.description))
        rows.append(
            (
                code(a.name),
                code(a.type),
                yes(a.required),
                code(a.column_name),
                entity_link(a.references, False) if a.references else "",
                "; ".join(notes),
            )
        )
    out.append(table(["attribute", "type", "required", "SQL column", "references", "notes"], rows))
    out.append("\n## Keys on every index\n")
    el = layout.entity(entity.name)
    krows = []
    for index in layout.indexes:
        ek = el.key(index.name) if el else None
        krows.append(_key_row(index, ek))
    out.append(table(["index", "partition key", "sort key", "how", "serves"], krows))
    out.append(
        f"\nItems carry {code(layout.type_attribute)} = "
        f"{code(el.type_value if el else entity.name)}; a sparse key is written only when "
        "every attribute in it is present.\n"
    )
    patterns = [p for p in model.patterns if entity.name in p.entities]
    out.append("\n## Access patterns\n")
    if patterns:
        for p in patterns:
            plan = layout.plan(p.name)
            where = f" on {text(plan.index)}" if plan else ""
            others = [e for e in p.entities if e != entity.name]
            with_ = f", together with {', '.join(text(o) for o in others)}" if others else ""
            out.append(f"- {pattern_link(p.name, '../access-patterns.md')}{where}{with_}\n")
    else:
        out.append("No access pattern reads this entity.\n")
    item = next((i for n, i in sample.items if n == entity.name), None)
    if item is not None:
        out.append("\n## Sample item\n")
        out.append(
            "A DynamoDB item of this entity built from a generated sample row with readable "
            "values (low-level AttributeValue JSON; `model verify` loads the same kind of item, "
            "with values chosen to break plans instead):\n"
        )
        body = json.dumps(jsonable_item(item), ensure_ascii=False, indent=2)
        out.append(fenced(body, "json"))
    return "".join(join_parts(out))


def _key_row(index: Index, ek: EntityKey | None) -> tuple[str, ...]:
    name = text(index.name if index.kind != "table" else "table")
    if ek is None:
        return (name, "not on this index", "", "", "")
    how = ["pinned" if ek.pinned else "derived"]
    if ek.sparse:
        how.append("sparse on " + ", ".join(code(s) for s in ek.sparse_on))
    for slot, place in ek.null_fill:
        how.append(
            f"NULL {code(slot)} kept, as a sentinel sorting {'after' if place == 'high' else 'before'} every value"
        )
    sk = code(f"{index.sk.name} = {ek.sk}") if index.sk and ek.sk is not None else ""
    return (
        name,
        code(f"{index.pk.name} = {ek.pk}"),
        sk,
        "; ".join(how),
        ", ".join(pattern_link(p, "../access-patterns.md") for p in ek.purpose),
    )
