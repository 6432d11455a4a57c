"""Deterministic sample rows for every entity of a model: the data `model verify` proves on.

Why this shape: a layout bug shows up only on data that stresses it, so the rows are built to
be awkward on purpose while staying valid for the model:

* every DSL type, with the edges a key codec gets wrong: negative and large integers, decimals of
  varying scale (`1.50`), datetimes in several time zones (normalised to UTC only when stored),
  strings holding the `#` separator, characters sorting below it (`!`, space), accents and astral
  characters, strings that are prefixes of one another;
* enums honoured, optional attributes sometimes NULL (sparse indexes), sets never empty;
* keys unique, and every attribute set that a `unique: true` pattern looks up unique too;
* `references` point at existing rows and children live under existing parents, chosen with a
  Zipf distribution so a few partitions are much larger than the rest (SKEW); attributes that
  patterns compare with `=` draw from small skewed pools so GSI partitions hold many items, and
  range attributes repeat values now and then so ties exist, and an optional one is sometimes
  NULL (a share of rows, by seed), so verify sees where NULL rows come in a pattern's order
  (PostgreSQL: NULLS LAST under ASC, NULLS FIRST under DESC) and that a sparse index drops
  only rows a condition excludes;
* rows of the hottest partitions carry one fat string attribute so that reading that partition
  needs several 1 MB Query pages, while the total stays a few MB so tests stay fast;
* the table's TTL attribute, when a datetime, holds whole seconds: it is stored as N epoch
  seconds (sub-second part dropped), and whole seconds make the round trip exact.

Everything comes from one `random.Random(seed)`: the same model and seed give the same rows.
"""

from __future__ import annotations

import decimal
import functools
import math
import random
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from modeling.core import limits
from modeling.core.ir import AccessPattern, Attribute, Entity, Model, TypeRef
from modeling.sample import adversarial
from modeling.sample.oracle import sort_attribute
from modeling.sample.rows import Dataset, Row

# Pieces that make key codecs fail: the separator, bytes sorting below it, multi-byte and
# astral characters (4 bytes in UTF-8, a surrogate pair in UTF-16).
TRICKY = ("#", "##", "!", " ", "-", "é", "ß", "中", "𝄞", "😀", "~", "a#b", "\u00ff", "%", "_")
WORDS = ("alpha", "alp", "al", "beta", "Beta", "gamma", "zeta", "Ωmega", "émile", "東京", "x#y")
ZONES = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-11, minutes=-30)),
)
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_NUMBER_DIGITS = 38  # DynamoDB numbers: at most 38 significant digits
_EXACT = decimal.Context(prec=200)  # the default context rounds to 28 digits


def significant_digits(value: Decimal) -> int:
    """Significant digits of `value` (without rounding it, as `normalize()` would)."""
    return len("".join(map(str, value.as_tuple().digits)).strip("0")) or 1


MAX_FAT_BYTES = limits.ITEM_BYTES * 3 // 4  # 300 KB: room for the rest of the item


@dataclass(frozen=True)
class SampleOptions:
    """How much data: `roots` rows per entity without parents, `fanout` children per parent."""

    seed: int = 0
    roots: int = 16
    fanout: float = 5.0
    max_rows: int = 400
    zipf_s: float = 1.2
    null_rate: float = 0.2
    hot_partition_bytes: int = int(
        1.3 * limits.QUERY_PAGE_BYTES
    )  # fat bytes put in a hottest partition
    fat_entities: int = 2  # at most this many entities get fat rows (keeps the total modest)
    # plant the cases of modeling.sample.adversarial (boundaries, separators, template
    # literals, prefixes, unicode, collation-sensitive strings, empty strings, ties in every
    # ordering attribute); off for readable samples (the docs)
    adversarial: bool = True


@dataclass(frozen=True)
class RefGroup:
    """Attributes of one entity that together point at one row of `target`."""

    target: str
    mapping: tuple[tuple[str, str], ...]  # (my attribute, target key attribute)


@dataclass
class EntityPlan:
    """What the generator decided about one entity before drawing rows."""

    entity: Entity
    groups: list[RefGroup]
    unique_sets: list[tuple[str, ...]]
    roles: dict[str, str]  # attribute -> key | pool | range | unique | plain
    fat: str | None = None
    count: int = 0
    pools: dict[str, list[Any]] = field(default_factory=dict)
    whole_seconds: tuple[str, ...] = ()  # datetimes stored as epoch seconds (the TTL attribute)


