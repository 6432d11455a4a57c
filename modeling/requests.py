"""An access-pattern plan as a DynamoDB request: key values, key condition, Query or GetItem.

The one home for how a plan's key values (`ir.KeyValue`, rendered per `ir.RenderMode`) become
key strings, and for the shape of the request that carries them:

    key_shape(kv, prefix_slot)       what a key value is made of (the parts per render mode are
                                     `modeling.core.key_parts`): literal text (template text
                                     and fixed `sql:` literals, already encoded), parameter
                                     slots, and whether the key is the successor of them (`after`)
    render_key(kv, values)           the key string for parameter values: what a Query sends
    symbolic_key(kv)                 the same without values: slots as `{attr}`, fixed literals
                                     as the value the Query sends (docs, layout.md)
    key_condition(plan, index)       `PK = ... AND begins_with(SK, ...)`, symbolic
    key_condition_expression(...)    (`#pk = :pk AND ...`, {"#pk": "PK", ...})
    key_entries(plan, index)         `:pk`/`:sk0`/`:sk1` of a Query, the Key of a GetItem
    build_request(...)               the full Query / GetItem request for parameter values

`model verify` and the docs build requests here; the emitters that generate code (the
transformers' key builders, the client's requests) take the same decisions from `key_shape`,
`key_entries` and `key_condition_expression` and only turn them into source text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modeling.core import ir
from modeling.core.errors import InputError
from modeling.core.key_parts import key_parts
from modeling.core.values import coerce
from modeling.runtime import keys, sharding

AV = dict[str, Any]
# the codec of non-key values: `modeling.sample.codec.attribute_av(model, name, type, value)`
AttributeCodec = Callable[[ir.Model, str, ir.TypeRef, Any], AV]

SK_OPERATORS = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class PlanError(InputError, ValueError):
    """A plan that cannot be turned into a request (missing parameter, bad template, ...)."""


# --------------------------------------------------------------------------- values


def attribute_type(model: ir.Model, entities: tuple[str, ...], attribute: str) -> ir.TypeRef | None:
    """The type of `attribute` on the first of `entities` that has it."""
    for name in entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e else None
        if a is not None:
            return a.type
    return None


def after(prefix: str) -> str:
    """`keys.after`: the smallest string above every string starting with `prefix`."""
    try:
        return keys.after(prefix)
    except keys.KeyEncodingError as exc:
        raise PlanError(str(exc)) from None


# --------------------------------------------------------------------------- key shapes


@dataclass(frozen=True)
class Param:
    """A template slot filled at query time from a parameter.

    `binding` is None only for a slot of a `full` key that the plan does not bind (a plan the
    compiler never makes; concrete rendering refuses it, symbolic rendering shows `{slot}`).
    """

    slot: str
    binding: ir.SlotBinding | None
    prefix: bool = False  # the begins_with prefix: encoded with `keys.encode_value_for_prefix`


Part = str | Param  # literal text (template text or an encoded fixed literal) or a slot


@dataclass(frozen=True)
class KeyShape:
    """A key value as parts; with `after`, the key is the successor of the parts' text."""

    parts: tuple[Part, ...]
    after: bool = False

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.parts if isinstance(p, Param))


def _encode(kind: str, value: Any, prefix: bool) -> str:
    return keys.encode_value_for_prefix(kind, value) if prefix else keys.encode(kind, value)


def key_shape(kv: ir.KeyValue, prefix_slot: str | None = None) -> KeyShape:
    """The parts of a key value per its render mode (`modeling.core.key_parts.key_parts`:
    full, prefix/after, open), literal text as is, a slot bound to a fixed literal as literal
    text encoded as the Query sends it, every other slot a `Param`. `prefix_slot` names the
    slot holding a begins_with prefix.
    """
    bound = {b.slot: b for b in kv.bindings}

    def part(slot: str) -> Part:
        b = bound.get(slot)
        prefix = slot == prefix_slot
        if b is not None and b.literal is not None:
            try:
                return _encode(b.type, coerce(b.type, b.literal), prefix)
            except (ValueError, TypeError) as exc:
                raise PlanError(f"key {kv.template!r}: literal {b.literal!r}: {exc}") from None
        return Param(slot, b, prefix)

    try:
        shape = key_parts(kv)
    except keys.TemplateSyntaxError:
        raise
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    parts = tuple(p.text if isinstance(p, keys.Text) else part(p.attribute) for p in shape.parts)
    return KeyShape(parts, after=shape.after)


