"""`access-patterns.md`: pattern -> index -> key condition -> example values -> SQL equivalent.

Key conditions come from `modeling.requests.key_condition`, the function layout.md uses too.
"""

from __future__ import annotations

import json

from modeling.core.ir import AccessPattern, Layout, Model
from modeling.emit.docs.markdown import (
    WIDE,
    anchor,
    code,
    entity_link,
    fenced,
    header,
    join_parts,
    pattern_link,
    table,
    text,
)
from modeling.emit.docs.samples import (
    Example,
    Sample,
    example,
    example_keys,
    jsonable_request,
    param_text,
)
from modeling.emit.docs.sql import equivalent_sql, one_line
from modeling.requests import key_condition


def access_patterns_page(model: Model, layout: Layout, sample: Sample) -> str:
    """The access-pattern matrix, then one section per pattern with its request and proof."""
    out = [WIDE, header(model), "# Access patterns\n"]
    out.append(
        "Every access pattern of the model, the index that serves it and its key condition "
        "(key templates; `{slot}` is filled with the encoded parameter, and a value the "
        "pattern's SQL fixes is shown as the Query sends it). Example values are "
        "drawn from generated sample rows, as `model verify` draws them.\n"
    )
    examples = {plan.pattern: example(model, layout, plan, sample) for plan in layout.plans}
    rows = []
    for p in model.patterns:
        plan = layout.plan(p.name)
        if plan is None:
            rows.append((pattern_link(p.name, ""), "not planned", "", "", ""))
            continue
        index = layout.index(plan.index)
        ex = examples.get(p.name)
        rows.append(
            (
                pattern_link(p.name, "")
                + f'<br><span class="stm-sub">{", ".join(text(e) for e in p.entities)}</span>',
                text(plan.index) + (" (GetItem)" if plan.operation == "GetItem" else ""),
                code(key_condition(plan, index)),
                code(example_keys(ex)) if ex else "—",
                code(one_line(equivalent_sql(model, p))),
            )
        )
    out.append(
        table(
            ["pattern", "index", "key condition", "example values", "SQL equivalent"],
            rows,
        )
    )
    for p in model.patterns:
        out.append(_pattern_section(model, layout, p, examples.get(p.name)))
    return "".join(join_parts(out))


def _pattern_section(model: Model, layout: Layout, p: AccessPattern, ex: Example | None) -> str:
    out = [f"\n## {text(p.name)} {{#{anchor(p.name)}}}\n"]
    if p.description:
        out.append(text(p.description) + "\n")
    plan = layout.plan(p.name)
    if plan is None:
        out.append("This pattern has no plan.\n")
        return "".join(join_parts(out))
    index = layout.index(plan.index)
    facts = [
        ("reads", ", ".join(entity_link(e) for e in p.entities)),
        ("operation", text(plan.operation) + (f" on {text(plan.index)}" if index else "")),
        ("key condition", code(key_condition(plan, index))),
        ("order", "ascending" if plan.scan_forward else "descending"),
    ]
    if plan.type_filter:
        facts.append(
            ("keeps types", ", ".join(code(t) for t in plan.type_filter) + " (entity-type filter)")
        )
    for f in plan.filters:
        facts.append(("non-key filter", code(f"{f.attribute} {f.op}") + " — " + text(f.read_cost)))
    if plan.unique:
        facts.append(("unique", "at most one item"))
    if plan.limit:
        facts.append(("limit", str(plan.limit)))
    if plan.sharded:
        facts.append(("sharded", f"written across {plan.sharded} shards; one Query per shard"))
    if p.rate and (p.rate.reads_per_second or p.rate.writes_per_second):
        rate = []
        if p.rate.reads_per_second:
            rate.append(f"{p.rate.reads_per_second:g} reads/s")
        if p.rate.writes_per_second:
            rate.append(f"{p.rate.writes_per_second:g} writes/s")
        facts.append(("rate", ", ".join(rate)))
    if plan.pagination:
        facts.append(("pages", text(plan.pagination)))
    out.append(table(["", ""], facts))
    if ex is not None:
        out.append("\n**Example** (parameters from the sample data):\n")
        if ex.params:
            out.append(
                table(
                    ["parameter", "value"],
                    [(code(k), code(param_text(v))) for k, v in sorted(ex.params.items())],
                )
            )
        body = json.dumps(jsonable_request(ex.request), ensure_ascii=False, indent=2)
        out.append(fenced(body, "json"))
    out.append("\n**SQL equivalent** (what the application runs on PostgreSQL):\n")
    out.append(fenced(equivalent_sql(model, p), "sql"))
    if plan.proof:
        out.append("\n**Why the key condition returns exactly the right items:**\n")
        out.append("".join(f"- {text(line)}\n" for line in plan.proof))
    return "".join(join_parts(out))