def generate(
    model: Model,
    options: SampleOptions | None = None,
    keyed: frozenset[tuple[str, str]] = frozenset(),
    *,
    literals: Sequence[str] = (),
    bounds: Mapping[tuple[str, str], Any] | None = None,
) -> Dataset:
    """Sample rows for every entity of `model`; deterministic for `options.seed`.

    `keyed` holds (entity, attribute) pairs that a layout puts into key templates: they are
    never made fat (a key value is at most 2 KB) and never empty (DynamoDB rejects an empty
    key). `literals` is the literal text of the layout's key templates (planted into strings,
    `codec.key_literals`); `bounds` the declared column ranges of the source DDL
    (`fit.ddl_file_bounds`), whose ends are the boundary values.

    The adversarial cases come from their own random stream (seeded from `options.seed`), after
    the base rows: without them (`adversarial=False`) the rows are what they always were.
    """
    opts = options or SampleOptions()
    rng = random.Random(opts.seed)
    plans = {e.name: _plan(model, e) for e in model.entities}
    order = _dependency_order(model, plans)
    _choose_fat(model, plans, order, opts, keyed)
    data = Dataset({e.name: [] for e in model.entities})
    for name in order:
        plan = plans[name]
        plan.count = _row_count(plan, plans, opts)
        data.rows[name] = _rows_for(plan, data, rng, opts)
        if opts.adversarial:
            # before any later entity copies these rows' keys into its references
            renamed = _plant_cases(
                model, plan, data.rows[name], opts, keyed, literals, bounds or {}
            )
            _follow_renames(plans, data, name, renamed)
    return data


def _follow_renames(
    plans: dict[str, EntityPlan], data: Dataset, target: str, renamed: dict[str, dict[Any, Any]]
) -> None:
    """Rows drawn before `target` (a reference cycle) that point at a renamed key follow it."""
    for other, plan in plans.items():
        if other == target:
            continue
        for g in plan.groups:
            if g.target != target or len(g.mapping) != 1:
                continue
            mine, theirs = g.mapping[0]
            renames = renamed.get(theirs)
            if not renames:
                continue
            for r in data.of(other):
                if r.get(mine) is not None and r[mine] in renames:
                    r[mine] = renames[r[mine]]


def planned_counts(model: Model, options: SampleOptions | None = None) -> dict[str, int]:
    """Rows `generate` plans per entity for `options` (it may draw fewer: a unique attribute
    set with few possible values runs out), without drawing any. Cheap, so callers can size a
    sample (`model migrate demo --rows N`) by searching over `roots` and `fanout`."""
    opts = options or SampleOptions()
    plans = {e.name: _plan(model, e) for e in model.entities}
    for name in _dependency_order(model, plans):
        plans[name].count = _row_count(plans[name], plans, opts)
    return {e.name: plans[e.name].count for e in model.entities}


# --------------------------------------------------------------------------- planning


def _patterns_of(model: Model, entity: str) -> list[AccessPattern]:
    return [p for p in model.patterns if entity in p.entities]


def ref_groups(model: Model, entity: Entity) -> list[RefGroup]:
    """Group referencing attributes by target; a composite target key is filled from one row."""
    by_target: dict[str, list[str]] = {}
    for a in entity.attributes:
        target = model.entity(a.references) if a.references else None
        if target is None:
            continue
        key = target.attribute(target.key[0]) if len(target.key) == 1 else None
        if key is not None and key.type != a.type:
            continue  # validate warns (reference-type); a uuid never holds an integer id
        by_target.setdefault(target.name, []).append(a.name)
    if entity.parent and model.entity(entity.parent) is not None:
        parent = model.entity(entity.parent)
        assert parent is not None
        implied = [k for k in parent.key if entity.attribute(k) is not None]
        have = by_target.setdefault(parent.name, [])
        have.extend(k for k in implied if k not in have)
    groups: list[RefGroup] = []
    for target_name in sorted(by_target):
        target = model.entity(target_name)
        assert target is not None
        attrs = by_target[target_name]
        if len(target.key) == 1:
            groups.extend(RefGroup(target_name, ((a, target.key[0]),)) for a in attrs)
            continue
        # Composite key: match by name, then the leftovers by position; one row fills them all.
        mapping: list[tuple[str, str]] = []
        free_keys = [k for k in target.key if k not in attrs]
        for name in attrs:
            if name in target.key:
                mapping.append((name, name))
            elif free_keys:
                mapping.append((name, free_keys.pop(0)))
            else:
                groups.append(RefGroup(target_name, ((name, target.key[0]),)))
        if mapping:
            groups.append(RefGroup(target_name, tuple(mapping)))
    return groups


