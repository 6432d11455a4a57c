"""Per access pattern: the typed parameters and the `<pattern>_key(...)` key builder.

The decisions (which key values a request carries under which names, which slots a key value
takes, prefix or full, `after`, fixed literals) come from `modeling.requests`, the one home of
key rendering that `model verify` and the docs use too; this module only writes them as code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modeling.core import ir
from modeling.core.naming import snake
from modeling.core.values import coerce
from modeling.emit._python import identifier, indent, literal, render, value_literal
from modeling.emit.transformers.common import EmitError, annotation, fstring
from modeling.requests import (
    PlanError,
    after,
    attribute_type,
    filter_literals,
    key_entries,
    key_shape,
    scalar_binding,
)


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
    {
        "self",
        "start_key",
        "cursor",
        "page_size",
        "consistent_read",
        "item",
        "row",
        "request",
        "response",
    }
)


def _type_of(model: ir.Model, entities: tuple[str, ...], attribute: str) -> ir.TypeRef:
    return attribute_type(model, entities, attribute) or ir.TypeRef("string")


def pattern_params(model: ir.Model, plan: ir.PatternPlan) -> PatternParams:
    """Every bind parameter of the plan, typed from the slots and filter attributes (a value
    fixed by the pattern's SQL is no parameter: `modeling.requests.filter_literals`)."""
    out = PatternParams()
    taken: set[str] = set()
    kinds: dict[str, str] = {}
    for kv in (plan.pk, *plan.sk.values):
        for b in kv.bindings:
            if b.literal is None:
                kinds.setdefault(b.param, b.type)
    fixed = filter_literals(model, plan)
    for i, f in enumerate(plan.filters):
        t = _type_of(model, plan.entities, f.attribute)
        for j, p in enumerate(f.params):
            if (i, j) not in fixed:
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


def _render_key(
    kv: ir.KeyValue, params: PatternParams, lines: list[str], locals_: dict[str, str]
) -> str:
    """Source of the key string a KeyValue renders: `modeling.requests.key_shape` decides the
    parts (template text, fixed literals, which slots, the cut, `after`); this writes them."""
    for b in kv.bindings:
        if b.literal is not None:
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
    try:
        shape = key_shape(kv)
    except PlanError as exc:
        raise EmitError(str(exc)) from None
    parts: list[tuple[bool, str]] = []
    for part in shape.parts:
        if isinstance(part, str):
            parts.append((False, part))
        elif part.binding is None:
            raise EmitError(f"full key {kv.template!r} has no value for {{{part.slot}}}")
        else:
            parts.append((True, locals_[f"{part.slot}={part.binding.param}"]))
    if not shape.after:
        return fstring(parts)
    if not any(is_code for is_code, _ in parts):
        try:
            return literal(after("".join(t for _, t in parts)))
        except PlanError as exc:
            raise EmitError(str(exc)) from None
    return f"_keys.after({fstring(parts)})"


def key_builder_name(plan: ir.PatternPlan) -> str:
    return f"{identifier(snake(plan.pattern))}_key"


def _key_av(
    key_type: str,
    kv: ir.KeyValue,
    params: PatternParams,
    lines: list[str],
    locals_: dict[str, str],
    native: bool = False,
) -> str:
    if key_type == "S" and not native:
        return f'{{"S": {_render_key(kv, params, lines, locals_)}}}'
    try:
        b = scalar_binding(key_type, kv)
    except PlanError as exc:
        raise EmitError(str(exc)) from None
    value = (
        value_literal(coerce(b.type, b.literal)) if b.literal is not None else params.names[b.param]
    )
    scalar = f"_scalar({literal(b.type)}, {value}, {literal(b.param)})"
    if native and b.type == "string":  # DynamoDB refuses "" in a key condition
        scalar = f"_keys.condition_text({scalar})"
    return f'{{"{key_type}": {scalar}}}'


def key_builder(layout: ir.Layout, model: ir.Model, plan: ir.PatternPlan) -> str:
    """`<pattern>_key(params)`: the Key of a GetItem plan, or a Query's `:pk`/`:sk0`/`:sk1`
    (which values, under which names: `modeling.requests.key_entries`)."""
    index = layout.index(plan.index)
    if index is None:
        raise EmitError(f"pattern {plan.pattern}: unknown index {plan.index}")
    try:
        entries = key_entries(plan, index)
    except PlanError as exc:
        raise EmitError(f"pattern {plan.pattern}: {exc}") from None
    params = pattern_params(model, plan)
    used = {b.param for e in entries for b in e.value.bindings if b.literal is None}
    lines: list[str] = []
    locals_: dict[str, str] = {}
    body = [
        f"{literal(e.name)}: {_key_av(e.type, e.value, params, lines, locals_, e.native)}"
        for e in entries
    ]
    lines.append("return {" + ", ".join(body) + "}")
    if plan.operation == "GetItem":
        what = "the Key of its GetItem"
    else:
        what = "the values of its KeyConditionExpression (`:pk`, `:sk0`, `:sk1`)"
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
