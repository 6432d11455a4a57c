"""One model per Workbench table: the stages in order (entities, keys, attributes, patterns),
the billing mode, and the entry points that read an export and plan it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeling.core.diagnostics import Diagnostics, Span
from modeling.formats.workbench import WbDocument, WbTable, parse_document, read_document
from modeling.importers.workbench.attribute_planning import declared_types, plan_attributes
from modeling.importers.workbench.discovery import discover
from modeling.importers.workbench.key_planning import plan_keys, rename_owned, unpin_colliding
from modeling.importers.workbench.names import (
    dynamo_table_name,
    is_type_attr,
    key_names,
    slug,
    unique_name,
)
from modeling.importers.workbench.patterns import suggest_patterns
from modeling.importers.workbench.plans import TablePlan


def _billing(table: WbTable) -> tuple[str | dict[str, Any] | None, str]:
    if table.billing_mode == "PAY_PER_REQUEST":
        return "on_demand", "from BillingMode PAY_PER_REQUEST"
    if table.billing_mode == "PROVISIONED" and table.read_capacity and table.write_capacity:
        note = (
            f"from BillingMode PROVISIONED, {table.read_capacity} RCU / {table.write_capacity} WCU"
        )
        if any(k.startswith("AutoScaling") for k in table.capacity_settings or {}):
            note += "; the export's auto-scaling settings are not carried over"
        return {"provisioned": {"read": table.read_capacity, "write": table.write_capacity}}, note
    if table.billing_mode == "PROVISIONED":
        return None, "BillingMode PROVISIONED without capacity: left at the default (on_demand)"
    return None, "no BillingMode in the export: default on_demand"


def plan_table(doc: WbDocument, table: WbTable, model: str, diags: Diagnostics) -> TablePlan:
    """Infer one model (entities, pinned keys, attributes, suggested patterns) from one table."""
    declared = declared_types(table, diags)
    groups = discover(table, diags)
    for g in groups:
        plan_keys(table, g, diags)
    rename_owned(table, groups)
    entities = [plan_attributes(table, g, declared, diags) for g in groups]
    unpin_colliding(entities, diags, table)
    used = {a.source_name or a.name for e in entities for a in e.attributes.values()}
    unused = [
        a
        for a in dict.fromkeys(x.name for x in table.attributes)
        if a not in used and a not in key_names(table)
    ]
    unused = [
        a
        for a in unused
        if not any(g.type_attr == a for g in groups) and not (table.facets and is_type_attr(a))
    ]
    if unused:
        diags.warning(
            "workbench-unused-attribute",
            f"table {table.name!r} declares {', '.join(map(repr, unused))} but no entity's facet or sample items use them; not imported",
            table.span,
            "add them to the entity they belong to",
            table.name,
        )
    patterns = suggest_patterns(entities, diags, table)
    billing, billing_note = _billing(table)
    notes = []
    if table.model_schema is not None and (table.model_schema.get("queries") or {}):
        notes.append("the export's ModelSchema.queries block is not read")
    table_name = dynamo_table_name(table.name)
    if table_name != table.name:
        diags.warning(
            "workbench-table-name",
            f"table name {table.name!r} is not a valid DynamoDB table name; imported as {table_name!r}",
            table.span,
            "DynamoDB table names are 3–255 letters, digits, `_`, `.` and `-`",
            table.name,
        )
    return TablePlan(
        model=model,
        table=table_name,
        description="".join(c for c in doc.description if c.isprintable() or c in "\n\t").strip(),
        billing=billing,
        billing_note=billing_note,
        entities=entities,
        patterns=patterns,
        notes=notes,
        source=Path(doc.file).name if doc.file else "",
        version=doc.version,
    )


def model_names(doc: WbDocument) -> dict[str, str]:
    """Table name → model name: the export's name for one table, else each table's own."""
    if len(doc.tables) == 1:
        return {doc.tables[0].name: slug(doc.model_name or doc.tables[0].name)}
    out: dict[str, str] = {}
    for t in doc.tables:
        out[t.name] = unique_name(slug(t.name), out.values())
    return out


@dataclass
class ImportResult:
    """What one import gives: the document read, one plan per table, and every diagnostic."""

    document: WbDocument | None
    plans: list[TablePlan]
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors()


def plan_document(doc: WbDocument, diags: Diagnostics, table: str | None = None) -> list[TablePlan]:
    """One plan per table (or for the one `table` names); a missing table is an error."""
    names = model_names(doc)
    tables = list(doc.tables)
    if table is not None:
        tables = [t for t in doc.tables if t.name == table]
        if not tables:
            diags.error(
                "workbench-table",
                f"the export has no table {table!r}",
                Span(doc.file),
                "its tables: " + ", ".join(t.name for t in doc.tables),
            )
            return []
    return [plan_table(doc, t, names[t.name], diags) for t in tables]


def import_workbench(path: str | Path, table: str | None = None) -> ImportResult:
    """Read a Workbench export and plan one model per table (or the one `table` picks)."""
    doc, diags = read_document(path)
    if doc is None:
        return ImportResult(None, [], diags)
    return ImportResult(doc, plan_document(doc, diags, table), diags)


def import_text(text: str, file: str = "<workbench>", table: str | None = None) -> ImportResult:
    """`import_workbench` for an export's text (tests, stdin)."""
    doc, diags = parse_document(text, file)
    if doc is None:
        return ImportResult(None, [], diags)
    return ImportResult(doc, plan_document(doc, diags, table), diags)
