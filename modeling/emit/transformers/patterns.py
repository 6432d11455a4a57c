"""Per access pattern: the typed parameters and the `<pattern>_key(...)` key builder."""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field

from modeling.core import ir
from modeling.emit._python import identifier, indent, literal, render, snake_case
from modeling.emit.transformers.common import EmitError, annotation, fstring
from modeling.runtime import keys


def coerce_literal(kind: str, value: str | int | float | bool) -> object:
    """A SQL literal from a `sql:` pattern as a value of the slot's kind."""
    if kind == "datetime" and isinstance(value, str):
        dt = datetime.datetime.fromisoformat(value.replace(" ", "T"))
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=datetime.UTC)
    if kind == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    if kind == "decimal" and not isinstance(value, bool):
        return decimal.Decimal(str(value))
    if kind == "float" and isinstance(value, int | str) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, str):
        return int(value)
    if kind == "uuid" and isinstance(value, str):
        return uuid.UUID(value)
    if kind == "binary" and isinstance(value, str):
        return bytes.fromhex(value.removeprefix("\\x"))
    return value


@dataclass
class PatternParams:
    """The Python parameters of one access pattern: bind name -> (identifier, annotation)."""

    names: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # model type text, for filters

    def signature(self, only: set[str] | None = None) -> str:
        return ", ".join(
            f"{self.names[p]}: {self.types[p]}" for p in self.names if only is None or p in only
        )


RESERVED_PARAMS = frozenset(
    {"self", "start_key", "page_size", "consistent_read", "item", "row", "request", "response"}
)


def _type_of(model: ir.Model, entities: tuple[str, ...], attribute: str) -> ir.TypeRef:
    for name in entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e else None
        if a is not None:
            return a.type
    return ir.TypeRef("string")


def pattern_params(model: ir.Model, plan: ir.PatternPlan) -> PatternParams:
    """Every bind parameter of the plan, typed from the slots and filter attributes."""
    out = PatternParams()
    taken: set[str] = set()
    kinds: dict[str, str] = {}
    for kv in (plan.pk, *plan.sk.values):
        for b in kv.bindings:
            if b.literal is None:
                kinds.setdefault(b.param, b.type)
    for f in plan.filters:
        t = _type_of(model, plan.entities, f.attribute)
        for p in f.params:
            kinds.setdefault(p, str(t))
    order = [*plan.params, *(p for p in kinds if p not in plan.params)]
    for p in order:
        if p not in kinds or p in out.names:
            continue
        out.names[p] = identifier(p, taken, RESERVED_PARAMS)
        t = ir.TypeRef.parse(kinds[p])
        out.types[p] = annotation(t)
        out.kinds[p] = kinds[p]
    return out


def filter_literals(model: ir.Model, plan: ir.PatternPlan) -> dict[tuple[int, int], object]:
    """Fixed values of `sql:` filter conditions: (filter index, value index) -> value."""
    pattern = model.pattern(plan.pattern)
    out: dict[tuple[int, int], object] = {}
    if pattern is None:
        return out
    for i, (f, c) in enumerate(zip(plan.filters, pattern.filter, strict=False)):
        if c.literals and not c.params:
            t = _type_of(model, plan.entities, f.attribute)
            for j, v in enumerate(c.literals):
                out[(i, j)] = coerce_literal(t.kind, v)
    return out


def _render_key(
    kv: ir.KeyValue, params: PatternParams, lines: list[str], locals_: dict[str, str]
) -> str:
    """Source of the key string a KeyValue renders (see `ir.RenderMode`)."""
    template = keys.parse_template(kv.template)
    bound: dict[str, tuple[bool, str]] = {}
    for b in kv.bindings:
        if b.literal is not None:
            value = coerce_literal(b.type, b.literal)
            bound[b.slot] = (False, keys.encode(b.type, value))
            continue
        if b.param not in params.names:
            raise EmitError(
                f"key {kv.template!r} binds {{{b.slot}}} to unknown parameter {b.param!r}"
            )
        key = f"{b.slot}={b.param}"
        if key not in locals_:
            local = f"k{len(locals_)}"
            lines.append(
                f"{local} = _slot({literal(b.type)}, {params.names[b.param]}, {literal(b.param)})"
            )
            locals_[key] = local
        bound[b.slot] = (True, locals_[key])
    parts: list[tuple[bool, str]] = []
    if kv.mode == "full":
        for part in template.parts:
            if isinstance(part, keys.Text):
                parts.append((False, part.text))
            elif part.attribute in bound:
                parts.append(bound[part.attribute])
            else:
                raise EmitError(f"full key {kv.template!r} has no value for {{{part.attribute}}}")
        return fstring(parts)
    if kv.mode in ("prefix", "after"):
        for part in template.parts:
            if isinstance(part, keys.Text):
                parts.append((False, part.text))
            elif part.attribute in bound:
                parts.append(bound[part.attribute])
            else:
                break
        if kv.mode == "prefix":
            return fstring(parts)
        if not any(is_code for is_code, _ in parts):
            return literal(_after("".join(t for _, t in parts)))
        return f"_after({fstring(parts)})"
    if kv.mode == "open":
        keep = 0
        has_slots = any(isinstance(p, keys.Slot) for p in template.parts)
        for part in template.parts:
            if isinstance(part, keys.Slot):
                if part.attribute not in bound:
                    break
                parts.append(bound[part.attribute])
                keep = len(parts)
            else:
                parts.append((False, part.text))
                if not keep and not has_slots:
                    keep = len(parts)
        if keep == 0:
            return literal(template.literal_prefix())
        return fstring(parts[:keep])
    raise EmitError(f"unknown render mode {kv.mode!r}")