def render_key(kv: ir.KeyValue, values: Mapping[str, Any], prefix_slot: str | None = None) -> str:
    """The key string of `kv` for parameter `values` (bind name -> value)."""
    shape = key_shape(kv, prefix_slot)
    out: list[str] = []
    for p in shape.parts:
        if isinstance(p, str):
            out.append(p)
            continue
        b = p.binding
        if b is None:
            raise PlanError(f"full key {kv.template!r} has no value for {{{p.slot}}}")
        if b.param not in values:
            raise PlanError(
                f"plan binds slot {{{b.slot}}} to parameter {b.param!r}, which has no value"
            )
        out.append(_encode(b.type, coerce(b.type, values[b.param]), p.prefix))
    text = "".join(out)
    return after(text) if shape.after else text


def _symbolic_part(part: Part) -> str:
    if isinstance(part, str):
        return part
    return "{" + part.slot + "}" if part.binding is None else f"<:{part.binding.param}>"


def symbolic_key(kv: ir.KeyValue) -> str:
    """The key without values: a slot shows the parameter that fills it (`<:param>`, so the two
    ends of a range are told apart), a fixed literal shows its value as the Query sends it, and
    a slot no parameter fills shows as `{slot}`."""
    shape = key_shape(kv)
    text = "".join(_symbolic_part(p) for p in shape.parts)
    return f"after({text})" if shape.after else text


def scalar_binding(key_type: str, kv: ir.KeyValue) -> ir.SlotBinding:
    """The one binding of an N or B key (such a key is one bare slot)."""
    if len(kv.bindings) != 1:
        raise PlanError(f"{key_type} key {kv.template!r} must bind exactly one slot")
    return kv.bindings[0]


# --------------------------------------------------------------------------- key conditions


def prefix_slot(plan: ir.PatternPlan) -> str | None:
    """The slot a begins_with range binds (the last bound slot of an `open` begins_with)."""
    sk = plan.sk
    if sk.kind == "begins_with" and sk.values and sk.values[0].mode == "open":
        bindings = sk.values[0].bindings
        return bindings[-1].slot if bindings else None
    return None


def key_condition(plan: ir.PatternPlan, index: ir.Index | None) -> str:
    """`PK = PRODUCT#{product_id} AND begins_with(SK, VARIANT#)`: the condition, symbolic."""
    if plan.key_attributes:
        expression, names = _attribute_condition(plan)
        entries = key_entries(plan, index) if index is not None else ()
        for e in entries:
            expression = expression.replace(e.name, symbolic_key(e.value))
        for holder in sorted(names, key=len, reverse=True):
            expression = expression.replace(holder, names[holder])
        return expression
    pk_name = index.pk.name if index else "PK"
    sk_name = index.sk.name if index and index.sk else "SK"
    out = f"{pk_name} = {symbolic_key(plan.pk)}"
    sk = plan.sk
    values = [symbolic_key(v) for v in sk.values]
    if sk.kind == "eq" and values:
        out += f" AND {sk_name} = {values[0]}"
    elif sk.kind == "begins_with" and values:
        out += f" AND begins_with({sk_name}, {values[0]})"
    elif sk.kind == "between" and len(values) == 2:
        out += f" AND {sk_name} BETWEEN {values[0]} AND {values[1]}"
    elif sk.kind in SK_OPERATORS and values:
        out += f" AND {sk_name} {SK_OPERATORS[sk.kind]} {values[0]}"
    return out


def _attribute_holders(plan: ir.PatternPlan) -> list[tuple[str, list[str]]]:
    """Names and value placeholders of an attribute key condition: `#k<i>` / `:k<i>`, the
    last condition's values `:sk0` (`:sk1`) so an empty BETWEEN is caught as for strings."""
    out = []
    last = len(plan.key_attributes) - 1
    for i, c in enumerate(plan.key_attributes):
        if i == last and c.kind != "eq":
            holders = [f":sk{j}" for j in range(len(c.values))]
        else:
            holders = [f":k{i}"]
        out.append((f"#k{i}", holders))
    return out


def _attribute_condition(plan: ir.PatternPlan) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}
    parts = []
    for c, (name, holders) in zip(plan.key_attributes, _attribute_holders(plan), strict=True):
        names[name] = c.attribute
        if c.kind == "between":
            parts.append(f"{name} BETWEEN {holders[0]} AND {holders[1]}")
        elif c.kind == "begins_with":
            parts.append(f"begins_with({name}, {holders[0]})")
        else:
            parts.append(f"{name} {SK_OPERATORS[c.kind]} {holders[0]}")
    return " AND ".join(parts), names


