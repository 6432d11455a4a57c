"""`index.md`: a model's front page (settings, counts, ER diagram, entities, patterns, warnings)."""

from __future__ import annotations

from modeling.core.ir import Layout, Model
from modeling.emit.docs.markdown import (
    billing,
    code,
    count,
    diagram_block,
    entity_link,
    header,
    join_parts,
    pattern_link,
    qualified,
    table,
    text,
    yes,
)
from modeling.requests import key_condition


def overview_page(model: Model, layout: Layout, er_svg: str | None) -> str:
    """The model's front page: settings, counts, ER diagram, entities, patterns, warnings."""
    out = [header(model), f"# {text(model.name)}\n"]
    if model.description:
        out.append(text(model.description) + "\n")
    t = model.table
    settings = [
        ("table name", code(t.name)),
        ("billing", text(billing(model))),
        ("time to live", code(t.ttl) if t.ttl else "off"),
        ("stream", code(t.stream) if t.stream else "off"),
        ("point-in-time recovery", yes(t.pitr)),
        ("deletion protection", yes(t.deletion_protection)),
        ("entity-type attribute", code(layout.type_attribute)),
        ("tags", ", ".join(code(f"{k}={v}") for k, v in sorted(t.tags)) or "none"),
    ]
    if model.source is not None:
        settings.append(("source", text(model.source.dialect)))
    out.append("## Table\n")
    out.append(table(["setting", "value"], settings))
    multi = sum(1 for p in model.patterns if len(p.entities) > 1)
    from_sql = sum(1 for p in model.patterns if p.sql)
    warnings = [d for d in layout.diagnostics if d.severity == "warning"]
    out.append("\n## At a glance\n")
    out.append(
        table(
            ["what", "count"],
            [
                ("entities", str(len(model.entities))),
                ("access patterns", str(len(model.patterns))),
                ("item-collection reads (several entities, one Query)", str(multi)),
                ("patterns written as SQL", str(from_sql)),
                ("global secondary indexes", str(len(layout.gsis))),
                ("local secondary indexes", str(len(layout.lsis))),
                ("warnings", str(len(warnings))),
            ],
        )
    )
    if er_svg is not None:
        out.append("\n## Entity–relationship diagram\n")
        out.append(diagram_block(er_svg, "er"))
        out.append("\nMore: [all diagrams](diagrams.md).\n")
    out.append("\n## Entities\n")
    rows = []
    for e in sorted(model.entities, key=lambda x: x.name):
        el = layout.entity(e.name)
        on = ", ".join(k.index for k in el.keys) if el else ""
        rows.append(
            (
                entity_link(e.name),
                code(qualified(e)),
                ", ".join(code(k) for k in e.key),
                str(len(e.attributes)),
                text(e.parent or ""),
                text(on),
                text(count(e.row_count)),
            )
        )
    out.append(
        table(["entity", "SQL table", "key", "attributes", "parent", "indexes", "rows"], rows)
    )
    out.append("\n## Access patterns\n")
    prow = []
    for p in model.patterns:
        plan = layout.plan(p.name)
        index = layout.index(plan.index) if plan else None
        prow.append(
            (
                pattern_link(p.name),
                ", ".join(text(e) for e in p.entities),
                text(plan.operation if plan else "—"),
                text(plan.index if plan else "—"),
                code(key_condition(plan, index)) if plan else "",
            )
        )
    out.append(table(["pattern", "entities", "operation", "index", "key condition"], prow))
    out.append("\n## Warnings\n")
    if not layout.diagnostics:
        out.append("The compiler reported no warnings.\n")
    else:
        out.append(
            table(
                ["severity", "code", "where", "message", "hint"],
                [
                    (
                        text(d.severity),
                        code(d.code),
                        code(d.location or ""),
                        text(d.message),
                        text(d.hint or ""),
                    )
                    for d in layout.diagnostics
                ],
            )
        )
    out.append("\n## Pages\n")
    out.append(
        "- [Diagrams](diagrams.md): entity–relationship, key layout, access-pattern map\n"
        "- [Access patterns](access-patterns.md): index, key condition, example values, SQL\n"
        "- [Indexes and item collections](indexes.md): what each Query returns\n"
        "- [Migration runbook](runbook.md): backfill, cutover flags, validation\n"
        "- [Capacity and cost](cost.md): read and write units, storage, monthly bill\n"
    )
    return "".join(join_parts(out))
