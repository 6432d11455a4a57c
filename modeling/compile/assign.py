"""Pass 3: choose which index serves each pattern, with as few GSIs as possible.

An entity gets at most one key per index, so patterns on one entity that need different key
shapes need different indexes; patterns on different entities share a GSI freely (every
derived sort key starts with its type prefix, so overloaded keys never collide). The pass
assigns patterns to the table first, then to GSIs, first-fit in a fixed order, and then runs
a bounded depth-first search over the assignments looking for one with fewer GSIs. Both are
deterministic: same model, same layout (the search keeps the first assignment, in its fixed
order, that needs the fewest indexes). In both, the indexes where a pattern's entities have
pinned keys are tried first (`own_first`), so a pattern lands on its entity's own pinned index
rather than on an unrelated one that also fits.

The search only runs when first fit may not be minimal. A lower bound decides that: patterns
that pairwise cannot share any index need one index each (a clique, `clique_bound`), and groups
of patterns without a common entity (`components`) are minimised apart, each by a small search
of its own, the whole needing as many indexes as its neediest group. When first fit meets the
bound, no search runs; otherwise the search stops as soon as it reaches the bound. Placements
are memoized, so the budget (SEARCH_BUDGET look-ups) buys far more of the search than it did.
`Derivation.search` reports what was spent and whether the budget cut the search short.

`solve` merges the requirements that land on one (entity, index) into a single placement:
pk slots P and an ordered list of sk slots Q in which every pattern's equality attributes
form a prefix and its range attribute comes right after them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from modeling.compile import templates
from modeling.compile.requirements import ordered_slots
from modeling.compile.state import (
    TABLE,
    Derivation,
    Placement,
    Requirement,
    SearchStats,
    Unit,
)
from modeling.core import ir

SEARCH_BUDGET = 20_000  # placement look-ups each improving search may spend
SEARCH_MAX_UNITS = 300  # beyond this, first-fit only (the search is exponential)


def index_name(alias: str) -> str:
    """Model alias (`table`, `gsi1`, `lsi2`) -> index name (`table`, `GSI1`, `LSI2`)."""
    return TABLE if alias == TABLE else alias.upper()


def index_kind(name: str) -> str:
    if name == TABLE:
        return "table"
    return "lsi" if name.startswith("LSI") else "gsi"


def fits(pk: Sequence[str], sk: Sequence[str], req: Requirement) -> bool:
    """Whether a key with pk slots `pk` and sk slots `sk` serves `req` exactly."""
    if req.fixed_pk is not None and set(req.fixed_pk) != set(pk):
        return False
    if not set(pk) <= req.eq:
        return False
    rest = req.eq - set(pk)
    if set(sk[: len(rest)]) != rest or len(sk) < len(rest):
        return False
    if req.range is not None:
        return len(sk) > len(rest) and sk[len(rest)] == req.range
    return True


def _build_sk(pk: frozenset[str], reqs: Sequence[Requirement]) -> tuple[str, ...] | None:
    """An sk slot order serving every requirement with pk slots `pk`, or None."""
    order = sorted(reqs, key=lambda r: (len(r.eq - pk), r.range is None, r.pattern))
    sk: list[str] = []
    for req in order:
        if req.collection:
            continue
        rest = req.eq - pk
        if len(sk) < len(rest):
            if not set(sk) <= rest:
                return None
            sk.extend(sorted(rest - set(sk)))
        if req.range is not None and len(sk) == len(rest):
            if req.range in sk:
                return None
            sk.append(req.range)
    result = tuple(sk)
    return result if all(fits(tuple(pk), result, r) for r in reqs) else None


def _pk_candidates(
    model: ir.Model, owner: str, reqs: Sequence[Requirement]
) -> list[tuple[str, ...]]:
    fixed = {r.fixed_pk for r in reqs if r.fixed_pk is not None}
    if len(fixed) > 1:
        return []
    if fixed:
        return [next(iter(fixed))]
    common = frozenset.intersection(*(r.eq for r in reqs)) if reqs else frozenset()
    attrs = sorted(common)
    out: list[tuple[str, ...]] = []
    for size in range(len(attrs), 0, -1):  # most specific partition first
        if len(attrs) > 6 and size < len(attrs):
            break
        for combo in itertools.combinations(attrs, size):
            out.append(ordered_slots(model, owner, frozenset(combo)))
    return out


def _owner(
    model: ir.Model, entity: ir.Entity, pk: tuple[str, ...], reqs: Sequence[Requirement]
) -> str:
    """Whose type prefix names the partition: a collection root, the parent or referenced
    entity whose key the pk is (so related items land in one partition), else the entity."""
    owners = {r.owner for r in reqs if r.owner is not None}
    if owners:
        return sorted(owners)[0]
    if entity.parent:
        parent = model.entity(entity.parent)
        if parent is not None and tuple(parent.key) == pk:
            return parent.name
    if len(pk) == 1:
        attr = entity.attribute(pk[0])
        if attr is not None and attr.references:
            target = model.entity(attr.references)
            if target is not None and len(target.key) == 1:
                return target.name
    return entity.name


def solve(
    model: ir.Model,
    entity_name: str,
    index: str,
    reqs: Sequence[Requirement],
    pinned: ir.PinnedKey | None = None,
    inherited: bool = False,
) -> Placement | None:
    """Merge the requirements landing on (entity, index) into one placement, or None.

    `pinned` templates are used verbatim; `inherited`: they are the previous layout's
    (a derived key kept stable), so NULL handling is checked as strictly as a derived key's."""
    entity = model.entity(entity_name)
    if entity is None:
        return None
    patterns = tuple(sorted({r.pattern for r in reqs}))
    if pinned is not None:
        pk = templates.slots(pinned.pk)
        sk = templates.slots(pinned.sk) if pinned.sk else ()
        if not all(fits(pk, sk, r) for r in reqs):
            return None
        fill = null_fill(entity, pk, sk, reqs, strict=inherited)
        if fill is None:
            return None
        # a kept key belongs to the partition's owner as a derived one would (collections
        # order their members by it: `entity_keys`); a model's pin stays its entity's own
        owner = _owner(model, entity, pk, reqs) if inherited else entity_name
        return Placement(entity_name, index, owner, pk, sk, pinned, patterns, fill, inherited)
    kind = index_kind(index)
    if kind == "lsi":
        return None  # LSIs are only used when pinned
    owners = {r.owner for r in reqs if r.owner is not None}
    if len(owners) > 1:
        return None
    if not reqs:
        if kind != "table":
            return None
        return Placement(entity_name, index, entity_name, tuple(entity.key), ())
    for pk in _pk_candidates(model, entity_name, reqs):
        built = _build_sk(frozenset(pk), reqs)
        fill = None if built is None else null_fill(entity, pk, built, reqs)
        if built is None or fill is None:
            continue
        sk = built
        if kind == "table" or any(r.collection for r in reqs):
            # unique table keys; collection members ordered by their own key
            missing = [k for k in entity.key if k not in pk and k not in sk]
            sk = (*sk, *missing)
        if kind == "table":
            if not pk:
                continue  # a constant partition never holds the whole table
            optional = [
                s for s in (*pk, *sk) if (a := entity.attribute(s)) is None or not a.required
            ]
            if optional:
                continue  # every item needs its table key
            if any(_state_attribute(model, entity, s) for s in (*pk, *sk)):
                continue  # an item's primary key must not change when its attributes do
        return Placement(
            entity_name, index, _owner(model, entity, pk, reqs), pk, sk, None, patterns, fill
        )
    return None