def key_condition_expression(plan: ir.PatternPlan, index: ir.Index) -> tuple[str, dict[str, str]]:
    """The KeyConditionExpression with `#pk`/`#sk` names and `:pk`/`:sk0`/`:sk1` values (on an
    index keyed on attributes: `#k0 = :k0 AND ... AND #k2 BETWEEN :sk0 AND :sk1`)."""
    if plan.key_attributes:
        return _attribute_condition(plan)
    names = {"#pk": index.pk.name}
    expression = "#pk = :pk"
    sk = plan.sk
    if sk.kind == "none":
        return expression, names
    if index.sk is None:
        raise PlanError(f"sort-key condition on {index.name}, which has no sort key")
    names["#sk"] = index.sk.name
    if sk.kind == "between":
        expression += " AND #sk BETWEEN :sk0 AND :sk1"
    elif sk.kind == "begins_with":
        expression += " AND begins_with(#sk, :sk0)"
    else:
        expression += f" AND #sk {SK_OPERATORS[sk.kind]} :sk0"
    return expression, names


@dataclass(frozen=True)
class KeyEntry:
    """One key value a request carries: `:pk`/`:sk<i>` of a Query, or a GetItem Key attribute."""

    name: str
    type: str  # the key attribute's DynamoDB type: S, N or B
    value: ir.KeyValue
    # the value of an attribute-keyed index's key attribute: stored as the item stores the
    # attribute (`attribute_av` / the transformers' `_scalar`), never key-encoded
    native: bool = False


def key_entries(plan: ir.PatternPlan, index: ir.Index) -> tuple[KeyEntry, ...]:
    """The key values of the plan's request, in order (partition key first)."""
    if plan.key_attributes:
        holders = _attribute_holders(plan)
        return tuple(
            KeyEntry(h, c.type, ir.KeyValue("{" + c.attribute + "}", (b,)), native=True)
            for c, (_, hs) in zip(plan.key_attributes, holders, strict=True)
            for h, b in zip(hs, c.values, strict=True)
        )
    if plan.operation == "GetItem":
        out = [KeyEntry(index.pk.name, index.pk.type, plan.pk)]
        if index.sk is not None:
            if plan.sk.kind != "eq":
                raise PlanError("GetItem needs the full key (an `eq` sort-key condition)")
            out.append(KeyEntry(index.sk.name, index.sk.type, plan.sk.values[0]))
        return tuple(out)
    out = [KeyEntry(":pk", index.pk.type, plan.pk)]
    if plan.sk.kind != "none":
        if index.sk is None:
            raise PlanError(f"sort-key condition on {index.name}, which has no sort key")
        out += [KeyEntry(f":sk{i}", index.sk.type, v) for i, v in enumerate(plan.sk.values)]
    return tuple(out)


def filter_literals(model: ir.Model, plan: ir.PatternPlan) -> dict[tuple[int, int], object]:
    """Fixed values of filters on `sql:` literals: (filter index, value index) -> value.

    A filter on literals is the range condition's own bound, when the key condition had to
    include it (`modeling.compile.plans`): its parameter names are the condition's default
    names, which say which literal it compares with.
    """
    pattern = model.pattern(plan.pattern)
    out: dict[tuple[int, int], object] = {}
    if pattern is None:
        return out
    c = pattern.range
    if c is None or not c.literals or c.params:
        return out
    names = ir.default_params(c.attribute, c.op)
    t = attribute_type(model, plan.entities, c.attribute) or ir.TypeRef("string")
    for i, f in enumerate(plan.filters):
        if f.attribute != c.attribute:
            continue
        for j, p in enumerate(f.params):
            if p in names and names.index(p) < len(c.literals):
                out[(i, j)] = coerce(t.kind, c.literals[names.index(p)])
    return out


# --------------------------------------------------------------------------- requests


def _key_av(
    entry: KeyEntry,
    values: Mapping[str, Any],
    prefix: str | None,
    model: ir.Model,
    attribute_av: AttributeCodec,
) -> AV:
    if entry.type == "S" and not entry.native:
        return {"S": render_key(entry.value, values, prefix)}
    b = scalar_binding(entry.type, entry.value)
    if b.literal is not None:
        value = coerce(b.type, b.literal)
    elif b.param in values:
        value = coerce(b.type, values[b.param])
    else:
        raise PlanError(
            f"plan binds slot {{{b.slot}}} to parameter {b.param!r}, which has no value"
        )
    av = attribute_av(model, b.slot, ir.TypeRef(b.type), value)
    if entry.native and b.type == "string":  # DynamoDB refuses "" in a key condition
        av = {"S": keys.condition_text(av["S"])}
    return av


