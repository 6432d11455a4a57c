"""Pass 5: one plan per access pattern, with the argument that its key condition is exact.

Sort-key conditions are built from render modes (see `ir.RenderMode`) so that a range stays
inside the entity's own sort-key space: `created_at >= :since` under `ORDER#{created_at}#{id}`
becomes `SK >= "ORDER#<since>"` when nothing sorts above `ORDER#` in the partition, else
`SK BETWEEN "ORDER#<since>" AND "ORDER$"` (the successor of the prefix). When another entity
type may still fall inside the range, the plan lists the type values the client keeps.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from modeling.compile import key_languages, templates
from modeling.compile.state import TABLE, Derivation, Unit
from modeling.core import ir
from modeling.core.diagnostics import Diagnostic, Severity
from modeling.core.key_parts import always_empty
from modeling.runtime import keys as codec

READ_COST = (
    "applied after the key condition: every item the key condition matches is read and "
    "billed (1 RCU per 4 KB, strongly consistent; half that eventually consistent), "
    "then dropped if it fails the filter"
)


def _param(cond: ir.Condition, i: int = 0) -> str:
    """The bind-parameter name (the loader's defaults: the attribute; `_from`/`_to` for
    between). A condition on SQL literals is named like its default parameter. An `IN` binds
    its slot to one value per Query (`ir.in_value_param`)."""
    if cond.op == ir.IN:
        return ir.in_value_param(cond.attribute)
    if len(cond.params) > i:
        return cond.params[i]
    if cond.op == "between":
        return f"{cond.attribute}_{'from' if i == 0 else 'to'}"
    return cond.attribute


def _literal(cond: ir.Condition, i: int = 0) -> str | int | float | bool | None:
    if cond.op == ir.IN:
        return None  # one Query per value: the value is a parameter of each
    return cond.literals[i] if not cond.params and len(cond.literals) > i else None


def _binding(
    entity: ir.Entity, slot: str, param: str, literal: str | int | float | bool | None = None
) -> ir.SlotBinding:
    attr = entity.attribute(slot)
    return ir.SlotBinding(slot, param, attr.type.kind if attr else "string", literal)


def _is_terminal(template: str, slot: str) -> bool:
    """Whether `slot` ends the template (no literal text or slot after it)."""
    return template.endswith("{" + slot + "}")


class _IndexKeys:
    """The entity keys on one index, with their partition keys' literal prefixes (built once
    per index, not per pattern: thousands of entities times thousands of patterns)."""

    def __init__(self, state: Derivation, index: str) -> None:
        self.keys: dict[str, ir.EntityKey] = {}
        for layout in state.entity_layouts:
            key = layout.key(index)
            if key is not None:
                self.keys[layout.entity] = key
        self.by_prefix: dict[str, list[str]] = {}
        for e, k in self.keys.items():
            self.by_prefix.setdefault(templates.literal_prefix(k.pk), []).append(e)
        self.prefixes = sorted(self.by_prefix)
        self._owners: _Owners | None = None

    def owners(self, model: ir.Model) -> _Owners:
        """`owners_by_key(model)`, built on first use (only plans that drop types need it)."""
        if self._owners is None:
            self._owners = owners_by_key(model)
        return self._owners

    def candidates(self, pk: str) -> list[str]:
        """Entities whose partition-key prefix is compatible with `pk`'s."""
        literal = templates.literal_prefix(pk)
        out = [e for k in range(len(literal)) for e in self.by_prefix.get(literal[:k], ())]
        # the prefixes starting with `literal` follow it in sorted order (indexed from the
        # bisection: an islice would walk the list from its start, n^2 over the patterns)
        at = bisect.bisect_left(self.prefixes, literal)
        while at < len(self.prefixes) and self.prefixes[at].startswith(literal):
            out.extend(self.by_prefix[self.prefixes[at]])
            at += 1
        return out


class _Context:
    def __init__(
        self,
        model: ir.Model,
        state: Derivation,
        pattern: ir.AccessPattern,
        index: str,
        keys: _IndexKeys | None = None,
        kinds: dict[str, dict[str, str]] | None = None,
    ):
        self.model = model
        self.state = state
        self.pattern = pattern
        self.index = index
        self.index_keys = keys or _IndexKeys(state, index)
        self.keys = self.index_keys.keys
        self._kinds = kinds if kinds is not None else {}

    def kinds(self, entity: str) -> dict[str, str]:
        """Slot kinds of `entity`'s templates: attribute -> kind."""
        if entity not in self._kinds:
            e = self.model.entity(entity)
            self._kinds[entity] = {a.name: a.type.kind for a in e.attributes} if e else {}
        return self._kinds[entity]

    def sharing(self, entity: str) -> list[str]:
        """Entities whose partition key on this index can equal `entity`'s."""
        pk, kinds = self.keys[entity].pk, self.kinds(entity)
        # an entity shares its own partition (a template meets itself: `may_coincide`)
        return sorted(
            e
            for e in self.index_keys.candidates(pk)
            if e == entity or templates.may_coincide(self.keys[e].pk, pk, self.kinds(e), kinds)
        )


