"""`layout.json` (the Layout IR, for machines) and `layout.md` (for architects).

layout.md follows the way AWS and DeBrie tabulate single-table designs: an entity chart
(entity × index, with the key templates) and an access-pattern table (pattern → index → key
condition → example key values), then each plan's argument and the diagnostics. Key
conditions come from `modeling.requests.key_condition`, as on the docs site.
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from typing import Any

from modeling.core import ir, limits
from modeling.emit import FileManifest, header, register
from modeling.emit.cost_report import cost_lines
from modeling.requests import key_condition, render_key

__all__ = ["layout_json", "layout_markdown", "read_layout"]

SAMPLE_VALUES: dict[str, object] = {
    "string": "abc",
    "uuid": uuid.UUID("3f2b8c1e-0a4d-4e6b-9c7a-1d2e3f4a5b6c"),
    "integer": 42,
    "decimal": Decimal("19.99"),
    "float": 1.5,
    "boolean": True,
    "date": datetime.date(2024, 1, 15),
    "datetime": datetime.datetime(2024, 1, 15, 9, 30, tzinfo=datetime.UTC),
    "binary": b"\x01\x02",
}


def layout_json(layout: ir.Layout, model: ir.Model) -> str:
    data: dict[str, Any] = {"@generated": header(model), **ir.to_jsonable(layout)}
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def read_layout(text: str) -> ir.Layout:
    """Parse a layout.json written by `layout_json` (the header key is ignored)."""
    return ir.from_jsonable(ir.Layout, json.loads(text))


def _cell(text: str | None) -> str:
    if not text:
        return "—"
    return "`" + text.replace("|", "\\|") + "`"


def _example(kv: ir.KeyValue) -> str | None:
    """The partition key rendered with sample values (None when a type has no sample)."""
    try:
        values = {b.param: SAMPLE_VALUES[b.type] for b in kv.bindings if b.literal is None}
        return render_key(kv, values)
    except (KeyError, ValueError):
        return None


def layout_markdown(layout: ir.Layout, model: ir.Model) -> str:
    lines = [f"<!-- {header(model)} -->", "", f"# {layout.model}: single-table layout", ""]
    lines += [
        f"Table `{layout.table_name}`; entity type attribute `{layout.type_attribute}`.",
        "",
        "## Indexes",
        "",
        "| index | kind | partition key | sort key | projection |",
        "|---|---|---|---|---|",
    ]
    for idx in layout.indexes:
        # an attribute-keyed GSI lists its attributes in key order (`a (S), b (N)`)
        pk = ", ".join(f"{k.name} ({k.type})" for k in idx.hash_keys)
        sk = ", ".join(f"{k.name} ({k.type})" for k in idx.range_keys) or "—"
        lines.append(f"| {idx.name} | {idx.kind} | {pk} | {sk} | {idx.projection} |")
    if layout.lsis:
        names = ", ".join(i.name for i in layout.lsis)
        lines += [
            "",
            f"{names}: local secondary indexes on the table's partition key. They exist only "
            "from table creation (create the table with them; they cannot be added to or "
            "removed from a live table), and with them every partition-key value's item "
            f"collection (its items plus their LSI entries) is limited to "
            f"{limits.ITEM_COLLECTION_BYTES // 1024**3} GB.",
        ]
    if layout.copies:
        table = layout.indexes[0]
        sk_name = table.sk.name if table.sk else "SK"
        lines += [
            "",
            "## Relationship copies (strategy: lowest_cost)",
            "",
            "Written in the table instead of a GSI: one extra item per row, read by a Query on "
            "the table, then the main items by BatchGetItem (the copy holds their key).",
            "",
            f"| replaces | entity | type | {table.pk.name} | {sk_name} | holds | patterns |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in layout.copies:
            held = ", ".join([*c.slots, *(ref for _, ref in c.ref)])
            lines.append(
                f"| {c.name} | {c.entity} | {_cell(c.type_value)} | {_cell(_copy_pk(c))} | "
                f"{_cell(c.sk)} | {held} | {', '.join(c.purpose) or '—'} |"
            )
    lines += ["", "## Entity chart", ""]
    header_cells = [
        "entity",
        *(f"{i.name} {i.pk.name} / {i.sk.name if i.sk else '—'}" for i in layout.indexes),
    ]
    lines.append("| " + " | ".join(header_cells) + " |")
    lines.append("|" + "---|" * len(header_cells))
    for el in layout.entities:
        cells = [f"{el.entity} (`{el.type_value}`)"]
        for idx in layout.indexes:
            key = el.key(idx.name)
            if key is None:
                cells.append("")
                continue
            notes = [
                n
                for n, on in (
                    ("pinned", key.pinned),
                    (f"sparse on {', '.join(key.sparse_on)}", key.sparse),
                )
                if on
            ]
            note = f" ({'; '.join(notes)})" if notes else ""
            cells.append(f"{_cell(key.pk)} / {_cell(key.sk)}{note}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Access patterns",
        "",
        "| pattern | entities | index | operation | key condition | order | client type filter | example partition key |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for plan in layout.plans:
        index = layout.index(plan.index)
        if index is None:
            continue
        lines.append(
            "| "
            + " | ".join(
                [
                    plan.pattern,
                    ", ".join(plan.entities),
                    plan.index,
                    plan.operation,
                    _cell(key_condition(plan, index)),
                    "asc" if plan.scan_forward else "desc",
                    ", ".join(plan.type_filter) or "—",
                    _cell(_example(plan.pk)),
                ]
            )
            + " |"
        )
    lines += ["", "## Plans", ""]
    for plan in layout.plans:
        lines.append(f"### {plan.pattern}")
        lines.append("")
        lines.append(f"- parameters: {', '.join(f'`:{p}`' for p in plan.params) or '—'}")
        lines.append(f"- pages: {plan.pagination}")
        if plan.sharded:
            lines.append(
                f"- shards: {plan.sharded} (the arithmetic is in the last line of why exact)"
            )
        for f in plan.filters:
            lines.append(
                f"- filter `{f.attribute} {f.op} {', '.join(':' + p for p in f.params)}`: {f.read_cost}"
            )
        if plan.read_estimate is not None:
            lines.append(f"- read amplification: {plan.read_estimate.summary}")
        lines.append("- why exact:")
        lines += [f"  - {line}" for line in plan.proof]
        lines.append("")
    lines += cost_lines(model, layout)
    if layout.diagnostics:
        lines += ["## Diagnostics", ""]
        for d in layout.diagnostics:
            lines.append(f"- {d.severity} `{d.code}`: {d.message}")
        lines.append("")
    return "\n".join(lines)


@register("layout")
def emit_layout(layout: ir.Layout, model: ir.Model) -> FileManifest:
    return {"layout.json": layout_json(layout, model), "layout.md": layout_markdown(layout, model)}


def _copy_pk(copy: ir.CopyItems) -> str:
    """A copy's partition-key template, with its shard suffix when the GSI was sharded."""
    if not copy.shards:
        return copy.pk
    return f"{copy.pk}#<shard 0..{copy.shards - 1}>"