def build_request(
    model: ir.Model,
    layout: ir.Layout,
    plan: ir.PatternPlan,
    params: Mapping[str, Any],
    table_name: str,
    attribute_av: AttributeCodec,
) -> dict[str, Any]:
    """The Query (or GetItem) request of one plan for one set of parameter values.

    `attribute_av` turns non-key values (filter operands, N and B key values) into
    AttributeValues the way items store them (`modeling.sample.codec.attribute_av`).
    """
    index = layout.index(plan.index)
    if index is None:
        raise PlanError(f"plan uses unknown index {plan.index}")
    prefix = prefix_slot(plan)
    entries = key_entries(plan, index)
    avs = {e.name: _key_av(e, params, prefix, model, attribute_av) for e in entries}
    if plan.operation == "GetItem":
        return {"TableName": table_name, "Key": avs}
    expression, names = key_condition_expression(plan, index)
    vals: dict[str, AV] = dict(avs)
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": expression,
        "ScanIndexForward": plan.scan_forward,
    }
    if index.kind != "table":
        request["IndexName"] = index.name
    filters: list[str] = []
    if plan.type_filter:
        names["#type"] = layout.type_attribute
        holders = []
        for i, t in enumerate(plan.type_filter):
            vals[f":type{i}"] = {"S": t}
            holders.append(f":type{i}")
        filters.append(f"#type IN ({', '.join(holders)})")
    fixed = filter_literals(model, plan)
    for i, f in enumerate(plan.filters):
        ftype = attribute_type(model, plan.entities, f.attribute) or ir.TypeRef("string")
        names[f"#f{i}"] = f.attribute
        for j in range(0 if f.op in ir.NULL_TESTS else 2 if f.op == "between" else 1):
            if (i, j) in fixed:
                value = fixed[(i, j)]
            else:
                p = f.params[j] if j < len(f.params) else f.params[-1]
                if p not in params:
                    raise PlanError(f"filter on {f.attribute} needs parameter {p!r}")
                value = coerce(ftype.kind, params[p])
            vals[f":f{i}_{j}"] = attribute_av(model, f.attribute, ftype, value)
        if f.op == "between":
            filters.append(f"#f{i} BETWEEN :f{i}_0 AND :f{i}_1")
        elif f.op in ir.NULL_TESTS:  # NULL is stored as no attribute
            test = "attribute_not_exists" if f.op == "is_null" else "attribute_exists"
            filters.append(f"{test}(#f{i})")
        elif f.op == "begins_with":
            filters.append(f"begins_with(#f{i}, :f{i}_0)")
        else:
            filters.append(f"#f{i} {f.op} :f{i}_0")
    if filters:
        request["FilterExpression"] = " AND ".join(filters)
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = vals
    if plan.key_attributes:  # an empty begins_with prefix is no condition (keys.whole_prefix)
        return keys.whole_prefix(request)
    return request


def shard_requests(plan: ir.PatternPlan, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The Query of a sharded plan once per shard (its `:pk` with each shard's suffix, as
    `modeling.runtime.sharding` writes it); the request itself when the plan is not sharded."""
    if not plan.sharded or "KeyConditionExpression" not in request:
        return [request]
    out = []
    for shard in range(plan.sharded):
        values = dict(request["ExpressionAttributeValues"])
        values[":pk"] = {"S": values[":pk"]["S"] + sharding.shard_suffix(shard)}
        out.append({**request, "ExpressionAttributeValues": values})
    return out


def empty_range(request: Mapping[str, Any]) -> bool:
    """A Query whose sort-key BETWEEN has its lower bound above its upper bound (`> :a AND
    < :a`, `BETWEEN 5 AND 1`): it matches nothing, as in SQL, and is not sent (DynamoDB
    rejects it)."""
    if "BETWEEN" not in str(request.get("KeyConditionExpression", "")):
        return False
    values = request.get("ExpressionAttributeValues", {})
    return keys.empty_between(values.get(":sk0", {}), values.get(":sk1", {}))


def inline_key_condition(request: Mapping[str, Any], show: Callable[[AV], str]) -> str:
    """A request's key condition with its names and values written in (`PK = "A#1"` style)."""
    if "Key" in request:
        return " AND ".join(f'{k} = "{show(v)}"' for k, v in request["Key"].items())
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    expr = str(request.get("KeyConditionExpression", ""))
    for placeholder in sorted(values, key=len, reverse=True):
        expr = expr.replace(placeholder, f'"{show(values[placeholder])}"')
    for placeholder in sorted(names, key=len, reverse=True):
        expr = expr.replace(placeholder, str(names[placeholder]))
    return expr