def _eq_conditions(pattern: ir.AccessPattern) -> dict[str, ir.Condition]:
    return {c.attribute: c for c in pattern.where if not c.is_range}


def _eq_bind(entity: ir.Entity, pattern: ir.AccessPattern, slot: str) -> ir.SlotBinding:
    cond = _eq_conditions(pattern)[slot]
    return _binding(entity, slot, _param(cond), _literal(cond))


def _sk_condition(
    pattern: ir.AccessPattern,
    entity: ir.Entity,
    key: ir.EntityKey,
    pk_slots: tuple[str, ...],
    bounded: bool = False,
) -> tuple[ir.SortKeyCondition, str | None, list[str]]:
    """(condition, side left open to other types (below/above), proof lines) for a single-entity pattern.

    `bounded`: other types sort on the open side of a one-sided range, so close it at the end
    of the entity's prefix (a BETWEEN, plus a residual filter when the bound is strict) rather
    than read and drop them."""
    template = key.sk
    if template is None:
        return (
            ir.SortKeyCondition(),
            None,
            ["the index has no sort key: the partition is the answer"],
        )
    sk_slots = templates.slots(template)
    eq = _eq_conditions(pattern)
    # the leading sort-key slots the pattern binds by `=`, including slots the partition key
    # binds too (a pinned `#METADATA#{player_id}` under `{player_id}`): the key condition then
    # names the item itself instead of every item of the partition
    bound = []
    for s in sk_slots:
        if s not in eq:
            break
        bound.append(s)
    eq_bind = tuple(_eq_bind(entity, pattern, s) for s in bound)
    rng = pattern.range
    literal = templates.literal_prefix(template)
    if rng is None:
        if len(bound) == len(sk_slots):
            value = ir.KeyValue(template, eq_bind, "full")
            return (
                ir.SortKeyCondition("eq", (value,)),
                None,
                [f"sort key = {template} with every slot bound: exactly one item key"],
            )
        value = ir.KeyValue(template, eq_bind, "prefix")
        if always_empty(value):
            # `{a}#...` with {a} unbound: the prefix is "", which every sort key starts with,
            # and DynamoDB rejects an empty key value; the partition alone is the answer
            lines = [
                f"the sort key {template} starts with the unbound slot "
                f"{{{sk_slots[len(bound)]}}}: begins_with on its empty prefix would select every "
                "item of the partition (and DynamoDB rejects an empty key value), so the Query "
                "has no sort-key condition"
            ]
            if pattern.order_by and pattern.order_by not in eq:
                lines.append(
                    f"{pattern.order_by} is the first sort-key slot, so items come ordered "
                    "by it (order-preserving slot codec)"
                )
            return ir.SortKeyCondition(), None, lines
        lines = [
            f"begins_with(sort key, {template} rendered up to the first unbound slot): the "
            f"items of {entity.name} whose bound slots equal the parameters"
        ]
        if pattern.order_by and pattern.order_by not in eq:
            lines.append(
                f"{pattern.order_by} is the first unbound sort-key slot, so items come "
                f"ordered by it (order-preserving slot codec)"
            )
        return ir.SortKeyCondition("begins_with", (value,)), None, lines
    r = rng.attribute
    x = _binding(entity, r, _param(rng), _literal(rng))
    with_x = (*eq_bind, x)
    terminal = _is_terminal(template, r)
    above = ir.KeyValue(template, eq_bind, "after")
    lines = [
        f"{r} is the sort-key slot right after the bound ones, and the slot codec preserves "
        f"order, so comparing sort keys compares {r} within the prefix {literal!r}"
    ]
    op = rng.op
    if op == "begins_with":
        value = ir.KeyValue(template, with_x, "open")
        if always_empty(value):  # `LIKE '%'` on a sort key that is only {r}: every item
            return (
                ir.SortKeyCondition(),
                None,
                [
                    *lines,
                    f"begins_with({r}, '') holds for every item of the partition (and DynamoDB "
                    "rejects an empty key value), so the Query has no sort-key condition",
                ],
            )
        cond = ir.SortKeyCondition("begins_with", (value,))
        lines.append(f"begins_with on the escaped string prefix of {r}")
        if pattern.sql is not None and rng.params:
            lines.append(
                f"exact for values of :{rng.params[0]} without %, _ or \\: the SQL's LIKE reads "
                "them as wildcards or escapes, begins_with as characters (pass the prefix "
                "unescaped)"
            )
        return cond, None, lines
    if op == "between":
        return _between(
            template, eq_bind, x, _binding(entity, r, _param(rng, 1), _literal(rng, 1)), rng, lines
        )
    if op == ">" and terminal and (eq_bind or bounded) and not always_empty(above):
        # Inclusive BETWEEN from the bound value to the end of the bound prefix; the items
        # equal to the bound (their key is exactly the low value) are dropped by a filter.
        # (An open `SK > x` would also read every other type sorting above the prefix.)
        cond = ir.SortKeyCondition("between", (ir.KeyValue(template, with_x, "full"), above))
        return cond, None, [*lines, _RESIDUAL_NOTE.format(r=r)]
    if op == ">" and terminal:
        cond = ir.SortKeyCondition("gt", (ir.KeyValue(template, with_x, "full"),))
        return (
            cond,
            "above",
            [
                *lines,
                "no upper bound in the key condition: other types above the prefix are dropped by type",
            ],
        )
    if op in (">=", ">"):
        lo = ir.KeyValue(template, with_x, "open" if op == ">=" else "after")
        if always_empty(above):
            # no literal text and no bound slot before {r}: nothing bounds the entity's keys
            # from above (the successor of "" does not exist), so the range is open upward
            return (
                ir.SortKeyCondition("ge", (lo,)),
                "above",
                [
                    *lines,
                    f"the sort key {template} starts with {{{r}}}: no upper bound in the key "
                    "condition, other types above it are dropped by type",
                ],
            )
        # bounded above by the successor of the entity's prefix: no other type leaks in
        return (
            ir.SortKeyCondition("between", (lo, above)),
            None,
            [
                *lines,
                f"upper bound: the successor of the bound prefix, so only {entity.name} keys match",
            ],
        )
    low = ir.KeyValue(template, eq_bind, "prefix")
    if eq_bind or (bounded and not always_empty(low)):
        # Bounded below by the literal and equality-bound prefix, so only this prefix's items
        # are read (an open `SK < x` would also read every other type sorting below it).
        if op == "<=":
            high = ir.KeyValue(template, with_x, "full" if terminal else "after")
        else:
            high = ir.KeyValue(template, with_x, "open")
        lines.append(
            "lower bound: the bound prefix; upper bound: "
            + ("the key prefix at the bound value" if op == "<" else "just past the bound value")
        )
        if op == "<" and terminal:
            lines.append(_RESIDUAL_NOTE.format(r=r))
        return ir.SortKeyCondition("between", (low, high)), None, lines
    # No equality-bound sk slot: lt/le, and the client drops other types sorting below.
    if op == "<=" and terminal:
        cond = ir.SortKeyCondition("le", (ir.KeyValue(template, with_x, "full"),))
    elif op == "<=":
        cond = ir.SortKeyCondition("lt", (ir.KeyValue(template, with_x, "after"),))
    else:
        cond = ir.SortKeyCondition("lt", (ir.KeyValue(template, with_x, "open"),))
    return (
        cond,
        "below",
        [
            *lines,
            "no lower bound in the key condition: other types below the prefix are dropped by type",
        ],
    )