def _state_attribute(model: ir.Model, entity: ir.Entity, slot: str) -> bool:
    """An attribute whose value can change over the item's life (`ir.Model.stable` is false:
    not identity, not the parent link, not declared `immutable`): a price, a status, an
    operator, an email. On a GSI a changed value just moves the index entry; in the table key
    it would turn every change into delete + put and make the item unreachable by its old
    key, so derived table keys never hold such slots (a pinned one is warned about)."""
    return not model.stable(entity, slot)


def null_fill(
    entity: ir.Entity,
    pk: Sequence[str],
    sk: Sequence[str],
    reqs: Sequence[Requirement],
    strict: bool = True,
) -> tuple[tuple[str, bool], ...] | None:
    """How each optional slot treats NULL, or None when no treatment serves every pattern.

    A slot a pattern constrains (`=`, a range, begins_with) may stay sparse: an item whose slot
    is NULL gets no key on the index, which is exact, as SQL's comparison with NULL is never
    true. A slot a pattern only orders by (`order_by` without a condition) must keep its NULL
    items, where PostgreSQL puts them: the slot is filled with the codec's NULL sentinel, high
    (after every value) or low. Returned: the filled slots with their placement.
    A slot a pattern neither binds nor orders by (a later sort-key slot, or the whole sort key
    of a pattern that reads the partition) is fine when another pattern fills it: the NULL
    items are on the index. Refused (None): a filled slot that another pattern on this key
    constrains by a range (the range would read the sentinel), two patterns wanting different
    placements (the search then puts them on different indexes), and, when `strict`, an
    optional slot some pattern neither binds nor orders by and no pattern fills (its NULL items
    would be missing from that pattern's result).
    """
    optional = {s for s in (*pk, *sk) if (a := entity.attribute(s)) is None or not a.required}
    fill: dict[str, bool] = {}
    ranged: set[str] = set()
    unbound: set[str] = set()
    for r in reqs:
        for s in optional:
            if s in r.eq:
                continue
            if s == r.range and not r.order_only:
                ranged.add(s)
            elif s == r.range:
                if fill.setdefault(s, r.nulls_high) != r.nulls_high:
                    return None
            else:
                unbound.add(s)
    if ranged & set(fill):
        return None
    if strict and unbound - set(fill):
        return None
    return tuple(sorted(fill.items()))