def _plan(model: Model, entity: Entity) -> EntityPlan:
    groups = ref_groups(model, entity)
    referencing = {a for g in groups for a, _ in g.mapping}
    unique_sets: list[tuple[str, ...]] = [tuple(entity.key)]
    roles: dict[str, str] = {}
    for p in _patterns_of(model, entity.name):
        for c in (*p.where, *p.filter):
            if entity.attribute(c.attribute) is None:
                continue
            role = "range" if c.is_range else "pool"
            if roles.get(c.attribute) != "range":
                roles[c.attribute] = role
        if p.order_by and entity.attribute(p.order_by) is not None:
            roles[p.order_by] = "range"
        if p.unique and len(p.entities) == 1:
            attrs = tuple(c.attribute for c in p.where if c.op == "=")
            if attrs and attrs not in unique_sets and all(entity.attribute(a) for a in attrs):
                unique_sets.append(attrs)
    for attrs in unique_sets[1:]:
        if len(attrs) == 1:
            roles[attrs[0]] = "unique"
    for i, k in enumerate(entity.key):
        last = i == len(entity.key) - 1
        if k in referencing:
            continue
        if last:
            roles[k] = "key" if roles.get(k) != "range" else "range"
        else:
            roles[k] = "pool"  # leading parts of a composite key: shared, like partitions
    for a in entity.attributes:
        roles.setdefault(a.name, "plain")
    whole = tuple(
        a.name for a in entity.attributes if a.name == model.table.ttl and a.type.kind == "datetime"
    )
    return EntityPlan(entity, groups, unique_sets, roles, whole_seconds=whole)