def _between(
    template: str,
    eq_bind: tuple[ir.SlotBinding, ...],
    lo: ir.SlotBinding,
    hi: ir.SlotBinding,
    rng: ir.Condition,
    lines: list[str],
) -> tuple[ir.SortKeyCondition, str | None, list[str]]:
    """A range with two bounds, each inclusive or exclusive (`>= :a AND < :b`), as one
    BETWEEN. An exclusive bound is exact in the key where a key can sort just past (below)
    every key with the bound value: before literal text (`after` the value's prefix; the
    value's prefix itself). When the range slot ends the key, the key at the bound value is
    included and a filter drops it (`_residual`)."""
    r = rng.attribute
    low_op, high_op = rng.bounds
    terminal = _is_terminal(template, r)
    with_lo, with_hi = (*eq_bind, lo), (*eq_bind, hi)
    if low_op == ">=":
        lo_value, lo_text = (
            ir.KeyValue(template, with_lo, "open"),
            "the key prefix at the low value",
        )
    elif terminal:
        lo_value = ir.KeyValue(template, with_lo, "full")
        lo_text = f"the key at the low value (included by BETWEEN; a filter on {r} > drops it)"
    else:
        lo_value = ir.KeyValue(template, with_lo, "after")
        lo_text = "just past every key with the low value (exclusive)"
    if high_op == "<=":
        hi_value = ir.KeyValue(template, with_hi, "full" if terminal else "after")
        hi_text = (
            "the full key at the high value"
            if terminal
            else "just past every key with the high value"
        )
    elif terminal:
        hi_value = ir.KeyValue(template, with_hi, "full")
        hi_text = f"the key at the high value (included by BETWEEN; a filter on {r} < drops it)"
    else:
        hi_value = ir.KeyValue(template, with_hi, "open")
        hi_text = "the key prefix at the high value, below every key with it (exclusive)"
    return (
        ir.SortKeyCondition("between", (lo_value, hi_value)),
        None,
        [
            *lines,
            f"{r} {low_op} :{lo.param} AND {r} {high_op} :{hi.param}: lower bound: {lo_text}; "
            f"upper bound: {hi_text}",
        ],
    )