def pk_template(placement: Placement, prefixes: dict[str, str]) -> str:
    if placement.pinned is not None:
        return placement.pinned.pk
    if not placement.pk:
        return f"ALL{templates.SEPARATOR}{prefixes[placement.owner]}"
    return templates.build(prefixes[placement.owner], placement.pk)


class _Solved:
    """`solve`, memoized: it is pure and ignores the order of its requirements, so a placement
    is kept per (entity, index, set of requirements, pinned key, inherited). The depth-first
    search revisits the same sets on many branches, and the final placement (`_place`) asks
    again for the sets the assignment chose. The pinned key counts with its span (a
    placement carries it; two pins of equal templates from different lines stay apart)."""

    def __init__(self, model: ir.Model) -> None:
        self.model = model
        self.cache: dict[tuple[object, ...], Placement | None] = {}
        self.misses = 0

    def __call__(
        self,
        entity: str,
        index: str,
        reqs: frozenset[Requirement],
        pinned: ir.PinnedKey | None,
        inherited: bool,
    ) -> Placement | None:
        key = (entity, index, reqs, pinned, pinned.span if pinned else None, inherited)
        if key not in self.cache:
            self.misses += 1
            self.cache[key] = solve(
                self.model, entity, index, sorted(reqs, key=_req_key), pinned, inherited
            )
        return self.cache[key]


class _Search:
    """Holds the requirement sets per (entity, index) while patterns are assigned.

    Placements come from `_Solved` (memoized). `lookups` counts look-ups (the budget),
    `solves` the cache misses.
    """

    def __init__(
        self,
        model: ir.Model,
        state: Derivation,
        pinned: dict[tuple[str, str], ir.PinnedKey],
        inherited: frozenset[tuple[str, str]] = frozenset(),
    ):
        self.model = model
        self.state = state
        self.pinned = pinned
        self.inherited = inherited  # keys of `pinned` that come from the previous layout
        self.reqs: dict[tuple[str, str], list[Requirement]] = {}
        self.solved = _Solved(model)
        self.lookups = 0

    @property
    def solves(self) -> int:
        return self.solved.misses

    def placement(
        self, entity: str, index: str, extra: Iterable[Requirement] = ()
    ) -> Placement | None:
        self.lookups += 1
        reqs = frozenset((*self.reqs.get((entity, index), ()), *extra))
        at = (entity, index)
        return self.solved(entity, index, reqs, self.pinned.get(at), at in self.inherited)

    def unit_fits(self, unit: Unit, index: str) -> bool:
        placed = []
        for req in unit.requirements:
            p = self.placement(req.entity, index, [req])
            if p is None:
                return False
            placed.append(p)
        if unit.root is not None:  # one partition template for every member
            texts = {pk_template(p, self.state.prefixes) for p in placed}
            if len(texts) != 1:
                return False
        return True

    def add(self, unit: Unit, index: str) -> None:
        for req in unit.requirements:
            self.reqs.setdefault((req.entity, index), []).append(req)

    def remove(self, unit: Unit, index: str) -> None:
        for req in unit.requirements:
            self.reqs[(req.entity, index)].remove(req)