def _dependency_order(model: Model, plans: dict[str, EntityPlan]) -> list[str]:
    """Targets before the entities that point at them; cycles broken in declaration order."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2 or state.get(name) == 1:
            return
        state[name] = 1
        for g in plans[name].groups:
            if g.target != name:
                visit(g.target)
        state[name] = 2
        order.append(name)

    for e in model.entities:
        visit(e.name)
    return order


def _fat_candidate(
    model: Model, plan: EntityPlan, keyed: frozenset[tuple[str, str]] = frozenset()
) -> str | None:
    """A string attribute no key, pattern or enum looks at: safe to make large."""
    pinned_text = " ".join(f"{k.pk} {k.sk or ''}" for k in plan.entity.pinned_keys)
    for a in plan.entity.attributes:
        if a.type != TypeRef("string") or a.enum or a.references:
            continue
        if a.name in plan.entity.key or plan.roles.get(a.name) != "plain":
            continue
        if "{" + a.name + "}" in pinned_text or a.name == model.table.ttl:
            continue
        if (plan.entity.name, a.name) in keyed:
            continue
        return a.name
    return None


def _choose_fat(
    model: Model,
    plans: dict[str, EntityPlan],
    order: list[str],
    opts: SampleOptions,
    keyed: frozenset[tuple[str, str]],
) -> None:
    """Give fat rows to the entities with skewed parents (most rows first), up to a budget."""
    ranked = [
        n for n in order if plans[n].groups and _fat_candidate(model, plans[n], keyed) is not None
    ]
    ranked.sort(key=lambda n: (-_depth(n, plans), order.index(n)))
    for name in ranked[: opts.fat_entities]:
        plans[name].fat = _fat_candidate(model, plans[name], keyed)


def _depth(name: str, plans: dict[str, EntityPlan], seen: frozenset[str] = frozenset()) -> int:
    targets = [g.target for g in plans[name].groups if g.target != name and g.target not in seen]
    return 1 + max((_depth(t, plans, seen | {name}) for t in targets), default=0)


def _row_count(plan: EntityPlan, plans: dict[str, EntityPlan], opts: SampleOptions) -> int:
    targets = [plans[g.target].count for g in plan.groups if g.target != plan.entity.name]
    if not targets:
        return opts.roots
    return min(opts.max_rows, max(opts.roots, int(max(targets) * opts.fanout)))


# --------------------------------------------------------------------------- drawing rows


_ZIPF_PREFIX: dict[float, list[float]] = {}
_ZIPF_LOCK = threading.Lock()


@functools.lru_cache(maxsize=256)
def zipf_weights(n: int, s: float) -> tuple[float, ...]:
    """Cumulative Zipf weights over ranks 0..n-1: rank 0 is the hottest.

    Cached: every drawn row asks for the weights of its targets, and recomputing them made
    sizeable samples (`model migrate demo --rows 20000`) quadratic. The sums are built in the
    same order as ever, so the values (and every sample drawn with them) are unchanged.
    """
    with _ZIPF_LOCK:
        out = _ZIPF_PREFIX.setdefault(s, [])
        total = out[-1] if out else 0.0
        for i in range(len(out), n):
            total += 1.0 / math.pow(i + 1, s)
            out.append(total)
        return tuple(out[:n])


def _rows_for(
    plan: EntityPlan, data: Dataset, rng: random.Random, opts: SampleOptions
) -> list[Row]:
    entity = plan.entity
    rows: list[Row] = []
    seen: dict[tuple[str, ...], set[tuple[Any, ...]]] = {u: set() for u in plan.unique_sets}
    counter = [0]
    for a in entity.attributes:
        if plan.roles[a.name] == "pool":
            size = max(3, plan.count // 6)
            plan.pools[a.name] = _distinct(_maker(a.type, rng, counter), size)
    hot: list[bool] = []
    for _ in range(plan.count):
        for _attempt in range(30):
            row, is_hot = _draw_row(plan, data, rows, rng, counter, opts)
            keys = {u: tuple(row[a] for a in u) for u in plan.unique_sets}
            if any(v is None for k in keys.values() for v in k):
                continue
            if all(keys[u] not in seen[u] for u in plan.unique_sets):
                for u in plan.unique_sets:
                    seen[u].add(keys[u])
                rows.append(row)
                hot.append(is_hot)
                break
    if plan.fat is not None and any(hot):
        size = min(MAX_FAT_BYTES, max(4096, opts.hot_partition_bytes // sum(hot)))
        for row, is_hot in zip(rows, hot, strict=True):
            if is_hot:
                row[plan.fat] = _fat_text(rng, size)
    return rows


def _draw_row(
    plan: EntityPlan,
    data: Dataset,
    rows: list[Row],
    rng: random.Random,
    counter: list[int],
    opts: SampleOptions,
) -> tuple[Row, bool]:
    entity = plan.entity
    row: Row = {}
    is_hot = False
    unset: list[str] = []  # optional references left NULL
    for gi, g in enumerate(plan.groups):
        targets = data.of(g.target) if g.target != entity.name else rows
        optional = all(not _attr(entity, a).required and a not in entity.key for a, _ in g.mapping)
        if not targets or (optional and rng.random() < opts.null_rate):
            if optional:
                unset.extend(a for a, _ in g.mapping)
            continue
        cum = zipf_weights(len(targets), opts.zipf_s)
        pick = rng.choices(range(len(targets)), cum_weights=cum)[0]
        if gi == 0 and pick == 0:
            is_hot = True
        for mine, theirs in g.mapping:
            row[mine] = targets[pick][theirs]
    for a in entity.attributes:
        if a.name in row:
            continue
        role = plan.roles[a.name]
        if role == "plain" and not a.required and rng.random() < opts.null_rate:
            row[a.name] = None
        elif role == "pool" and not a.required and rng.random() < 2 * opts.null_rate:
            row[a.name] = None  # sparse index entries
        elif role == "unique" and not a.required and rng.random() < opts.null_rate:
            row[a.name] = None  # a unique lookup key may be NULL too (never equal to anything)
        elif a.enum:
            cum = zipf_weights(len(a.enum), opts.zipf_s)
            row[a.name] = rng.choices(a.enum, cum_weights=cum)[0]
        elif role == "pool" and plan.pools.get(a.name):
            pool = plan.pools[a.name]
            row[a.name] = rng.choices(pool, cum_weights=zipf_weights(len(pool), opts.zipf_s))[0]
        elif role == "range" and not a.required and rng.random() < opts.null_rate / 2:
            row[a.name] = None  # NULL in an ordering (sort-key) slot: where do the rows go?
        elif role == "range" and rows and rng.random() < 0.15 and rows[-1].get(a.name) is not None:
            row[a.name] = rng.choice(rows)[a.name]  # ties on the range attribute
        else:
            row[a.name] = _value(a.type, rng, counter, role)
        if row[a.name] is None and (a.required or a.name in entity.key):
            row[a.name] = _value(a.type, rng, counter, role)
    for name in plan.whole_seconds:
        if isinstance(row.get(name), datetime):
            row[name] = row[name].replace(microsecond=0)
    for name in unset:
        # a reference left NULL stays NULL: a value drawn for it above (the draw is kept, so
        # every other value is as it was) would point at no row
        row[name] = None
    return row, is_hot


# --------------------------------------------------------------------------- adversarial cases


def _plant_cases(
    model: Model,
    plan: EntityPlan,
    rows: list[Row],
    opts: SampleOptions,
    keyed: frozenset[tuple[str, str]],
    literals: Sequence[str],
    bounds: Mapping[tuple[str, str], Any],
) -> dict[str, dict[Any, Any]]:
    """Rewrite some values of `rows` in place into the cases of `adversarial`, then make ties
    on every ordering attribute inside the partitions its patterns read.

    Keys and unique attribute sets stay unique, references are never touched (they hold their
    target's key), key slots never get an empty value, and an attribute compared by `=` (a
    pool: rows share its values to form partitions) has whole values renamed, so partitions
    keep their rows.
    """
    if not rows:
        return {}
    entity = plan.entity
    renamed: dict[str, dict[Any, Any]] = {}
    planted: dict[str, set[int]] = {}  # attribute -> rows holding a planted case value
    arng = random.Random(f"{opts.seed}:adversarial:{entity.name}")
    referencing = {a for g in plan.groups for a, _ in g.mapping}
    self_targets = {t for g in plan.groups if g.target == entity.name for _, t in g.mapping}
    lits = tuple(sorted({t for t in literals if t.strip("#")}, key=lambda t: (-len(t), t)))[:4]
    for a in entity.attributes:
        if (
            a.name in referencing
            or (a.name in self_targets and not _single_self_refs(plan, a.name))
            or a.name == plan.fat
            or a.enum
            or a.type.item is not None
            or a.type.kind in ("boolean", "map")
        ):
            continue
        # `min_length: 1`: never empty, like a key slot (it may be an attribute-key attribute)
        in_key = (entity.name, a.name) in keyed or a.name in entity.key or bool(a.min_length)
        bound = bounds.get((entity.name, a.name))
        if plan.roles[a.name] == "pool":
            renames = _rename_pool(plan, rows, a, arng, lits, in_key, bound)
        else:
            planted[a.name] = set()
            renames = _assign_cases(plan, rows, a, arng, lits, in_key, bound, planted[a.name])
        if renames and a.name in entity.key:
            renamed[a.name] = renames
        for mine in _single_self_refs(plan, a.name):
            # rows pointing at a row of this entity follow its new key value
            for r in rows:
                if r.get(mine) is not None and r[mine] in renames:
                    r[mine] = renames[r[mine]]
    for p in _patterns_of(model, entity.name):
        by = sort_attribute(p)
        if by is None or p.unique or entity.attribute(by) is None:
            continue
        _tie_and_family(plan, rows, by, [c.attribute for c in p.equality], arng, planted)
    for name in plan.whole_seconds:
        for row in rows:
            if isinstance(row.get(name), datetime):
                row[name] = row[name].replace(microsecond=0)
    return renamed


def _single_self_refs(plan: EntityPlan, attribute: str) -> list[str]:
    """Attributes that point at `attribute` of the entity's own rows by themselves (a
    one-attribute self reference such as `parent_category_id`)."""
    return [
        g.mapping[0][0]
        for g in plan.groups
        if g.target == plan.entity.name and len(g.mapping) == 1 and g.mapping[0][1] == attribute
    ]


def _case_values(
    t: TypeRef,
    rng: random.Random,
    literals: Sequence[str],
    in_key: bool,
    bound: Any,
    min_length: int = 0,
) -> list[Any]:
    """The case values for one attribute, the categories interleaved so a small budget still
    reaches each of them (strings at least `min_length` characters long)."""
    if t.kind != "string":
        return list(adversarial.boundaries(t, bound))
    groups = [
        list(adversarial.SEPARATOR_STRINGS),
        [f"{lit}" for lit in literals] + [f"x{lit}y" for lit in literals],
        list(adversarial.ASTRAL_STRINGS),
        list(adversarial.UNICODE_STRINGS),
        list(adversarial.COLLATION_STRINGS),
        [] if in_key else [""],
    ]
    for g in groups:
        rng.shuffle(g)
    out: list[Any] = []
    while any(groups):
        for g in groups:
            if g:
                out.append(g.pop(0))
    if bound is not None and hasattr(bound, "length"):
        if bound.exact:
            return []  # char(n): the DDL fit decides these values
        out = [v[: bound.length] for v in out if v[: bound.length] or not in_key]
    # distinct values only: two literals cut to one prefix (`varchar(25)`) were one value
    # twice, and a rename onto them (`_rename_pool`) gave two keys the same value
    return list(dict.fromkeys(v for v in out if len(v) >= min_length))


def _unique_ok(plan: EntityPlan, rows: list[Row], i: int, attribute: str, value: Any) -> bool:
    """Would setting rows[i][attribute] = value keep every unique attribute set unique?"""
    for u in plan.unique_sets:
        if attribute not in u:
            continue
        new = tuple(value if a == attribute else rows[i].get(a) for a in u)
        if any(v is None for v in new):
            continue
        if any(j != i and tuple(r.get(a) for a in u) == new for j, r in enumerate(rows)):
            return False
    return True


def _distinct_text(value: str, taken: set[Any], n: int) -> str:
    return value if value not in taken else f"{value}{n}"


def _assign_cases(
    plan: EntityPlan,
    rows: list[Row],
    a: Attribute,
    rng: random.Random,
    literals: Sequence[str],
    in_key: bool,
    bound: Any,
    planted: set[int],
) -> dict[Any, Any]:
    """Plant case values into a share of the rows (their indices go into `planted`); old ->
    new of a unique attribute."""
    values = _case_values(a.type, rng, literals, in_key, bound, a.min_length or 0)
    if not values:
        return {}
    budget = max(2, len(rows) // 2)
    order = list(range(len(rows)))
    rng.shuffle(order)
    unique = any(a.name in u for u in plan.unique_sets)
    taken = {r.get(a.name) for r in rows}
    base = rows[order[-1]].get(a.name)  # a row the budget never reaches keeps its value
    if a.type.kind == "string" and isinstance(base, str) and base and len(rows) >= 3:
        # a prefix family: that value, and the same value with a tail
        values.insert(1, base + "#x")
        values.insert(min(len(values), 5), base + "a")
    renames: dict[Any, Any] = {}
    for i, value in zip(order[:budget], values, strict=False):
        if isinstance(value, str) and unique:
            value = _distinct_text(value, taken, i)
        old = rows[i].get(a.name)
        if old is None and not a.required and rng.random() < 0.5:
            continue  # keep some NULLs where the base rows had them
        if unique and not _unique_ok(plan, rows, i, a.name, value):
            continue
        rows[i][a.name] = value
        taken.add(value)
        planted.add(i)
        if unique and old is not None:
            renames[old] = value
    return renames


def _rename_pool(
    plan: EntityPlan,
    rows: list[Row],
    a: Attribute,
    rng: random.Random,
    literals: Sequence[str],
    in_key: bool,
    bound: Any,
) -> dict[Any, Any]:
    """Give some shared values of an `=`-compared attribute a case value, in every row that
    holds them (the partition stays as large as it was)."""
    seen: list[Any] = []
    for r in rows:
        v = r.get(a.name)
        if v is not None and v not in seen:
            seen.append(v)
    cases = _case_values(a.type, rng, literals, True, bound, a.min_length or 0)
    values = [v for v in cases if v not in seen]
    if not seen or not values:
        return {}
    budget = max(1, len(seen) // 2)
    picks = seen[:1] + rng.sample(seen[1:], min(len(seen) - 1, budget - 1))
    renames = dict(zip(picks, values, strict=False))
    # a one-to-one rename onto values nobody holds keeps every unique attribute set unique
    for r in rows:
        v = r.get(a.name)
        if v is not None and v in renames:
            r[a.name] = renames[v]
    return renames


def _tie_and_family(
    plan: EntityPlan,
    rows: list[Row],
    by: str,
    partition: list[str],
    rng: random.Random,
    planted: Mapping[str, set[int]],
) -> None:
    """In the largest partitions of a pattern, two rows with equal non-NULL `by` values (a
    tie); for a string `by` also a family that byte order and a linguistic collation sort
    differently, and a value with its own prefix beside it."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        key = tuple(r.get(p) for p in partition)
        if all(v is not None for v in key):
            groups.setdefault(key, []).append(i)
    ranked = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    kind = _attr(plan.entity, by).type.kind
    for n, members in enumerate(ranked[:6]):
        keep = planted.get(by, set())
        # rows holding a planted case keep it: they go last
        present = sorted(
            (i for i in members if rows[i].get(by) is not None), key=lambda i: (i in keep, i)
        )
        if len(present) < 2:
            continue
        i, j = present[0], present[1 + rng.randrange(len(present) - 1)]
        if rows[i][by] != rows[j][by] and _unique_ok(plan, rows, j, by, rows[i][by]):
            rows[j][by] = rows[i][by]
        others = [k for k in present if k not in (i, j) and k not in keep]
        if kind != "string" or n >= 2 or len(others) < 2:
            continue
        # one stem, tails that bytes and a linguistic collation order differently, and the
        # stem followed by the separator: a prefix query reads them together
        stem = str(rows[others[0]][by])
        family = [stem + tail for tail in adversarial.COLLATION_TAILS]
        for k, value in zip(others[1:], family, strict=False):
            if _unique_ok(plan, rows, k, by, value):
                rows[k][by] = value