_RESIDUAL_NOTE = (
    "BETWEEN is inclusive: items whose {r} equals the bound match the key condition and are "
    "dropped by a filter on {r} (reads at most those items)"
)
RESIDUAL_COST = "drops only the items equal to the bound of the inclusive key condition"


def _residual(
    pattern: ir.AccessPattern, sk: ir.SortKeyCondition, proof: list[str]
) -> tuple[ir.FilterCondition, ...]:
    """The strict range condition, as a filter, when the key condition had to include its bound."""
    rng = pattern.range
    if rng is not None and rng.op == "between":
        if sk.kind != "between":
            return ()
        return tuple(
            ir.FilterCondition(rng.attribute, op, (_param(rng, i),), RESIDUAL_COST)
            for i, (op, kv) in enumerate(zip(rng.bounds, sk.values, strict=True))
            if op in (">", "<") and kv.mode == "full"
        )
    if rng is None or not any(line == _RESIDUAL_NOTE.format(r=rng.attribute) for line in proof):
        return ()
    return (ir.FilterCondition(rng.attribute, rng.op, (_param(rng),), RESIDUAL_COST),)


def copy_sort_key(
    pattern: ir.AccessPattern, entity: ir.Entity, template: str
) -> tuple[ir.SortKeyCondition, list[str], tuple[ir.FilterCondition, ...]]:
    """The pattern's sort-key condition on a key of `entity` outside the derivation whose sort
    key is `template` (a relationship copy, `modeling.compile.copies`), closed at both ends of
    its literal prefix: (condition, proof lines, the residual filters a strict bound at the
    end of the key needs). The same rules, render modes and proof as every other plan."""
    key = ir.EntityKey(TABLE, "", template)
    sk, _, lines = _sk_condition(pattern, entity, key, (), bounded=True)
    return sk, lines, _residual(pattern, sk, lines)


def _may_match(ctx: _Context, sk: ir.SortKeyCondition, ours: str, other: str, literal: str) -> bool:
    """Can `other`'s sort key fall inside our key condition's own range (our sort key
    `ours`, literal prefix `literal`)?"""
    theirs = ctx.keys[other].sk
    if theirs is None or not ours:
        return True
    if sk.kind == "eq":
        name = ctx.pattern.entities[0]
        return templates.may_coincide(ours, theirs, ctx.kinds(name), ctx.kinds(other))
    if templates.is_constant(theirs):
        return theirs.startswith(literal)
    return templates.comparable(templates.literal_prefix(theirs), literal)