def _req_key(req: Requirement) -> tuple[str, str]:
    return (req.pattern, req.entity)


def unit_order(model: ir.Model, unit: Unit) -> tuple[object, ...]:
    """Collections first (largest first), then lookups by a full entity key, then the rest."""
    req = unit.requirements[0]
    entity = model.entity(req.entity)
    identity = entity is not None and set(entity.key) <= req.eq and req.range is None
    return (unit.root is None, -len(unit.requirements), not identity, unit.pattern)


def _gsi_names(taken: Iterable[str]) -> Iterator[str]:
    used = set(taken)
    for n in itertools.count(1):
        if f"GSI{n}" not in used:
            yield f"GSI{n}"


def _pair_fits(pk: frozenset[str], a: Requirement, b: Requirement) -> bool:
    """Whether some sort key serves both `a` and `b` (see `fits`) under pk slots `pk`.

    Each requirement's equality attributes outside the pk must be the leading sk slots and its
    range the slot right after them, so the two leading sets nest; equal ones need equal
    ranges (or one without a range), and a shorter one's range must be among the longer's
    equality attributes."""
    if not (pk <= a.eq and pk <= b.eq):
        return False
    if a.fixed_pk is not None and set(a.fixed_pk) != pk:
        return False
    if b.fixed_pk is not None and set(b.fixed_pk) != pk:
        return False
    ra, rb = a.eq - pk, b.eq - pk
    if len(ra) > len(rb):
        a, b, ra, rb = b, a, rb, ra
    if not ra <= rb:
        return False
    if len(ra) == len(rb):
        return a.range is None or b.range is None or a.range == b.range
    return a.range is None or a.range in rb


def _may_share(kind: str, pinned: ir.PinnedKey | None, a: Requirement, b: Requirement) -> bool:
    """A necessary condition for `solve` to place `a` and `b` (one entity) on one index of
    `kind`: every placement `solve` returns serves each of its requirements (`fits`), takes
    its pk from the pinned template or from a non-empty subset of the equality attributes
    (empty only when every requirement fixes it so, never on the table), and has one owner.
    Over-approximating is safe: it only weakens the bound."""
    if pinned is not None:
        pk, sk = templates.slots(pinned.pk), templates.slots(pinned.sk) if pinned.sk else ()
        return fits(pk, sk, a) and fits(pk, sk, b)
    if kind == "lsi":
        return False
    if a.owner is not None and b.owner is not None and a.owner != b.owner:
        return False
    fixed = a.fixed_pk if a.fixed_pk is not None else b.fixed_pk
    if fixed is not None:
        candidates: Iterable[frozenset[str]] = [frozenset(fixed)]
    else:
        common = sorted(a.eq & b.eq)
        if len(common) > 12:
            return True  # too many subsets to try: assume they may share
        candidates = (
            frozenset(c)
            for size in range(1, len(common) + 1)
            for c in itertools.combinations(common, size)
        )
    return any(_pair_fits(pk, a, b) for pk in candidates if pk or kind != "table")


