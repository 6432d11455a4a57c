"""Output: the model YAML with every guess as a comment beside it, the JSON report
(`--report`), and the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from modeling.importers._spec import SCHEMA_DEFAULT_REF, SCHEMA_LINE, schema_line
from modeling.importers.workbench.plans import TablePlan

SCHEMA_COMMENT = SCHEMA_LINE


def _flow(data: Mapping[str, Any]) -> CommentedMap:
    m = CommentedMap(data)
    m.fa.set_flow_style()
    return m


def _comment(text: str) -> str:
    """One comment line: whitespace collapsed, unprintable characters escaped (YAML forbids them)."""
    return " ".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in text).split())


def render_yaml(plan: TablePlan, schema_ref: str = SCHEMA_DEFAULT_REF) -> str:
    """The model file: the spec as YAML, every guess carried by a comment next to it.
    `schema_ref`: the `$schema` path (see `_spec.schema_reference`)."""
    root = CommentedMap()
    root["model"] = plan.model
    if plan.description:
        desc = plan.description
        root["description"] = LiteralScalarString(desc + "\n") if "\n" in desc else desc
    table = CommentedMap()
    table["name"] = plan.table
    if plan.billing is not None:
        table["billing"] = (
            plan.billing
            if isinstance(plan.billing, str)
            else _flow({"provisioned": _flow(plan.billing["provisioned"])})
        )
        table.yaml_add_eol_comment(_comment(plan.billing_note), "billing")
    else:
        table.yaml_add_eol_comment(_comment(plan.billing_note), "name")
    root["table"] = table
    entities = CommentedMap()
    for e in plan.entities:
        em = CommentedMap()
        em["key"] = CommentedSeq(e.key)
        em["key"].fa.set_flow_style()
        em.yaml_add_eol_comment("guessed: the slots of the table key", "key")
        keys = CommentedMap()
        for k in e.keys:
            keys[k.index] = _flow({"pk": k.pk.text} | ({"sk": k.sk.text} if k.sk else {}))
            keys.yaml_add_eol_comment(_comment(k.note), k.index)
        if keys:
            em["keys"] = keys
        attrs = CommentedMap()
        for a in e.attributes.values():
            attrs[a.name] = a.type if a.required else _flow({"type": a.type, "required": False})
            if a.note:
                attrs.yaml_add_eol_comment(_comment(a.note), a.name)
        em["attributes"] = attrs
        entities[e.name] = em
        entities.yaml_set_comment_before_after_key(
            e.name, before="\n".join(_comment(n) for n in e.notes), indent=2
        )
    root["entities"] = entities
    if plan.patterns:
        patterns = CommentedMap()
        for p in plan.patterns:
            pm = CommentedMap()
            pm["entity"] = p.entity
            pm["where"] = _flow(p.where)
            if p.unique:
                pm["unique"] = True
            patterns[p.name] = pm
            patterns.yaml_set_comment_before_after_key(p.name, before=_comment(p.note), indent=2)
        root["access_patterns"] = patterns
    header = [
        schema_line(schema_ref),
        f"Imported from the NoSQL Workbench export {plan.source or '(text)'}"
        + (f" (format {plan.version})" if plan.version else "")
        + f", table {plan.table!r}, by `model import --from-workbench`.",
        "Workbench has no entities, key templates or access patterns: comments saying 'guessed'",
        "or 'from ...' mark what was inferred, and from what. Review them before compiling.",
        *plan.notes,
    ]
    root.yaml_set_start_comment("\n".join(_comment(line) for line in header))
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = StringIO()
    yaml.dump(root, buf)
    return buf.getvalue()


def plan_report(plan: TablePlan) -> dict[str, Any]:
    """What was guessed, as data (`--report FILE.json`)."""
    return {
        "model": plan.model,
        "table": plan.table,
        "source": plan.source,
        "format_version": plan.version,
        "billing": plan.billing,
        "billing_note": plan.billing_note,
        "entities": [
            {
                "name": e.name,
                "inferred_from": e.origin,
                "sample_items": e.sample_items,
                "key": e.key,
                "keys": {
                    k.index: {
                        "pk": k.pk.text,
                        "sk": k.sk.text if k.sk else None,
                        "workbench_index": k.wb_index or None,
                        "note": k.note,
                    }
                    for k in e.keys
                },
                "attributes": {
                    a.name: {"type": a.type, "required": a.required, "note": a.note}
                    for a in e.attributes.values()
                },
                "notes": e.notes,
            }
            for e in plan.entities
        ],
        "access_patterns": [
            {
                "name": p.name,
                "entity": p.entity,
                "index": p.index,
                "where": p.where,
                "unique": p.unique,
                "note": p.note,
            }
            for p in plan.patterns
        ],
        "notes": plan.notes,
    }


def summary(plan: TablePlan) -> str:
    """A few lines for the terminal: what each entity was inferred from, and its keys."""
    lines = [
        f"{plan.model}: table {plan.table!r}, {len(plan.entities)} entities, {len(plan.patterns)} access patterns guessed"
    ]
    for e in plan.entities:
        keys = "; ".join(
            f"{k.index} pk={k.pk.text!r}" + (f" sk={k.sk.text!r}" if k.sk else "") for k in e.keys
        )
        lines.append(f"  {e.name} (from {e.origin}): {keys}")
    lines.append(f"  billing: {plan.billing_note}")
    return "\n".join(lines)


def diagnostics_json(diags: Iterable[Any]) -> list[dict[str, Any]]:
    """Diagnostics as JSON-ready dicts (`--report`)."""
    return [d.to_dict() for d in diags]
