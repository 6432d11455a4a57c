"""Write sharding, derived: a partition too hot for one DynamoDB partition is spread over N.

One home of the hot-partition arithmetic (`partition_loads`): the pass below shards what it
can, and `modeling.compile.checks` warns about what stays hot. Both ask `hot_loads`, which
skips the keys no rate falls on (`has_rate`: W = 0 and no reads give one shard): a big seeded
model declares no rates, so its compile works out no load at all.

Per derived GSI key (entity, index) the expected load of its hottest partition is

    partitions  P = product over the partition key's slots of the attribute's distinct values
                    (pg_stats n_distinct, an enum's size, a boolean's 2, a referenced entity's
                    row_count: `modeling.cost`), 1 for a constant partition key
    writes      W = the entity's `writes_per_second` (else the largest pattern
                    `rate: {writes_per_second}` of the patterns reading the key)
    WCU / write w = ceil(item size as the index projects it / 1 KB)   (`modeling.cost`)
    hot WCU       = W x w / P          (writes spread evenly over the partition values)
    reads per pattern on the key: R = `rate: {reads_per_second}`, each call reading
                    r RCU (`modeling.cost`: items per request x size, at most one 1 MB page,
                    4 KB units, eventually consistent)
    hot RCU       = sum of R x r / P

A partition may use SAFE_SHARE (50 %) of DynamoDB's per-partition limits (1,000 WCU and 3,000
RCU per second): the rest is headroom for skew between values (a 2x hotter value still fits)
and bursts. The shard count is

    N = max(ceil(hot WCU / (SAFE_SHARE x 1,000)), ceil(hot RCU / (SAFE_SHARE x 3,000)))

not rounded to a power of two (the slot is a hash mod N: any N spreads evenly). N > 1 shards
the key: every item's partition key value gets the suffix `#<slot>`
(`modeling.runtime.sharding`), and every plan reading that partition queries the N shards and
merges them by the sort key. All entities keyed on the same index with the same partition
template are sharded together (a collection read queries every shard for all of them).

What cannot be sharded keeps a `hot-partition` warning: the table key and LSIs (GetItem needs
the key; an LSI shares the table's partition), a pinned key (checked, never rewritten), a
non-string partition key, more than MAX_SHARDS shards, and reads whose Query count alone
(0.5 RCU per Query per shard at least) exceeds a partition.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

from modeling import cost
from modeling.compile.state import Derivation
from modeling.core import ir, limits
from modeling.core.diagnostics import Diagnostic, Severity

SAFE_SHARE = 0.5  # of a partition's throughput a key may plan to use
MAX_SHARDS = 64  # beyond this, a read queries too many shards: the design needs another key
MIN_QUERY_RCU = 0.5  # an eventually consistent Query costs at least half a read unit


@dataclass(frozen=True)
class PartitionLoad:
    """The hottest partition of one entity key on one index, and the shards it needs."""

    entity: str
    index: str
    pk: str  # the partition key template
    partitions: float | None  # P; None when a slot's distinct values are unknown
    partitions_basis: str
    writes: float  # W, items/s
    wcu_per_write: int
    hot_wcu: float | None
    hot_rcu: float | None
    read_basis: tuple[str, ...]
    shards: int  # N (1: one partition is enough)
    why_not: str | None = None  # why a key that needs shards cannot have them

    @property
    def hot(self) -> bool:
        return self.shards > 1

    def arithmetic(self) -> str:
        """The figures, as explain, layout.md and layout.json show them."""
        parts = [f"P = {self.partitions_basis}"]
        wcu_cap = SAFE_SHARE * limits.PARTITION_WCU
        rcu_cap = SAFE_SHARE * limits.PARTITION_RCU
        if self.hot_wcu is not None and self.writes:
            parts.append(
                f"writes {self.writes:g}/s x {self.wcu_per_write} WCU / P = "
                f"{self.hot_wcu:g} WCU/s per partition; / {wcu_cap:g} "
                f"({SAFE_SHARE:.0%} of {limits.PARTITION_WCU}) = "
                f"{math.ceil(self.hot_wcu / wcu_cap - 1e-9)} shard(s)"
            )
        if self.hot_rcu is not None and self.hot_rcu:
            parts.append(
                f"reads {' + '.join(self.read_basis)} / P = {self.hot_rcu:g} RCU/s per "
                f"partition; / {rcu_cap:g} ({SAFE_SHARE:.0%} of {limits.PARTITION_RCU}) = "
                f"{math.ceil(self.hot_rcu / rcu_cap - 1e-9)} shard(s)"
            )
        parts.append(f"N = {self.shards} (the larger, not rounded to a power of two)")
        return "; ".join(parts)


def load_of(
    model: ir.Model,
    layout: ir.Layout,
    entity: ir.Entity,
    index: ir.Index,
    ek: ir.EntityKey,
    size: float | None = None,
) -> PartitionLoad:
    """The load of `entity`'s hottest partition on `index` and the shards it needs.

    `size`: `cost.projected_bytes(layout, index, entity)` when the caller has it already."""
    partitions, pbasis = cost.partition_values(model, entity, ek.pk)
    plans = layout.plans_on(index.name, ek.pk)
    writes = entity.writes_per_second or 0.0
    for plan in plans:
        pattern = model.pattern(plan.pattern)
        if pattern is not None and pattern.rate is not None and entity.name in plan.entities:
            writes = max(writes, pattern.rate.writes_per_second or 0.0)
    if size is None:
        size = cost.projected_bytes(layout, index, entity)
    wcu = max(1, math.ceil(size / cost.WRITE_UNIT))
    hot_wcu = hot_rcu = None
    need_w = need_r = 1
    read_basis: list[str] = []
    why_not: str | None = None
    if partitions is not None:
        hot_wcu = round(writes * wcu / partitions, 6)
        need_w = math.ceil(hot_wcu / (SAFE_SHARE * limits.PARTITION_WCU) - 1e-9)
        hot_rcu = 0.0
        queries = 0.0
        for plan in sorted(plans, key=lambda p: p.pattern):
            pattern = model.pattern(plan.pattern)
            reads = pattern.rate.reads_per_second if pattern and pattern.rate else None
            if not reads:
                continue
            items, _ = cost.items_per_request(model, layout, plan)
            # one call reads its first page: at most 1 MB (DynamoDB's page), whatever the range
            read = min((items or 1.0) * size, limits.QUERY_PAGE_BYTES)
            rcu = cost.read_units(plan, read)
            hot_rcu += reads * rcu / partitions
            queries += reads / partitions
            read_basis.append(f"{plan.pattern} {reads:g}/s x {rcu:g} RCU")
        hot_rcu = round(hot_rcu, 6)
        need_r = math.ceil(hot_rcu / (SAFE_SHARE * limits.PARTITION_RCU) - 1e-9)
        if need_r > 1 and queries * MIN_QUERY_RCU > SAFE_SHARE * limits.PARTITION_RCU:
            why_not = (
                f"{queries:g} Queries/s per partition cost {MIN_QUERY_RCU} RCU each on every "
                "shard: sharding cannot spread reads that many (cache them, e.g. DAX)"
            )
    shards = max(need_w, need_r, 1)
    if shards > 1 and why_not is None:
        if index.kind != "gsi":
            why_not = (
                f"the partition key is on {'the table' if index.kind == 'table' else 'an LSI'}"
            )
        elif ek.pinned:
            why_not = "the key is pinned in the model (`keys:`), so it is never rewritten"
        elif index.pk.type != "S":
            why_not = f"the partition key {index.pk.name} is of type {index.pk.type}, not a string"
        elif shards > MAX_SHARDS:
            why_not = (
                f"it needs {shards} shards, more than {MAX_SHARDS} (every read would query "
                "them all): key on a higher-cardinality attribute"
            )
    return PartitionLoad(
        entity=entity.name,
        index=index.name,
        pk=ek.pk,
        partitions=partitions,
        partitions_basis=pbasis,
        writes=writes,
        wcu_per_write=wcu,
        hot_wcu=hot_wcu,
        hot_rcu=hot_rcu,
        read_basis=tuple(read_basis),
        shards=shards,
        why_not=why_not,
    )


def partition_loads(
    model: ir.Model, layout: ir.Layout, rated_only: bool = False
) -> Iterator[PartitionLoad]:
    """The load of every entity key of `layout` (in layout order); with `rated_only`, of the
    keys with a rate on them only (`has_rate`: the others need no shard)."""
    for el in layout.entities:
        entity = model.entity(el.entity)
        if entity is None:
            continue
        whole: float | None = None  # the entity's whole item: the same on every ALL index
        for ek in el.keys:
            index = layout.index(ek.index)
            if index is None:
                continue
            if rated_only and not has_rate(model, layout, entity, ek):
                continue
            try:
                if cost.projects_whole_item(index):
                    if whole is None:
                        whole = cost.item_bytes(layout, entity)
                    size = whole
                else:
                    size = cost.projected_bytes(layout, index, entity)
                yield load_of(model, layout, entity, index, ek, size)
            except ValueError:  # a malformed template: its own check reports it
                continue


def has_rate(model: ir.Model, layout: ir.Layout, entity: ir.Entity, ek: ir.EntityKey) -> bool:
    """Whether a rate falls on `entity`'s partitions under `ek`: the entity's
    `writes_per_second`, or a pattern `rate:` of a plan reading that partition (its
    `writes_per_second` when the plan reads the entity, its `reads_per_second`). Without one,
    `load_of` finds W = 0 and no reads: 0 WCU and 0 RCU per partition, one shard, whatever
    the item size and the partition count (most keys of a big seeded model)."""
    if entity.writes_per_second:
        return True
    for plan in layout.plans_on(ek.index, ek.pk):
        pattern = model.pattern(plan.pattern)
        rate = pattern.rate if pattern is not None else None
        if rate is None:
            continue
        if rate.reads_per_second or (rate.writes_per_second and entity.name in plan.entities):
            return True
    return False


def hot_loads(model: ir.Model, layout: ir.Layout) -> Iterator[PartitionLoad]:
    """The loads of `partition_loads` that need shards (`PartitionLoad.hot`), in layout order;
    a key without a rate on it (`has_rate`) is not worked out."""
    return (load for load in partition_loads(model, layout, rated_only=True) if load.hot)


def _layout(state: Derivation, model: ir.Model) -> ir.Layout:
    return ir.Layout(
        model=model.name,
        table_name=model.table.name,
        indexes=state.indexes,
        entities=state.entity_layouts,
        plans=state.plans,
    )


def shard_partitions(model: ir.Model, state: Derivation) -> Derivation:
    """The pass: set `PatternPlan.sharded` on every plan reading a partition that needs
    shards (writes then carry the slot: `ir.Layout.key_shards`)."""
    layout = _layout(state, model)
    # only hot loads: one that needs no shard has no `why_not` and is never the hottest
    groups: dict[tuple[str, str], list[PartitionLoad]] = {}
    for load in hot_loads(model, layout):
        groups.setdefault((load.index, load.pk), []).append(load)
    shards: dict[tuple[str, str], tuple[int, str]] = {}
    for group, loads in groups.items():
        if any(load.why_not is not None for load in loads):
            continue
        hottest = max(loads, key=lambda load: (load.shards, load.entity))
        shards[group] = (hottest.shards, hottest.arithmetic())
    if not shards:
        return state
    plans = []
    diagnostics: list[Diagnostic] = []
    for plan in state.plans:
        found = shards.get((plan.index, plan.pk.template))
        if found is None:
            plans.append(plan)
            continue
        n, arithmetic = found
        line = (
            f"the partition {plan.pk.template!r} is written across {n} shards (suffix #0..#{n - 1}, "
            f"a hash of the item's identity): {arithmetic}; the client queries all {n} shards "
            "in parallel and merges them by the sort key"
        )
        plans.append(replace(plan, sharded=n, proof=(*plan.proof, line)))
        diagnostics.append(
            Diagnostic(
                "sharded-partition",
                Severity.INFO,
                f"pattern {plan.pattern!r}: {line}",
                None,
                None,
                plan.pattern,
            )
        )
    return replace(state, plans=tuple(plans)).with_diagnostics(*diagnostics)