def _conflicts(
    units: Sequence[Unit], start: Sequence[str], pinned: dict[tuple[str, str], ir.PinnedKey]
) -> list[set[int]]:
    """For each unit, the positions of the units it can share no index with."""
    kinds = [(i, index_kind(i)) for i in start] + [(_FRESH, "gsi")]

    def conflict(u: Unit, v: Unit) -> bool:
        ru = {r.entity: r for r in u.requirements}
        shared = [(ru[r.entity], r) for r in v.requirements if r.entity in ru]
        if not shared:
            return False
        return all(
            any(not _may_share(kind, pinned.get((a.entity, i)), a, b) for a, b in shared)
            for i, kind in kinds
        )

    adjacent = [set[int]() for _ in units]
    for x, y in itertools.combinations(range(len(units)), 2):
        if conflict(units[x], units[y]):
            adjacent[x].add(y)
            adjacent[y].add(x)
    return adjacent


def clique_bound(adjacent: Sequence[set[int]], floor: int) -> int:
    """Indexes any assignment needs: at least `floor`, and one per member of a set of units
    that pairwise cannot share any index (a clique of the conflict graph `adjacent`, grown
    greedily from each unit; any clique is a valid bound)."""
    by_degree = sorted(range(len(adjacent)), key=lambda x: (-len(adjacent[x]), x))
    clique = 0
    for seed in by_degree:
        if len(adjacent[seed]) < clique:
            break  # no clique through this unit (or any later one) beats the best
        members = {seed}
        for x in by_degree:
            if x not in members and members <= adjacent[x]:
                members.add(x)
        clique = max(clique, len(members))
    return max(floor, clique)


_FRESH = "GSI*"  # stands for any derived GSI nobody pinned a key on


def components(units: Sequence[Unit]) -> list[list[Unit]]:
    """Units grouped so that no two groups read a common entity, each in `units`' order.

    `solve` looks at one (entity, index) at a time, so groups never constrain each other: each
    can use every index, and the fewest indexes for all is the most any group needs."""
    group: dict[str, int] = {}
    members: dict[int, list[Unit]] = {}
    for n, unit in enumerate(units):
        ids = sorted({group[e] for e in unit.entities if e in group})
        target = ids[0] if ids else n
        merged = [unit]
        for other in ids[1:]:
            merged = members.pop(other) + merged
        members.setdefault(target, []).extend(merged)
        for u in members[target]:
            for e in u.entities:
                group[e] = target
    order = {u.pattern: n for n, u in enumerate(units)}
    return [sorted(g, key=lambda u: order[u.pattern]) for _k, g in sorted(members.items())]


def own_first(
    unit: Unit, indexes: Sequence[str], pinned: dict[tuple[str, str], ir.PinnedKey]
) -> list[str]:
    """`indexes` in their order, except that those where the unit's entities have pinned keys
    come first (most of them first): a pattern goes on its entity's own pinned index when that
    serves it, not on the first index that merely fits, where the entity would need a key of
    its own (one more index write per item, and a key that can collide with the owner's)."""
    entities = set(unit.entities)
    return sorted(indexes, key=lambda i: -sum((e, i) in pinned for e in entities))


def _first_fit(
    search: _Search, units: Sequence[Unit], start: Sequence[str]
) -> tuple[int, dict[str, str]]:
    """Each unit on the first index that serves it, a new GSI when none does."""
    indexes = list(start)
    chosen: dict[str, str] = {}
    _fit_each(search, units, indexes, _gsi_names(start), chosen)
    search.reqs = {}
    return len(indexes), chosen


def _fit_each(
    search: _Search,
    units: Sequence[Unit],
    indexes: list[str],
    fresh: Iterator[str],
    chosen: dict[str, str],
) -> None:
    """First fit: each unit not yet in `chosen` on the first of `indexes` that serves it (the
    indexes where its entities have keys first, `own_first`), else on the next `fresh` GSI,
    appended to `indexes`. Records the choice in `chosen` and the search."""
    for unit in units:
        if unit.pattern in chosen:
            continue
        candidates = own_first(unit, indexes, search.pinned)
        target = next((i for i in candidates if search.unit_fits(unit, i)), None)
        if target is None:
            target = next(fresh)
            indexes.append(target)
            if not search.unit_fits(unit, target):  # pragma: no cover - a fresh GSI serves any unit
                continue
        search.add(unit, target)
        chosen[unit.pattern] = target


