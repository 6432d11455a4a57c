"""Key conditions as key templates, for the pages (`PK = PRODUCT#{product_id} AND ...`)."""

from __future__ import annotations

from modeling.core.ir import Index, KeyValue, PatternPlan
from modeling.runtime import keys


def _template_text(kv: KeyValue) -> str:
    """A key value as the template it renders: bound slots shown as `{slot}`, cut per mode."""
    template = keys.parse_template(kv.template)
    bound = {b.slot for b in kv.bindings}
    placeholders = {s: "{" + s + "}" for s in bound}
    if kv.mode == "full":
        return template.render({s: "{" + s + "}" for s in template.slots})
    prefix = template.render_prefix(placeholders)
    if kv.mode == "prefix":
        return prefix
    if kv.mode == "open":
        out: list[str] = []
        keep = 0
        for part in template.parts:
            if isinstance(part, keys.Slot):
                if part.attribute not in bound:
                    break
                out.append("{" + part.attribute + "}")
                keep = len(out)
            else:
                out.append(part.text)
        return "".join(out[:keep]) if keep else template.literal_prefix()
    return f"after({prefix})"  # mode "after": the smallest string above every `prefix…`


_SK_OPS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def key_condition(plan: PatternPlan, index: Index | None) -> str:
    """`PK = PRODUCT#{product_id} AND begins_with(SK, VARIANT#)`: the condition as templates."""
    pk_name = index.pk.name if index else "PK"
    sk_name = index.sk.name if index and index.sk else "SK"
    out = f"{pk_name} = {_template_text(plan.pk)}"
    sk = plan.sk
    values = [_template_text(v) for v in sk.values]
    if sk.kind == "eq" and values:
        out += f" AND {sk_name} = {values[0]}"
    elif sk.kind == "begins_with" and values:
        out += f" AND begins_with({sk_name}, {values[0]})"
    elif sk.kind == "between" and len(values) == 2:
        out += f" AND {sk_name} BETWEEN {values[0]} AND {values[1]}"
    elif sk.kind in _SK_OPS and values:
        out += f" AND {sk_name} {_SK_OPS[sk.kind]} {values[0]}"
    return out
