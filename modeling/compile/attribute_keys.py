"""Pass 6b: GSIs keyed on the items' own attributes (`layout: {gsi_keys: attributes}`).

Since November 2025 a GSI's key schema can name up to four partition-key and four sort-key
attributes of the item itself, each with its native type: numbers sort as numbers, and no
`GSI<n>PK`/`GSI<n>SK` string is written or kept in step. What DynamoDB (and DynamoDB Local,
`tests/verify/test_multi_attribute_keys.py`) enforces shapes what this pass accepts:

- a query needs equality on *every* partition-key attribute, and conditions on the sort-key
  attributes left to right, a range (or begins_with) only on the last one used, one condition
  per attribute (a half-open `>= a AND < b` is refused; BETWEEN is inclusive);
- an attribute's type is fixed for the whole table: every item that has an attribute of that
  name must store it with that type, and never as an empty string;
- an item lacking any key attribute is not on the index (sparse).

The composite key of an index is proven exact by the earlier passes (the plans' `proof`).
This pass turns a derived GSI into an attribute-keyed one only where that proof carries over
unchanged, and keeps the composite key otherwise, with an info diagnostic that says why:

- **identity / collisions:** the type-prefix literals (`ORDER#`) are not in an attribute key.
  An index of one entity type needs nothing else. Several entity types on one index (the
  compiler overloads GSIs) must key on the same slot names, as one GSI has one key schema;
  then the type attribute (`_type`, every item has it, each entity its own value) becomes the
  last partition-key attribute and each plan's key condition has `_type = '<its type>'`: a
  Query reads one type's items only, and two types' items never share a partition (as the
  composite keys' type prefixes kept them apart). Types keyed on different slots keep the
  composite key. In both cases no other entity and no relationship copy may have every key
  attribute (an item is on the index whenever it has them all; the cost model would not
  count it). `check_attribute_key_identity` re-proves this on the finished layout, as
  `checks.check_prefix_disjointness` does for composite keys.
- **slots:** every slot is a top-level attribute of a type with a fixed DynamoDB type that
  can never be empty (`integer`/`decimal` as N; `uuid`, `date`, `datetime` and a `string`
  with an enum of non-empty values or `min_length: 1` as S), typed the same on every entity
  that has an attribute of that name; at least one partition-key attribute, at most 4 + 4, no
  attribute in both. A string that may be empty keeps the index composite: DynamoDB refuses
  the whole item when a key attribute is "", so such a row could not be written at all (the
  composite key encodes "" inside its text and keeps the row). `binary` stays composite too
  (empty bytes are refused, and bytea can hold any byte, so no stand-in is exact). The TTL
  datetime is N epoch seconds, not the key text: composite.
- **order:** N and S order values as the composite encoding does: numbers numerically;
  strings as raw UTF-8 bytes, which is code point order, which is the order of the composite
  string encoding (`runtime.keys`: its escapes keep code point order) and of PostgreSQL's
  `COLLATE "C"` (where a pattern's column has another collation, `checks.check_collation`
  says so as for composite keys); `datetime` is stored as the codec's fixed-width UTC text
  `YYYY-MM-DDTHH:MM:SS.ffffffZ` (years 0001..9999, microseconds, aware values converted to
  UTC, naive ones taken as UTC: the same text the composite slot holds, so byte order is
  time order; an aware value outside those years in UTC is refused with its row by the
  transformers, and PostgreSQL's `infinity` or years past 9999 fail to load into Python
  before any key is built, as under composite keys). Several sort attributes order left to right as the
  composite concatenation does: the plans' ordering proofs hold.
- **empty parameters:** DynamoDB refuses "" as a key-condition value. A string parameter is
  sent as `keys.condition_text` (U+0000 for ""), which selects exactly what "" would: no
  stored value is "" or U+0000 alone, and U+0000 sorts right after "" (so `=`, `<`, `<=`
  match nothing and `>`, `>=` everything, as in SQL). A `begins_with` whose prefix is empty
  matches every string, and no key-condition value does that: the request is sent without
  that last condition (`keys.whole_prefix`), which leaves the other conditions, so it reads
  exactly the items the empty prefix selects.
- **NULLs:** an optional slot is fine when the composite key is already sparse on it (the
  item leaves the index in both layouts); a slot the composite fills with a NULL sentinel
  (`null_fill`, so NULLs sort first or last) would drop those items: refused.
- **patterns:** each plan on the index becomes `ir.PatternPlan.key_attributes`: equality on
  every partition attribute, equality on sort attributes left to right, then the pattern's
  range on the next one. Each is one of the pattern's own conditions, and every condition of
  the pattern is either in this key condition or already a filter of the plan: the key
  condition reads exactly the items the composite one did. `IN`, NULL tests and half-open
  ranges on a key attribute, sharded partitions, pinned keys and collection patterns (one
  Query over several types, ordered by their type prefixes; a parent lacks its children's
  sort attributes) keep the index composite.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from modeling.compile.state import Derivation
from modeling.core import ir, naming
from modeling.core.diagnostics import Diagnostic, Severity, Span
from modeling.core.errors import ModelingError
from modeling.runtime import keys

MAX_KEY_ATTRIBUTES = 4  # per partition key and per sort key (DynamoDB)
_RANGE_KINDS: dict[str, ir.SortKeyKind] = {
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "between": "between",
    "begins_with": "begins_with",
}
_HINT = (
    "nothing to do: the composite key is exact; `layout: {gsi_keys: composite}` keys every "
    "GSI on concatenated strings"
)


class Refused(ModelingError):
    """Why an index keeps its composite key (the diagnostic's message); caught in this module,
    never reaches a user as an error."""


@dataclass(frozen=True)
class Decision:
    """One GSI under `gsi_keys: attributes`: the attribute-keyed index and its plans, or why not."""

    index: str
    keyed: ir.Index | None
    plans: tuple[ir.PatternPlan, ...] = ()
    why: str | None = None


def key_type(model: ir.Model, attribute: str) -> ir.KeyType:
    """The DynamoDB type attribute `attribute` would have as a key attribute of the whole
    table, checked on every entity that has an attribute of that name; raises Refused."""
    found: ir.KeyType | None = None
    for entity in model.entities:
        a = entity.attribute(attribute)
        if a is None:
            continue
        t = _native_type(model, a)
        if found is not None and t != found:
            raise Refused(
                f"attribute {attribute!r} is {found} on one entity and {t} on {entity.name}: "
                "DynamoDB gives a key attribute one type across the table"
            )
        found = t
    if found is None:
        raise Refused(f"no entity has an attribute {attribute!r}")
    return found


def _native_type(model: ir.Model, a: ir.Attribute) -> ir.KeyType:
    kind = a.type.kind if a.type.item is None else "collection"
    if a.name == model.table.ttl:
        raise Refused(f"attribute {a.name!r} is the table's TTL attribute")
    if naming.reserved_attribute(a.name):
        raise Refused(f"attribute {a.name!r} has the name of a layout attribute")
    if kind in ("integer", "decimal"):
        return "N"
    if kind in ("uuid", "date", "datetime"):
        return "S"
    if kind == "string" and a.enum is not None and all(v != "" for v in a.enum):
        return "S"
    if kind == "string" and (a.min_length or 0) >= 1:
        return "S"
    if kind == "string":
        why = "its enum has the empty string" if a.enum else "nothing in the model rules out ''"
        raise Refused(
            f"attribute {a.name!r} is a string that can be empty ({why}): DynamoDB refuses the "
            "whole item when a key attribute is an empty string, so those rows could not be "
            "written (declare `min_length: 1` when a CHECK such as `length(col) > 0` or "
            "`col <> ''` guarantees it)"
        )
    if kind == "binary":
        raise Refused(
            f"attribute {a.name!r} is binary: DynamoDB refuses empty bytes in a key attribute "
            "and a key condition, and PostgreSQL bytea can hold any byte, so no stand-in value "
            "keeps an empty parameter exact"
        )
    raise Refused(
        f"attribute {a.name!r} is {a.type}, which has no exact native key type here "
        "(integer, decimal, uuid, date, datetime and non-empty strings do)"
    )


def key_on_attributes(model: ir.Model, state: Derivation) -> Derivation:
    if model.layout.gsi_keys != "attributes":
        return state
    decisions = [decide(model, state, i) for i in state.indexes if i.kind == "gsi"]
    keyed = {d.index: d for d in decisions if d.keyed is not None}
    indexes = tuple(keyed[i.name].keyed or i if i.name in keyed else i for i in state.indexes)
    new_plans = {p.pattern: p for d in keyed.values() for p in d.plans}
    plans = tuple(new_plans.get(p.pattern, p) for p in state.plans)
    notes = tuple(_note(model, state, d) for d in decisions)
    return replace(state, indexes=indexes, plans=plans).with_diagnostics(*notes)


def decide(model: ir.Model, state: Derivation, index: ir.Index) -> Decision:
    try:
        keyed, plans = _attribute_index(model, state, index)
    except Refused as why:
        return Decision(index.name, None, why=str(why))
    return Decision(index.name, keyed, plans)


def _shape(entity: str, ek: ir.EntityKey) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The slot names of one entity's key on an index: (partition, sort); raises Refused."""
    if ek.pinned:
        raise Refused(f"the key of {entity} on it is pinned in the model (`keys:`)")
    if ek.null_fill:
        slots = ", ".join(s for s, _ in ek.null_fill)
        raise Refused(
            f"the composite key writes a NULL {slots} as a sentinel so the item stays on the "
            "index in NULL order; an attribute key would leave those items out"
        )
    pk_slots = keys.parse_template(ek.pk).slots
    sk_slots = keys.parse_template(ek.sk).slots if ek.sk is not None else ()
    if not pk_slots:
        raise Refused(f"its partition key {ek.pk!r} is a constant, not an attribute")
    return pk_slots, sk_slots


def _schema_text(pk: Sequence[str], sk: Sequence[str]) -> str:
    return f"({', '.join(pk)} | {', '.join(sk) or '-'})"


def _attribute_index(
    model: ir.Model, state: Derivation, index: ir.Index
) -> tuple[ir.Index, tuple[ir.PatternPlan, ...]]:
    on_index = [
        (el.entity, ek)
        for el in state.entity_layouts
        for ek in el.keys
        if ek.index == index.name and not (index.sk is not None and ek.sk is None)
    ]
    if not on_index:
        raise Refused("no entity has a key on it")
    shapes = {entity: _shape(entity, ek) for entity, ek in on_index}
    if len(set(shapes.values())) > 1:
        each = ", ".join(f"{e} on {_schema_text(*shape)}" for e, shape in sorted(shapes.items()))
        raise Refused(
            f"its entity types key on different attributes ({each}): one GSI has one key "
            "schema, and an item lacking any of its attributes is not on the index"
        )
    names = tuple(sorted(shapes))
    pk_slots, sk_slots = shapes[names[0]]
    # several entity types: the type attribute joins the partition key (the discriminator the
    # composite key's type prefixes were), so a Query reads one type's items only
    discriminated = len(names) > 1
    n_pk = len(pk_slots) + discriminated
    for part, n in (("partition", n_pk), ("sort", len(sk_slots))):
        if n > MAX_KEY_ATTRIBUTES:
            extra = " with the type attribute" if discriminated and part == "partition" else ""
            raise Refused(
                f"its {part} key has {n} attributes{extra}; DynamoDB allows {MAX_KEY_ATTRIBUTES}"
            )
    if len(set(pk_slots + sk_slots)) != len(pk_slots + sk_slots):
        raise Refused("an attribute appears twice in its key")
    types: dict[str, ir.KeyType] = {}
    for entity_name, ek in on_index:
        entity = model.entity(entity_name)
        assert entity is not None
        for slot in pk_slots + sk_slots:
            a = entity.attribute(slot)
            if a is None:
                raise Refused(f"slot {{{slot}}} is not an attribute of {entity_name}")
            if not a.required and slot not in ek.sparse_on:
                raise Refused(
                    f"optional attribute {slot!r} of {entity_name} is not a sparse slot of the "
                    "composite key"
                )
            types[slot] = key_type(model, slot)
    # an item is on an attribute-keyed index when it has every key attribute, whatever its
    # type: another entity (or a relationship copy) with all of them would put its items there
    # too, which the cost model does not count and, without the type attribute, reads return
    every = pk_slots + sk_slots
    for other in model.entities:
        if other.name not in names and all(other.attribute(s) for s in every):
            raise Refused(
                f"{other.name} also has every key attribute ({', '.join(every)}): "
                "its items would be on the index too"
            )
    for c in state.copies:
        held = set(c.slots) | {name for _, name in c.ref}
        if all(s in held for s in every):
            raise Refused(
                f"the relationship copies {c.name} of {c.entity} hold every key attribute "
                f"({', '.join(every)}): they would be on the index too"
            )
    type_values = {el.entity: el.type_value for el in state.entity_layouts}
    if discriminated:
        types[naming.TYPE_ATTRIBUTE] = "S"
        pk_slots = (*pk_slots, naming.TYPE_ATTRIBUTE)
    plans = tuple(
        _plan(model, p, pk_slots, sk_slots, types, type_values if discriminated else None)
        for p in state.plans
        if p.index == index.name
    )
    keyed = replace(
        index,
        pk=ir.KeyAttribute(pk_slots[0], types[pk_slots[0]]),
        sk=ir.KeyAttribute(sk_slots[0], types[sk_slots[0]]) if sk_slots else None,
        pk_attributes=tuple(ir.KeyAttribute(s, types[s]) for s in pk_slots),
        sk_attributes=tuple(ir.KeyAttribute(s, types[s]) for s in sk_slots),
    )
    return keyed, plans


def _binding(model: ir.Model, plan: ir.PatternPlan, c: ir.Condition, i: int = 0) -> ir.SlotBinding:
    kind = _kind(model, plan, c.attribute)
    if c.literals:
        return ir.SlotBinding(c.attribute, c.attribute, kind, c.literals[i])
    return ir.SlotBinding(c.attribute, c.param_names[i], kind)


def _kind(model: ir.Model, plan: ir.PatternPlan, attribute: str) -> str:
    for name in plan.entities:
        e = model.entity(name)
        a = e.attribute(attribute) if e is not None else None
        if a is not None:
            return a.type.kind
    return "string"


def _plan(
    model: ir.Model,
    plan: ir.PatternPlan,
    pk_slots: Sequence[str],
    sk_slots: Sequence[str],
    types: dict[str, ir.KeyType],
    type_values: dict[str, str] | None = None,
) -> ir.PatternPlan:
    """The plan on the attribute-keyed index; `type_values` (entity -> its type attribute
    value) when the type attribute is the index's last partition attribute."""
    pattern = model.pattern(plan.pattern)
    if pattern is None:  # pragma: no cover - every plan is a pattern's
        raise Refused(f"pattern {plan.pattern!r} is unknown")
    if plan.sharded:
        raise Refused(f"pattern {plan.pattern!r} reads a sharded partition")
    if plan.type_filter or len(plan.entities) != 1:
        raise Refused(
            f"pattern {plan.pattern!r} reads {', '.join(plan.entities)} in one Query: the "
            "composite key orders them by their type prefixes, which an attribute key does "
            "not have (and a parent lacks its children's sort attributes)"
        )
    by_attr: dict[str, ir.Condition] = {}
    for w in pattern.where:
        if w.attribute in by_attr:
            raise Refused(f"pattern {plan.pattern!r} has two conditions on {w.attribute!r}")
        by_attr[w.attribute] = w
    conds: list[ir.AttributeCondition] = []
    for slot in pk_slots:
        if slot == naming.TYPE_ATTRIBUTE and type_values is not None:
            value = type_values[plan.entities[0]]
            binding = ir.SlotBinding(slot, slot, "string", value)
            conds.append(ir.AttributeCondition(slot, "S", "eq", (binding,)))
            continue
        pc = by_attr.get(slot)
        if pc is None or pc.op != "=":
            how = "no condition" if pc is None else f"`{pc.op}`"
            raise Refused(
                f"pattern {plan.pattern!r} has {how} on partition attribute {slot!r}; "
                "a query needs equality on every partition attribute"
            )
        conds.append(ir.AttributeCondition(slot, types[slot], "eq", (_binding(model, plan, pc),)))
    for slot in sk_slots:
        c = by_attr.get(slot)
        if c is None:
            break
        if c.op == "=":
            conds.append(
                ir.AttributeCondition(slot, types[slot], "eq", (_binding(model, plan, c),))
            )
            continue
        if c.op in _RANGE_KINDS:
            if c.op == "between" and c.bounds != ir.INCLUSIVE:
                raise Refused(
                    f"pattern {plan.pattern!r} has a half-open range on {slot!r}; DynamoDB "
                    "takes one condition per key attribute and BETWEEN is inclusive"
                )
            if c.op == "begins_with" and types[slot] != "S":
                raise Refused(f"pattern {plan.pattern!r} has begins_with on number {slot!r}")
            if c.op == "begins_with" and c.literals and c.literals[0] == "":
                raise Refused(f"pattern {plan.pattern!r} has begins_with '' on {slot!r}")
            n = 2 if c.op == "between" else 1
            values = tuple(_binding(model, plan, c, i) for i in range(n))
            conds.append(ir.AttributeCondition(slot, types[slot], _RANGE_KINDS[c.op], values))
        break  # a range (or an IN / NULL test) ends the key condition
    used = {k.attribute for k in conds}
    filtered = {f.attribute for f in plan.filters}
    lost = [c.attribute for c in pattern.where if c.attribute not in used | filtered]
    if lost:
        raise Refused(
            f"pattern {plan.pattern!r}: the condition on {', '.join(lost)} is in the composite "
            "key but cannot be in an attribute key condition (left to right, one range last)"
        )
    # a filter repeating a condition now in the key is dropped; DynamoDB refuses a filter on
    # any key attribute of the index, so one on another key attribute keeps the index composite
    filters = tuple(f for f in plan.filters if f.attribute not in used)
    keyed = [f.attribute for f in filters if f.attribute in (*pk_slots, *sk_slots)]
    if keyed:
        raise Refused(
            f"pattern {plan.pattern!r} filters on {', '.join(keyed)}, a key attribute of the "
            "index, which DynamoDB does not allow in a FilterExpression"
        )
    key_text = " AND ".join(_condition_text(k) for k in conds)
    holds = (
        f"the type attribute selects {plan.entities[0]} items only (each entity has its own "
        "type value)"
        if type_values is not None
        else f"the index holds only {', '.join(plan.entities)} items"
    )
    proof = (
        *plan.proof,
        f"keyed on attributes: {key_text}; {holds}, each other condition is one of the "
        "pattern's, the others are filters, and N/S attributes order as the composite key did",
    )
    estimate = plan.read_estimate
    if estimate is not None and estimate.filters:
        kept = tuple(a for a in estimate.filters if a not in used)
        estimate = replace(estimate, filters=kept) if kept or estimate.dropped else None
    return replace(
        plan, key_attributes=tuple(conds), filters=filters, proof=proof, read_estimate=estimate
    )


def _condition_text(c: ir.AttributeCondition) -> str:
    names = [f":{b.param}" if b.literal is None else repr(b.literal) for b in c.values]
    if c.kind == "eq":
        return f"{c.attribute} = {names[0]}"
    if c.kind == "between":
        return f"{c.attribute} BETWEEN {names[0]} AND {names[1]}"
    if c.kind == "begins_with":
        return f"begins_with({c.attribute}, {names[0]})"
    ops = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    return f"{c.attribute} {ops[c.kind]} {names[0]}"


def _note(model: ir.Model, state: Derivation, d: Decision) -> Diagnostic:
    patterns = sorted(p.pattern for p in state.plans if p.index == d.index)
    pattern = model.pattern(patterns[0]) if patterns else None
    span = pattern.span if pattern is not None else None
    if d.keyed is not None:
        schema = ", ".join(f"{k.name} ({k.type}, HASH)" for k in d.keyed.pk_attributes)
        schema += "".join(f", {k.name} ({k.type}, RANGE)" for k in d.keyed.sk_attributes)
        return Diagnostic(
            "gsi-on-attributes",
            Severity.INFO,
            f"{d.index} is keyed on the items' own attributes: {schema}; no synthetic key "
            f"attribute is written (patterns: {', '.join(patterns) or 'none'}). NoSQL "
            "Workbench models one partition and one sort key attribute per index: "
            "workbench.json leaves this index out",
            span,
            "an item missing any of these attributes is not on the index",
            d.index,
        )
    return Diagnostic(
        "gsi-kept-composite",
        Severity.INFO,
        f"{d.index} keeps its composite key under `gsi_keys: attributes`: {d.why}",
        span,
        _HINT,
        d.index,
    )


def check_attribute_key_conditions(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """Every plan on an attribute-keyed index sends a key condition DynamoDB accepts: equality
    on each partition attribute, sort attributes left to right, a range only last, one
    condition per attribute, values of the attribute's type."""
    for plan in layout.plans:
        index = layout.index(plan.index)
        if index is None or not (index.on_attributes or plan.key_attributes):
            continue
        problem = attribute_condition_problem(index, plan.key_attributes)
        if problem is not None:
            pattern = model.pattern(plan.pattern)
            yield Diagnostic(
                "invalid-key-condition",
                Severity.ERROR,
                f"pattern {plan.pattern!r}: DynamoDB would reject its Query on {index.name}: "
                f"{problem}",
                pattern.span if pattern is not None else None,
                "`layout: {gsi_keys: composite}` keys the index on concatenated strings",
                plan.pattern,
            )


def check_attribute_key_identity(layout: ir.Layout, model: ir.Model) -> Iterator[Diagnostic]:
    """The collision proof of an attribute-keyed index (its composite templates are not what
    is written, so `checks.check_prefix_disjointness` says nothing about it): an index holding
    several entity types has the type attribute among its partition attributes, and every plan
    on it sends equality on it with its own entity's type value."""
    type_values = {el.entity: el.type_value for el in layout.entities}
    for index in layout.indexes:
        if not index.on_attributes:
            continue
        names = sorted(
            el.entity
            for el in layout.entities
            if (k := el.key(index.name)) is not None and not (index.sk is not None and k.sk is None)
        )
        if len(names) < 2:
            continue
        if naming.TYPE_ATTRIBUTE not in [k.name for k in index.pk_attributes]:
            yield Diagnostic(
                "key-collision",
                Severity.ERROR,
                f"{', '.join(names)} are all on {index.name}, which is keyed on attributes "
                f"without the type attribute {naming.TYPE_ATTRIBUTE}: their items can have the "
                "same key and a Query reads them all",
                _model_span(model),
                "`layout: {gsi_keys: composite}`, or recompile: the compiler adds the type "
                "attribute to such an index's partition key",
                index.name,
            )
            continue
        for plan in layout.plans:
            if plan.index != index.name:
                continue
            want = ir.SlotBinding(
                naming.TYPE_ATTRIBUTE, naming.TYPE_ATTRIBUTE, "string",
                type_values.get(plan.entities[0], "?"),
            )  # fmt: skip
            ok = len(plan.entities) == 1 and any(
                c.attribute == naming.TYPE_ATTRIBUTE and c.kind == "eq" and c.values == (want,)
                for c in plan.key_attributes
            )
            if not ok:
                pattern = model.pattern(plan.pattern)
                yield Diagnostic(
                    "key-collision",
                    Severity.ERROR,
                    f"pattern {plan.pattern!r} reads {index.name}, which holds {', '.join(names)}, "
                    f"without `{naming.TYPE_ATTRIBUTE} = {want.literal!r}` in its key condition: "
                    "it would return the other types' items",
                    pattern.span if pattern is not None else None,
                    "`layout: {gsi_keys: composite}`, or recompile",
                    plan.pattern,
                )


def _model_span(model: ir.Model) -> Span | None:
    return Span(model.file) if model.file else None


def attribute_condition_problem(
    index: ir.Index, conds: Sequence[ir.AttributeCondition]
) -> str | None:
    """Why `conds` is not a key condition DynamoDB takes on `index`; None when it is."""
    if not index.on_attributes:
        return f"{index.name} is not keyed on attributes"
    n = len(index.pk_attributes)
    head = [(c.attribute, c.type, c.kind) for c in conds[:n]]
    if head != [(k.name, k.type, "eq") for k in index.pk_attributes]:
        return "it needs equality on every partition-key attribute, in key order"
    rest = conds[n:]
    if len(rest) > len(index.sk_attributes):
        return "more sort-key conditions than sort-key attributes"
    for i, (c, k) in enumerate(zip(rest, index.sk_attributes, strict=False)):
        if (c.attribute, c.type) != (k.name, k.type):
            return f"sort-key condition {i + 1} is on {c.attribute}, not {k.name} ({k.type})"
        if c.kind != "eq" and i != len(rest) - 1:
            return f"a range on {c.attribute} before the last sort-key condition"
        if c.kind == "begins_with" and c.type != "S":
            return f"begins_with on {c.attribute}, which is {c.type}"
        if len(c.values) != (2 if c.kind == "between" else 1):
            return f"{c.kind} on {c.attribute} with {len(c.values)} values"
    return None