def _attr(entity: Entity, name: str) -> Attribute:
    a = entity.attribute(name)
    assert a is not None, name
    return a


def _maker(t: TypeRef, rng: random.Random, counter: list[int]) -> Callable[[], Any]:
    return lambda: _value(t, rng, counter, "pool")


def _distinct(make: Callable[[], Any], size: int) -> list[Any]:
    out: list[Any] = []
    for _ in range(size * 4):
        v = make()
        if v not in out:
            out.append(v)
        if len(out) >= size:
            break
    return out


def _fat_text(rng: random.Random, size: int) -> str:
    chunk = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz é#𝄞") for _ in range(64))
    text = (chunk * (size // len(chunk.encode()) + 1))[: size // 2]
    # whole chunks until `size` bytes; counted, not re-encoded per chunk (that was quadratic)
    missing = size - len(text.encode())
    if missing > 0:
        per_chunk = len(chunk.encode())
        text += chunk * -(-missing // per_chunk)
    return text


# --------------------------------------------------------------------------- values


def _value(t: TypeRef, rng: random.Random, counter: list[int], role: str) -> Any:
    """One value of type `t`; `role` key/unique values carry a counter so they rarely clash."""
    counter[0] += 1
    n = counter[0]
    k = t.kind
    if k == "string":
        return _string(rng, n, role)
    if k == "integer":
        if role in ("key", "unique"):
            return rng.choice((1, -1, 1)) * (n * 7919 % 1_000_003) + rng.choice((0, 0, 10**12))
        return rng.choice(
            (0, 1, -1, rng.randint(-1000, 1000), rng.randint(-(2**40), 2**40), 2**53 + 1)
        )
    if k == "decimal":
        scale = rng.choice((0, 1, 2, 2, 4))
        whole = rng.choice((0, rng.randint(0, 99), rng.randint(0, 10**9)))
        sign = "-" if rng.random() < 0.25 else ""
        if scale == 0:
            return Decimal(f"{sign}{whole}")
        frac = rng.randint(0, 10**scale - 1)
        return Decimal(f"{sign}{whole}.{frac:0{scale}d}")
    if k == "float":
        return rng.choice((0.0, 1.5, -2.25, rng.uniform(-1e6, 1e6), rng.uniform(-1, 1) * 1e-7))
    if k == "boolean":
        return rng.random() < 0.5
    if k == "date":
        return date(1950, 1, 1) + timedelta(days=rng.randint(0, 100 * 365))
    if k == "datetime":
        seconds = rng.randint(0, 5 * 365 * 86400)
        micros = rng.choice((0, 0, rng.randint(0, 999_999)))
        dt = EPOCH + timedelta(seconds=seconds, microseconds=micros)
        return dt.astimezone(rng.choice(ZONES))
    if k == "uuid":
        return uuid.UUID(int=rng.getrandbits(128), version=4)
    if k == "binary":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 12)))
    if k == "map":
        return _map(rng, depth=0)
    if k == "list":
        assert t.item is not None
        return [_value(t.item, rng, counter, "plain") for _ in range(rng.randint(0, 3))]
    if k == "set":
        assert t.item is not None
        values: list[Any] = []
        for _ in range(rng.randint(1, 4)):
            v = _value(t.item, rng, counter, "plain")
            if v not in values:
                values.append(v)
        return frozenset(values)
    raise ValueError(f"no sample values for type {t}")