def _after(prefix: str) -> str:
    text = prefix
    while text:
        last = ord(text[-1])
        if last < 0x10FFFF and not 0xD7FF <= last < 0xE000:
            return text[:-1] + chr(last + 1)
        text = text[:-1]
    raise EmitError(f"no string sorts after every string starting with {prefix!r}")


def key_builder_name(plan: ir.PatternPlan) -> str:
    return f"{identifier(snake_case(plan.pattern))}_key"


def _key_av(
    key_type: str, kv: ir.KeyValue, params: PatternParams, lines: list[str], locals_: dict[str, str]
) -> str:
    if key_type == "S":
        return f'{{"S": {_render_key(kv, params, lines, locals_)}}}'
    if len(kv.bindings) != 1:
        raise EmitError(f"{key_type} key {kv.template!r} must bind exactly one slot")
    b = kv.bindings[0]
    if b.literal is not None:
        value = literal(coerce_literal(b.type, b.literal))
    else:
        value = params.names[b.param]
    return f'{{"{key_type}": _scalar({literal(b.type)}, {value}, {literal(b.param)})}}'


def key_builder(layout: ir.Layout, model: ir.Model, plan: ir.PatternPlan) -> str:
    """`<pattern>_key(params)`: the Key of a GetItem plan, or a Query's `:pk`/`:sk0`/`:sk1`."""
    index = layout.index(plan.index)
    if index is None:
        raise EmitError(f"pattern {plan.pattern}: unknown index {plan.index}")
    params = pattern_params(model, plan)
    used = {b.param for kv in (plan.pk, *plan.sk.values) for b in kv.bindings if b.literal is None}
    lines: list[str] = []
    locals_: dict[str, str] = {}
    entries: list[str] = []
    pk = _key_av(index.pk.type, plan.pk, params, lines, locals_)
    if plan.operation == "GetItem":
        entries.append(f"{literal(index.pk.name)}: {pk}")
        if index.sk is not None:
            if plan.sk.kind != "eq":
                raise EmitError(f"pattern {plan.pattern}: GetItem needs an `eq` sort-key value")
            entries.append(
                f"{literal(index.sk.name)}: {_key_av(index.sk.type, plan.sk.values[0], params, lines, locals_)}"
            )
        what = "the Key of its GetItem"
    else:
        entries.append(f'":pk": {pk}')
        if plan.sk.kind != "none":
            if index.sk is None:
                raise EmitError(
                    f"pattern {plan.pattern}: sort-key condition on {index.name}, which has none"
                )
            for i, kv in enumerate(plan.sk.values):
                entries.append(f'":sk{i}": {_key_av(index.sk.type, kv, params, lines, locals_)}')
        what = "the values of its KeyConditionExpression (`:pk`, `:sk0`, `:sk1`)"
    lines.append("return {" + ", ".join(entries) + "}")
    entity = ", ".join(plan.entities)
    return render(
        '''
        def $fn($signature) -> Item:
            """Pattern `$pattern` on $index: $what."""
            try:
        $body
            except _Bad as exc:
                raise exc.error($entity, None) from None
            except _keys.KeyEncodingError as exc:
                raise InvalidKey($entity, None, str(exc)) from None
        ''',
        fn=key_builder_name(plan),
        signature=params.signature(used),
        pattern=plan.pattern,
        index=plan.index,
        what=what,
        body=indent("\n".join(lines), 2),
        entity=literal(entity),
    )