def _least_indexes(
    search: _Search,
    units: Sequence[Unit],
    start: Sequence[str],
    pinned: dict[tuple[str, str], ir.PinnedKey],
) -> int:
    """A lower bound on the indexes every assignment of `units` needs: per group of units
    (see `components`), its minimum when a search of its own proves it within the budget,
    else its clique bound; the most over the groups. The proving search takes the most
    constrained units first (most conflicts), which prunes early; the order does not change
    the minimum it proves."""
    bound = len(start)
    for group in components(units):
        adjacent = _conflicts(group, start, pinned)
        least = clique_bound(adjacent, len(start))
        order = sorted(range(len(group)), key=lambda x: (-len(adjacent[x]), x))
        constrained = [group[x] for x in order]
        count, chosen = _first_fit(search, constrained, start)
        if count > least:
            (count, _chosen), cut = _improve(search, constrained, start, least, (count, chosen))
            least = least if cut else count
        bound = max(bound, least)
    return bound


def _model_pins(model: ir.Model) -> dict[tuple[str, str], ir.PinnedKey]:
    pinned: dict[tuple[str, str], ir.PinnedKey] = {}
    for entity in model.entities:
        for key in entity.pinned_keys:
            pinned[(entity.name, index_name(key.index))] = key
    return pinned


def assign_indexes(model: ir.Model, state: Derivation) -> Derivation:
    if state.previous is not None:
        return assign_stable(model, state, state.previous)
    pinned = _model_pins(model)
    pinned_indexes = sorted({i for _e, i in pinned if i != TABLE}, key=_index_sort_key)
    base = [TABLE, *(i for i in pinned_indexes if index_kind(i) == "gsi")]
    lsis = [i for i in pinned_indexes if index_kind(i) == "lsi"]
    units = sorted(state.units, key=lambda u: unit_order(model, u))
    start = [*base[:1], *lsis, *base[1:]]

    search = _Search(model, state, pinned)
    best = _first_fit(search, units, start)
    stats = SearchStats(first_fit=best[0])
    # Search for an assignment with fewer indexes, unless first fit already meets the bound:
    # the search returns the first assignment, in depth-first order, that needs the fewest.
    if best[0] > len(start) and len(units) <= SEARCH_MAX_UNITS:
        bound = _least_indexes(search, units, start, pinned)
        stats = replace(stats, lower_bound=bound)
        if best[0] > bound:
            best, cut = _improve(search, units, start, bound, best)
            stats = replace(stats, searched=True, exhausted=cut)
    else:  # nothing to improve, or too many units to search (first fit stands)
        stats = replace(stats, lower_bound=len(start))
    stats = replace(stats, lookups=search.lookups, solves=search.solves, indexes=best[0])

    _count, chosen = best
    used = sorted(set(chosen.values()) | {TABLE} | set(pinned_indexes), key=_index_sort_key)
    rename = _compact(used, pinned_indexes)
    assignment = {p: rename[i] for p, i in chosen.items()}
    placed = _place(model, state, pinned, units, assignment, rename, search.solved)
    return replace(placed, search=stats)


def _index_sort_key(name: str) -> tuple[int, int]:
    if name == TABLE:
        return (0, 0)
    m = re.fullmatch(r"([A-Z]+)(\d+)", name)
    number = int(m.group(2)) if m else 0
    return (1 if name.startswith("GSI") else 2, number)


def _compact(used: list[str], pinned: list[str]) -> dict[str, str]:
    """Renumber derived GSIs densely (GSI1, GSI2, ...) around pinned GSI numbers."""
    rename = {i: i for i in used if i == TABLE or i in pinned or index_kind(i) == "lsi"}
    fresh = _gsi_names(pinned)
    for name in used:
        if name not in rename:
            rename[name] = next(fresh)
    return rename