def _single_plan(ctx: _Context, unit: Unit) -> ir.PatternPlan:
    pattern = ctx.pattern
    name = unit.requirements[0].entity
    entity = ctx.model.entity(name)
    assert entity is not None
    key = ctx.keys[name]
    pk_slots = templates.slots(key.pk)
    pk = ir.KeyValue(key.pk, tuple(_eq_bind(entity, pattern, s) for s in pk_slots), "full")
    sharing = ctx.sharing(name)
    others = [e for e in sharing if e != name]
    literal = templates.literal_prefix(key.sk) if key.sk else ""
    for bounded in (False, True):
        sk, open_side, sk_lines = _sk_condition(ctx.pattern, entity, key, pk_slots, bounded)
        clash = [e for e in others if _may_match(ctx, sk, key.sk or "", e, literal)]
        below = [
            e
            for e in others
            if e not in clash and templates.literal_prefix(ctx.keys[e].sk or "") < literal
        ]
        above = [e for e in others if e not in clash and e not in below]
        leak = below if open_side == "below" else above if open_side == "above" else []
        if not leak:
            break  # else: close the open side, if the prefix allows it
    typed = _typed_range(ctx, name, key, sk, others)
    if typed is not None:
        # the sort-key range of the leading slot's kind: only the types that may start the
        # same way are still read (and dropped by type)
        read = set(others) if sk.kind == "none" else set(clash) | set(leak)
        sk, excluded, lines = typed
        sk_lines = [*sk_lines, *lines]
        clash = [e for e in others if e in read and e not in excluded]
        leak = []
    needs_filter = bool(clash) or bool(leak)
    if sk.kind == "none" and others:
        needs_filter = True
    get_item = (
        ctx.index == TABLE
        and sk.kind in ("eq", "none")
        and pattern.range is None
        and sk.kind == "eq"
    )
    proof = [
        f"partition key = {key.pk}: "
        + (", ".join(f"{b.slot} = :{b.param}" for b in pk.bindings) or "a constant partition")
        + "; partition shared on this index by: "
        + ", ".join(sharing),
        *sk_lines,
    ]
    if needs_filter:
        proof.append(
            f"other types may match the key condition ({', '.join(clash or leak or others)}): client keeps {ctx.state.prefixes[name]} items by {name!r} type"
        )
    elif others:
        proof.append(
            f"no other type's sort key on {ctx.index} starts with {literal!r}: only {name} items match"
        )
    proof += _null_lines(ctx, name, key)
    if set(_eq_conditions(pattern)) - set(pk_slots) - set(templates.slots(key.sk or "")):
        proof.append(
            "WARNING: equality attributes outside the key"
        )  # pragma: no cover - fits() forbids it
    dropped = tuple(clash or leak or others) if needs_filter else ()
    return _plan(
        ctx,
        pattern.entities,
        "GetItem" if get_item else "Query",
        pk,
        sk,
        (name,) if needs_filter else (),
        proof,
        dropped,
    )


def _typed_range(
    ctx: _Context,
    name: str,
    key: ir.EntityKey,
    sk: ir.SortKeyCondition,
    others: list[str],
) -> tuple[ir.SortKeyCondition, list[str], list[str]] | None:
    """A sort key that starts with a slot, not literal text, still has a range its items
    fall in when the slot's kind fixes the first character (a datetime, date or integer
    starts with a digit, a uuid with a hex digit): `between(first, after(last))`, narrowed by
    the pattern's own one-sided bound. Used when it leaves out other types of the partition
    whose sort keys start otherwise (a profile under `A` or `PROFILE`), which a condition on
    the bare slot (or none) would read and drop. Returns (condition, excluded types, proof
    lines), or None. Not when the slot may hold a NULL sentinel (`!`/`~` lie outside)."""
    if not others or not key.sk or sk.kind not in ("none", "ge", "gt", "le"):
        return None
    parts = codec.parse_template(key.sk).parts
    first = parts[0] if parts else None
    if not isinstance(first, codec.Slot) or any(s == first.attribute for s, _ in key.null_fill):
        return None
    kind = ctx.kinds(name).get(first.attribute)
    chars = key_languages.first_chars(kind)
    if chars is None:
        return None
    # BETWEEN first AND after(last) holds every key starting with a character from first to
    # last (not only the kind's own: `0`..`f` holds `A`..`Z` too) and the one key after(last)
    first_char, last_char = min(chars), max(chars)
    span = frozenset(chr(c) for c in range(ord(first_char), ord(last_char) + 1))
    end = codec.after(last_char)
    if end in "{}":
        return None  # not a literal template (no kind ends there; kept for safety)
    excluded = [
        e
        for e in others
        if ctx.keys[e].sk is not None
        and not key_languages.may_start_with(ctx.keys[e].sk or "", span, ctx.kinds(e))
        and not key_languages.may_equal(ctx.keys[e].sk or "", end, ctx.kinds(e), {})
    ]
    if not excluded:
        return None
    low = ir.KeyValue(first_char, (), "full")
    high = ir.KeyValue(last_char, (), "after")
    if sk.kind == "none":
        cond = ir.SortKeyCondition("between", (low, high))
    elif sk.kind == "le":
        cond = ir.SortKeyCondition("between", (low, sk.values[0]))
    else:  # ge / gt: from the pattern's bound (gt: a filter drops the bound, see below)
        cond = ir.SortKeyCondition("between", (sk.values[0], high))
    line = (
        f"instead: the sort key starts with {{{first.attribute}}}, a {kind}, whose encoding starts with "
        f"one of {''.join(sorted(chars))!r}: the key condition stays between {first_char!r} "
        f"and after({last_char!r}), which leaves out {', '.join(excluded)} (their sort keys "
        "start otherwise)"
    )
    lines = [line]
    if sk.kind == "gt" and ctx.pattern.range is not None:
        lines.append(_RESIDUAL_NOTE.format(r=ctx.pattern.range.attribute))
    return cond, excluded, lines