def _string(rng: random.Random, n: int, role: str) -> str:
    if role in ("key", "unique"):
        shape = n % 5
        if shape == 0:
            return f"k{n}"
        if shape == 1:
            return f"k{n}{rng.choice(TRICKY)}"
        if shape == 2:
            return f"{rng.choice(TRICKY)}{n}"
        if shape == 3:
            return f"{rng.choice(WORDS)}#{n}"
        return f"{n}{rng.choice(TRICKY)}{rng.choice(TRICKY)}"
    if role == "pool":
        return f"{rng.choice(WORDS)}{rng.choice(('', *TRICKY))}"
    if role == "range":
        return f"{rng.choice(WORDS)}{rng.choice(('', *TRICKY))}{rng.randint(0, 99)}"
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
    return " ".join(words) + rng.choice(("", *TRICKY))


def _map(rng: random.Random, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(rng.randint(0, 3)):
        kind = rng.choice(("s", "n", "b", "l", "m", "null") if depth < 2 else ("s", "n", "b"))
        key = rng.choice(("a", "b#", "é", "size", "color", "𝄞")) + str(i)
        if kind == "s":
            out[key] = rng.choice(WORDS)
        elif kind == "n":
            out[key] = rng.randint(-1000, 1000)
        elif kind == "b":
            out[key] = rng.random() < 0.5
        elif kind == "null":
            out[key] = None
        elif kind == "l":
            out[key] = [rng.randint(0, 9) for _ in range(rng.randint(0, 3))]
        else:
            out[key] = _map(rng, depth + 1)
    return out


def nudge(t: TypeRef, value: Any, direction: int, whole_seconds: bool = False) -> Any:
    """The smallest practical step from `value` (for bounds just around real values).

    `whole_seconds`: a datetime steps by one second (the TTL attribute is compared as epoch
    seconds in DynamoDB, so a microsecond step would vanish there and not in the oracle)."""
    k = t.kind
    if k == "integer":
        return value + direction
    if k == "decimal":
        step = Decimal(direction) * Decimal("0.0001")
        if significant_digits(_EXACT.add(value, step)) > _NUMBER_DIGITS:
            # a 38-digit value: step by its own last digit, so the bound stays a number
            # DynamoDB (and the key codec) can hold
            step = Decimal(direction).scaleb(int(value.as_tuple().exponent))
        return _EXACT.add(value, step)
    if k == "float":
        return value + direction * max(abs(value) * 1e-9, 1e-9)
    try:
        if k == "date":
            return value + timedelta(days=direction)
        if k == "datetime":
            if whole_seconds:
                return value + timedelta(seconds=direction)
            return value + timedelta(microseconds=direction)
    except OverflowError:  # the first or last date Python (and the key codec) can hold
        return value
    if k == "string":
        if direction > 0:
            return value + " "
        return value[:-1] if len(value) > 1 else value
    return value


def fresh_value(t: TypeRef, rng: random.Random) -> Any:
    """A value of `t` that no sample row holds (for parameters that must match nothing)."""
    if t.kind == "string":
        return f"nothing-{rng.randint(0, 10**9)}-𝄞#"
    if t.kind == "integer":
        return 10**15 + rng.randint(0, 10**9)
    if t.kind == "decimal":
        return Decimal(f"987654321987.{rng.randint(0, 9999):04d}")
    if t.kind == "float":
        return 9.87e15 + rng.random()
    if t.kind == "date":
        return date(2199, 1, 1) + timedelta(days=rng.randint(0, 300))
    if t.kind == "datetime":
        return datetime(2199, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 10**6))
    if t.kind == "uuid":
        return uuid.UUID(int=rng.getrandbits(128), version=4)
    if t.kind == "binary":
        return b"\xff\xfe" + bytes(rng.getrandbits(8) for _ in range(20))
    if t.kind == "boolean":
        return rng.random() < 0.5
    raise ValueError(f"no fresh value for {t}")


def sample_values(rows: Sequence[Row], attribute: str) -> list[Any]:
    """Non-null values of `attribute` over `rows`, in row order."""
    return [r[attribute] for r in rows if r.get(attribute) is not None]