def _improve(
    search: _Search,
    units: Sequence[Unit],
    start: Sequence[str],
    bound: int,
    best: tuple[int, dict[str, str]],
) -> tuple[tuple[int, dict[str, str]], bool]:
    """Depth-first over the assignments for one with fewer indexes than `best`.

    Returns the best assignment found and whether the budget (SEARCH_BUDGET look-ups) cut the
    search short before it was proven minimal. It stops, without loss, once an assignment
    reaches `bound`: none does better."""
    result = [best]
    budget = search.lookups + SEARCH_BUDGET
    cut = [False]
    all_names = list(itertools.islice(_gsi_names(start), 0, 64))

    def dfs(i: int, indexes: list[str], chosen: dict[str, str]) -> None:
        if result[0][0] <= bound or len(indexes) >= result[0][0]:
            return
        if search.lookups > budget:
            cut[0] = True
            return
        if i == len(units):
            result[0] = (len(indexes), dict(chosen))
            return
        unit = units[i]
        options = list(indexes)
        if len(indexes) + 1 < result[0][0]:
            options.append(all_names[len(indexes) - len(start)])
        options = own_first(unit, options, search.pinned)
        for index in options:
            if not search.unit_fits(unit, index):
                continue
            search.add(unit, index)
            chosen[unit.pattern] = index
            dfs(i + 1, indexes if index in indexes else [*indexes, index], chosen)
            del chosen[unit.pattern]
            search.remove(unit, index)

    dfs(0, list(start), {})
    search.reqs = {}
    return result[0], cut[0] and result[0][0] > bound


def _place(
    model: ir.Model,
    state: Derivation,
    pinned: dict[tuple[str, str], ir.PinnedKey],
    units: list[Unit],
    assignment: dict[str, str],
    rename: dict[str, str],
    solved: _Solved,
    inherited: frozenset[tuple[str, str]] = frozenset(),
) -> Derivation:
    """The placements of the chosen assignment (from the search's memo where it already
    solved the same requirement sets), and what the key builders need besides."""
    reqs: dict[tuple[str, str], list[Requirement]] = {}
    for unit in units:
        index = assignment.get(unit.pattern)
        if index is None:
            continue
        for req in unit.requirements:
            reqs.setdefault((req.entity, index), []).append(req)
    index_names = sorted(set(rename.values()), key=_index_sort_key)
    placements: list[Placement] = []
    for entity in sorted(model.entities, key=lambda e: e.name):
        for index in index_names:
            key = (entity.name, index)
            if key not in reqs and key not in pinned and index != TABLE:
                continue
            placement = solved(
                entity.name, index, frozenset(reqs.get(key, ())), pinned.get(key), key in inherited
            )
            if placement is not None:
                placements.append(placement)
    parent_first: dict[tuple[str, str], str] = {}
    for unit in units:
        pattern = model.pattern(unit.pattern)
        index = assignment.get(unit.pattern)
        if unit.root is None or pattern is None or index is None:
            continue
        if pattern.order == "desc" or pattern.limit is not None:
            parent_first.setdefault((index, unit.root), pattern.order)
    return replace(
        state,
        assignment=assignment,
        placements=tuple(placements),
        index_names=tuple(index_names),
        parent_first=parent_first,
    )


# --------------------------------------------------------------------------- stable assignment


def inherited_keys(model: ir.Model, previous: ir.Layout) -> dict[tuple[str, str], ir.PinnedKey]:
    """The previous layout's entity keys the model can still write, as templates to keep:
    {(entity, index): key}. A key is left out when its entity is gone, a slot is no longer a
    keyable attribute of it, or (table key) a slot is optional or can change, or the identity
    is no longer inside it; an LSI key only while its entity keeps its table partition key.
    Keys of GSIs that `strategy: lowest_cost` replaced by copies count under the GSI's name."""
    found: list[tuple[str, ir.EntityKey]] = [
        (el.entity, key) for el in previous.entities for key in el.keys
    ]
    found += [(c.entity, replace(c.key, index=c.name)) for c in previous.copies if c.key]
    names = {i.name: i.kind for i in previous.indexes} | {c.name: "gsi" for c in previous.copies}
    out: dict[tuple[str, str], ir.PinnedKey] = {}
    for entity_name, key in found:
        entity = model.entity(entity_name)
        kind = names.get(key.index)
        if entity is None or kind is None or index_kind(key.index) != kind:
            continue
        slots = (*templates.slots(key.pk), *(templates.slots(key.sk) if key.sk else ()))
        attrs = [entity.attribute(s) for s in slots]
        if any(a is None or not a.type.keyable for a in attrs):
            continue
        if kind == "table":
            if key.sk is None or not set(entity.key) <= set(slots):
                continue
            if any(a is None or not a.required or not model.stable(entity, a.name) for a in attrs):
                continue
        out[(entity_name, key.index)] = ir.PinnedKey(key.index.lower(), key.pk, key.sk)
    return {
        (e, i): k
        for (e, i), k in out.items()
        if index_kind(i) != "lsi" or ((e, TABLE) in out and out[(e, TABLE)].pk == k.pk)
    }