def _null_lines(ctx: _Context, entity: str, key: ir.EntityKey) -> list[str]:
    """What happens to items whose optional key slots are NULL, and why that is exact."""
    pattern = ctx.pattern
    conds = {c.attribute: c for c in pattern.where}
    lines = []
    for slot in key.sparse_on:
        cond = conds.get(slot)
        if cond is not None:
            lines.append(
                f"sparse on {slot}: {entity} rows with {slot} NULL have no {ctx.index} key and "
                f"are left out; exact, because {slot} {cond.op} ... is never true for NULL "
                "(SQL compares NULL as unknown)"
            )
        else:
            lines.append(
                f"sparse on {slot}: {entity} rows with {slot} NULL have no {ctx.index} key and "
                "are left out"
            )
    for slot, place in key.null_fill:
        if slot != pattern.order_by or slot in conds:
            continue
        first = (place == "high") != (pattern.order == "asc")
        lines.append(
            f"{slot} is nullable and only orders this pattern: a row with {slot} NULL is keyed "
            f"with the NULL sentinel that sorts {'after' if place == 'high' else 'before'} every "
            f"value, so it comes back {'first' if first else 'last'}, as PostgreSQL's ORDER BY "
            f"{slot} {pattern.order.upper()} NULLS {'FIRST' if first else 'LAST'}"
        )
    return lines


def _collection_plan(ctx: _Context, unit: Unit) -> ir.PatternPlan:
    pattern = ctx.pattern
    members = tuple(sorted(set(pattern.entities)))
    first = ctx.model.entity(members[0])
    assert first is not None
    key = ctx.keys[members[0]]
    pk = ir.KeyValue(
        key.pk, tuple(_eq_bind(first, pattern, s) for s in templates.slots(key.pk)), "full"
    )
    sharing = ctx.sharing(members[0])
    extra = [e for e in sharing if e not in members]
    proof = [
        f"partition key = {key.pk}: every member ({', '.join(members)}) is written with this "
        f"partition template, owned by {unit.root}; partition shared on this index by: {', '.join(sharing)}",
        "no sort-key condition: the whole item collection is read",
        "order within the collection is by type prefix, then by each type's sort-key slots",
    ]
    sk = ir.SortKeyCondition()
    if extra:
        sk, extra, line = _collection_range(ctx, members, extra)
        proof[1] = line
    if extra:
        proof.append(
            f"the partition also holds {', '.join(extra)}: client keeps {', '.join(members)} by type"
        )
    return _plan(ctx, members, "Query", pk, sk, members if extra else (), proof, tuple(extra))


def _collection_range(
    ctx: _Context, members: tuple[str, ...], extra: list[str]
) -> tuple[ir.SortKeyCondition, list[str], str]:
    """A sort-key range holding every member's keys and as few other types' as possible.

    Members' sort keys start with their literal prefixes P: all of them lie in
    [min P, max after(P)]; another type whose literal prefix L has after(L) <= min P or L > that
    upper bound has no key inside, so `SK BETWEEN min P AND max after(P)` leaves it unread.
    Returns the condition (none when no type is excluded), the types still read, and the line
    of proof."""
    whole = (
        ir.SortKeyCondition(),
        extra,
        "no sort-key condition: the whole item collection is read",
    )
    prefixes = {}
    for name in (*members, *extra):
        template = ctx.keys[name].sk
        prefixes[name] = templates.literal_prefix(template) if template else ""
    if any(not prefixes[m] for m in members):
        return whole
    low = min(prefixes[m] for m in members)
    top = max(members, key=lambda m: codec.after(prefixes[m]))
    high = codec.after(prefixes[top])
    left = [
        e
        for e in extra
        if not prefixes[e] or not (codec.after(prefixes[e]) <= low or prefixes[e] > high)
    ]
    if len(left) == len(extra):
        return whole
    cond = ir.SortKeyCondition(
        "between", (ir.KeyValue(low, (), "full"), ir.KeyValue(prefixes[top], (), "after"))
    )
    gone = ", ".join(e for e in extra if e not in left)
    line = (
        f"sort key BETWEEN {low!r} AND after({prefixes[top]!r}): every member's sort key starts "
        f"with one of {', '.join(repr(prefixes[m]) for m in members)}, so the range holds the "
        f"whole collection, and no sort key of {gone} falls inside it (not read)"
    )
    return cond, left, line


def _filter_conditions(c: ir.Condition) -> tuple[ir.FilterCondition, ...]:
    """A `filter:` condition as FilterExpression conjuncts; a between with an exclusive bound
    is two comparisons."""
    if c.op == "between" and c.bounds != ir.INCLUSIVE:
        return tuple(
            ir.FilterCondition(c.attribute, op, (_param(c, i),), READ_COST)
            for i, op in enumerate(c.bounds)
        )
    if c.op in ir.NULL_TESTS:
        return (ir.FilterCondition(c.attribute, c.op, (), READ_COST),)
    names = tuple(_param(c, i) for i in range(2 if c.op == "between" else 1))
    return (ir.FilterCondition(c.attribute, c.op, names, READ_COST),)


def _plan(
    ctx: _Context,
    entities: tuple[str, ...],
    operation: str,
    pk: ir.KeyValue,
    sk: ir.SortKeyCondition,
    type_filter: tuple[str, ...],
    proof: list[str],
    dropped: tuple[str, ...] = (),
) -> ir.PatternPlan:
    pattern = ctx.pattern
    filters = tuple(f for c in pattern.filter for f in _filter_conditions(c)) + _residual(
        pattern, sk, proof
    )
    params: list[str] = []
    for c in (*pattern.where, *pattern.filter):
        if (c.literals and not c.params) or c.op in ir.NULL_TESTS:
            continue  # fixed by the SQL text; no value
        names = (
            list(c.param_names)
            if c.op == ir.IN
            else [_param(c, i) for i in range(2 if c.op == "between" else 1)]
        )
        for p in names:
            if p not in params:
                params.append(p)
    if pattern.limit_param is not None and pattern.limit_param not in params:
        params.append(pattern.limit_param)
    if operation == "GetItem":
        pagination = "one GetItem: at most one item, no pages"
    else:
        pagination = "Query pages of at most 1 MB: follow LastEvaluatedKey until it is absent"
        if pattern.limit is not None or pattern.limit_param is not None:
            most = pattern.limit if pattern.limit is not None else f":{pattern.limit_param}"
            pagination += f" or {most} matching items are collected"
            if type_filter or filters:
                pagination += " (Limit counts items read before filters: keep paging)"
    if pattern.unique and operation != "GetItem":
        proof.append(
            "unique: at most one item is expected; a GSI does not enforce uniqueness, the client checks"
        )
    proof.append(
        f"order: {'ascending' if pattern.order == 'asc' else 'descending'} sort key (ScanIndexForward={pattern.order == 'asc'})"
    )
    fan = next((c for c in pattern.where if c.op == ir.IN), None)
    if fan is not None:
        each = ir.in_value_param(fan.attribute)
        proof.append(
            f"{fan.attribute} IN (...): one {operation} per distinct value, :{each} being each "
            "value in turn (SQL returns a row once however often its value is listed); "
            + (
                f"the client merges the answers by {pattern.order_by} "
                f"({pattern.order.upper()}, NULLs {'first' if pattern.nulls_high != (pattern.order == 'asc') else 'last'})"
                if pattern.order_by and len(entities) == 1
                else "the answers follow one another (the SQL promises no order)"
            )
            + (
                " and keeps the first rows up to the limit"
                if pattern.limit or pattern.limit_param
                else ""
            )
        )
    return ir.PatternPlan(
        pattern=pattern.name,
        entities=entities,
        index=ctx.index,
        operation=operation,  # type: ignore[arg-type]
        pk=pk,
        sk=sk,
        scan_forward=pattern.order == "asc",
        type_filter=type_filter,
        unique=pattern.unique,
        limit=pattern.limit,
        limit_param=pattern.limit_param,
        pagination=pagination,
        filters=filters,
        params=tuple(params),
        proof=tuple(proof),
        read_estimate=read_estimate(
            ctx.model, pattern, entities, pk.template, dropped, ctx.index_keys.owners(ctx.model)
        ),
    )


_Owners = dict[frozenset[str], list[ir.Entity]]


def owners_by_key(model: ir.Model) -> _Owners:
    """The entities with a row_count by their key's attribute set, each list by name: whose
    rows a partition of those slots counts (`_per_partition`; built once per build, a scan
    per plan was n^2)."""
    out: _Owners = {}
    for e in sorted(model.entities, key=lambda e: e.name):
        if e.row_count:
            out.setdefault(frozenset(e.key), []).append(e)
    return out