def assign_stable(model: ir.Model, state: Derivation, previous: ir.Layout) -> Derivation:
    """The assignment that keeps a previously compiled layout (a lock) where it still serves.

    1. Every key of the previous layout the model can still write (`inherited_keys`) is a
       template to keep, unless the model pins that (entity, index) itself.
    2. A pattern the previous layout served goes back to its index when the kept keys there
       still serve it.
    3. Every other pattern goes on the first existing index that serves it (the indexes where
       its entities already have keys first, `own_first`), else on a new GSI with the lowest
       number that neither layout uses: a GSI this change drops still exists on the live
       table until the clean-up step deletes it, so its number is not reused in the same step.
    4. Kept keys no pattern uses any more are dropped, and so are indexes left without keys;
       the other indexes keep their numbers (no renumbering). LSIs only ever come from the
       previous layout or the model's pins: an LSI cannot be added to a live table, nor
       deleted from one, so an LSI's kept keys stay even when no pattern reads it.

    Deterministic: same model and same previous layout, same assignment."""
    own = _model_pins(model)
    kept = {k: v for k, v in inherited_keys(model, previous).items() if k not in own}
    pinned = {**kept, **own}
    inherited = frozenset(kept)
    existing = sorted({TABLE, *(i for _e, i in pinned)}, key=_index_sort_key)
    start = [
        *(i for i in existing if index_kind(i) != "gsi"),
        *(i for i in existing if index_kind(i) == "gsi"),
    ]
    before = {p.pattern: p.copy or p.index for p in previous.plans}
    for copy in previous.copies:
        for plan in copy.plans:
            before.setdefault(plan.pattern, copy.name)
    units = sorted(state.units, key=lambda u: unit_order(model, u))
    search = _Search(model, state, pinned, inherited)
    chosen: dict[str, str] = {}
    for unit in units:  # back where the previous layout served it
        index = before.get(unit.pattern)
        if index in start and search.unit_fits(unit, index):
            search.add(unit, index)
            chosen[unit.pattern] = index
    reserved = {
        *start,
        *(i.name for i in previous.indexes),
        *(c.name for c in previous.copies),
    }
    fresh = _gsi_names(reserved)
    indexes = list(start)
    _fit_each(search, units, indexes, fresh, chosen)
    used_keys = {k for k, reqs in search.reqs.items() if reqs}
    search.reqs = {}
    # an LSI exists only from table creation and cannot be deleted from a live table: its
    # kept keys stay (items keep their LSI sort key) even when no pattern reads it any more,
    # so removing a pattern never turns into a new table (`--fresh` drops it)
    keep = {
        k: v
        for k, v in pinned.items()
        if k in own or k in used_keys or k[1] == TABLE or (k in kept and index_kind(k[1]) == "lsi")
    }
    used = sorted(
        {TABLE, *chosen.values(), *(i for _e, i in own), *(i for _e, i in keep)},
        key=_index_sort_key,
    )
    stats = SearchStats(
        lookups=search.lookups,
        solves=search.solves,
        first_fit=len(used),
        lower_bound=len(start),
        indexes=len(used),
    )
    placed = _place(
        model,
        state,
        keep,
        units,
        chosen,
        {i: i for i in used},
        search.solved,
        inherited & frozenset(keep),
    )
    return replace(placed, search=stats)