def _per_partition(
    model: ir.Model, name: str, pk: str, owners: _Owners
) -> tuple[float | None, str]:
    """Estimated items of `name` in one partition of template `pk`, and what it rests on:
    its row_count over the number of partitions (one per row of the entity whose key the
    partition-key slots are, or the slot's distinct values from pg_stats)."""
    entity = model.entity(name)
    if entity is None:
        return None, f"{name} is unknown"
    slots = set(templates.slots(pk))
    if slots and set(entity.key) <= slots:
        return 1.0, f"{name}: at most one item per partition (its key binds the partition)"
    rows = entity.row_count
    if rows is None:
        return None, f"{name}: no row_count"
    if not slots:
        return float(rows), f"{name}: {rows:,} rows, all in one constant partition"
    for owner in owners.get(frozenset(slots), ()):
        if owner.name != name and owner.row_count:
            return (
                rows / owner.row_count,
                f"{name}: {rows:,} rows over {owner.row_count:,} {owner.name} partitions",
            )
    if len(slots) == 1:
        slot = next(iter(slots))
        attr = entity.attribute(slot)
        distinct = _distinct(attr, rows) if attr is not None else None
        if distinct:
            return rows / distinct, f"{name}: {rows:,} rows over ~{distinct:,.0f} {slot} values"
    return (
        None,
        f"{name}: {rows:,} rows, partition count unknown (no row_count on the entity keyed by {', '.join(sorted(slots))})",
    )


def _distinct(attr: ir.Attribute, rows: int | None) -> float | None:
    """Distinct values of an attribute: enum size, 2 for a boolean, or pg_stats n_distinct."""
    if attr.enum is not None:
        return float(len(attr.enum))
    if attr.type.kind == "boolean":
        return 2.0
    n = attr.stats.n_distinct if attr.stats is not None else None
    if n is None or n == 0:
        return None
    if n > 0:
        return n
    return -n * rows if rows else None


def read_estimate(
    model: ir.Model,
    pattern: ir.AccessPattern,
    entities: tuple[str, ...],
    pk: str,
    dropped: tuple[str, ...],
    owners: _Owners | None = None,
) -> ir.ReadEstimate | None:
    """Items read per item returned, when the key condition matches items the client drops
    (other types in the partition, non-key filters); None when it matches only its own."""
    if not dropped and not pattern.filter:
        return None
    basis: list[str] = []
    factor: float | None = 1.0
    partial = False
    if dropped:
        wanted = 0.0
        read = 0.0
        for name in (*entities, *dropped):
            n, why = _per_partition(
                model, name, pk, owners if owners is not None else owners_by_key(model)
            )
            basis.append(why)
            if n is None:
                factor = None
                continue
            read += n
            if name in entities:
                wanted += n
        if factor is not None:
            factor = read / wanted if wanted else None
    target = model.entity(entities[0])
    for cond in pattern.filter:
        attr = target.attribute(cond.attribute) if target is not None else None
        n = _distinct(attr, target.row_count if target else None) if attr else None
        if cond.op == "=" and n:
            basis.append(
                f"filter {cond.attribute} = keeps ~1 in {n:g} ({cond.attribute} has ~{n:g} values)"
            )
            factor = factor * n if factor is not None else None
        else:
            basis.append(f"filter {cond.attribute} {cond.op}: selectivity unknown, not counted")
            partial = True
    return ir.ReadEstimate(
        dropped=dropped,
        filters=tuple(c.attribute for c in pattern.filter),
        factor=round(factor, 2) if factor is not None else None,
        basis=tuple(basis),
        lower_bound=partial,
    )


def build_plans(model: ir.Model, state: Derivation) -> Derivation:
    plans: list[ir.PatternPlan] = []
    diagnostics: list[Diagnostic] = []
    per_index: dict[str, _IndexKeys] = {}
    kinds: dict[str, dict[str, str]] = {}
    for unit in sorted(state.units, key=lambda u: u.pattern):
        pattern = model.pattern(unit.pattern)
        index = state.assignment.get(unit.pattern)
        if pattern is None:
            continue
        if (index or "") not in per_index:
            per_index[index or ""] = _IndexKeys(state, index or "")
        ctx = _Context(model, state, pattern, index or "", per_index[index or ""], kinds)
        if index is None or any(r.entity not in ctx.keys for r in unit.requirements):
            diagnostics.append(
                Diagnostic(
                    "unservable-pattern",
                    Severity.ERROR,
                    f"pattern {pattern.name!r}: no index can serve it with the pinned keys of "
                    + ", ".join(unit.entities),
                    pattern.span,
                    "unpin the keys or pin ones whose templates start with the pattern's equality attributes",
                    pattern.name,
                )
            )
            continue
        plans.append(
            _collection_plan(ctx, unit) if unit.root is not None else _single_plan(ctx, unit)
        )
    return replace(state, plans=tuple(plans), diagnostics=state.diagnostics + tuple(diagnostics))
