"""Capacity and cost of a compiled layout: item sizes, read and write units per pattern and per
index, storage, and the monthly bill on-demand vs provisioned.

Inputs are what the model declares: `row_count` per entity, `rate: {reads_per_second}` per
pattern, `writes_per_second` per entity, column bounds (`max_length`) and pg_stats
(`avg_width`, `n_distinct`, `null_frac`) per attribute. Prices come from a data file with its
date and source (`modeling/data/dynamodb-prices.json`, or `--prices FILE`).

The arithmetic, as DynamoDB bills it:

- an item's size is the UTF-8 length of its attribute names plus its values; a value's size is
  estimated from pg_stats `avg_width`, else `max_length`, else its type (a key attribute from
  its template's literal text plus its slots' encoded lengths);
- a read unit covers 4 KB: a GetItem of `b` bytes costs ceil(b / 4096) units, a Query sums the
  sizes of the items it reads and rounds once; eventually consistent reads cost half;
- a write unit covers 1 KB, for the table and again for every GSI the item is written to
  (with the index's projection): an entity's writes/s x sum over indexes of ceil(size / 1024);
- storage is the projected item size plus 100 bytes of per-item overhead, per index;
- on-demand: request units x price per million; provisioned: per index, units = the need /
  70% target utilisation (rounded up, at least 1), x 730 hours x the hourly price.

A figure that needs a number the model lacks (a row count, a rate) is None, and the report's
notes say what to declare. Estimates, not quotes: the free tier, reserved capacity, backups,
streams and data transfer are left out.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from modeling.core import inputs, ir, limits
from modeling.core.errors import InputError
from modeling.runtime import keys

READ_UNIT = 4096  # bytes per read unit
WRITE_UNIT = 1024  # bytes per write unit
ITEM_OVERHEAD = 100  # bytes of storage DynamoDB adds per item and index
TARGET_UTILIZATION = 0.7  # provisioned capacity is sized for this share of its units
GB = 1024**3
# encoded key-slot lengths (runtime/keys): integers are 20 digits, datetimes 27 characters
_SLOT_BYTES = {"integer": 20, "decimal": 24, "float": 24, "datetime": 27, "date": 10}
_SLOT_BYTES |= {"uuid": 36, "boolean": 1}
_VALUE_BYTES = {"integer": 6, "decimal": 8, "float": 10, "boolean": 1, "date": 10}
_VALUE_BYTES |= {"datetime": 27, "uuid": 36, "binary": 16, "map": 64, "list": 48, "set": 32}
_DEFAULT_STRING = 32  # bytes of a string with no bound and no statistics
_RANGES = frozenset({"lt", "le", "gt", "ge", "between"})


class CostError(InputError):
    """A price table or region the cost estimate cannot use."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def price_table(path: Path | None = None) -> Any:
    """The price table as JSON data: `path`, or the packaged `data/dynamodb-prices.json` (the
    one reader of the file; callers turn OSError/ValueError into a CostError of their own)."""
    if path is None:
        text = (resources.files("modeling") / "data" / "dynamodb-prices.json").read_text("utf-8")
    else:  # regular files only, size-capped: `--prices /dev/zero` used to fill memory
        text = inputs.read_text(path, "prices")
    return json.loads(text)


def _price(where: str, name: str, value: object) -> float:
    """A price (or an hour count) from the table: a finite number >= 0 (NaN, Infinity and
    negative prices were used as is; `--json` then printed NaN, which is not JSON)."""
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number < 0:
        raise CostError(
            f"{name} in {where} is {value!r}; a price is a finite number >= 0",
            f"fix {name} in the price table (USD, as on the AWS pricing page)",
        )
    return number


@dataclass(frozen=True)
class Prices:
    """One region's prices (USD) and where they come from."""

    region: str
    date: str
    source: str
    write_request_units_per_million: float
    read_request_units_per_million: float
    wcu_hour: float
    rcu_hour: float
    storage_gb_month: float
    hours_per_month: float = 730
    # every numeric price of the region by name (the five above included), so a new entry in
    # the data file (an import price, a table class) is readable without a new field here
    named: dict[str, float] = field(default_factory=dict)
    unverified: tuple[str, ...] = ()  # names whose value was not checked against the source

    def price(self, name: str) -> float:
        """The region's price called `name`; a clear error when the table lacks it."""
        if name not in self.named:
            raise CostError(
                f"no price {name!r} for region {self.region!r} in the price table",
                f"known: {', '.join(sorted(self.named))}",
            )
        return self.named[name]

    @property
    def seconds_per_month(self) -> float:
        return self.hours_per_month * 3600

    @staticmethod
    def load(region: str = "us-east-1", path: Path | None = None) -> Prices:
        """The prices of `region` from `path` (default: the packaged table)."""
        try:
            table = price_table(path)
            regions = table["regions"]
            if region not in regions:
                raise CostError(
                    f"no prices for region {region!r} in {path or 'the packaged price table'}",
                    f"known regions: {', '.join(sorted(regions))}; add the region to a copy "
                    "of the table and pass it with --prices FILE",
                )
            where = str(path or "the packaged price table")
            entry = regions[region]
            if not isinstance(entry, dict):
                raise CostError(
                    f"regions.{region} in {where} is {type(entry).__name__}, not an object",
                    "regions.{region} maps each unit price's name to its price",
                )
            named = {
                k: _price(where, f"regions.{region}.{k}", v)
                for k, v in sorted(entry.items())
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            hours = _price(where, "hours_per_month", table.get("hours_per_month", 730))
            unverified = entry.get("unverified", [])
            if not isinstance(unverified, list):
                raise CostError(
                    f"regions.{region}.unverified in {where} is {unverified!r}, not a list",
                    "a list of the price names not checked against the source",
                )
            if hours <= 0:
                raise CostError(
                    f"hours_per_month in {where} is {hours:g}; a month has hours",
                    "730 (AWS bills a month as 730 hours)",
                )
            return Prices(
                region=region,
                date=str(table["date"]),
                source=str(table["source"]),
                hours_per_month=hours,
                write_request_units_per_million=named["write_request_units_per_million"],
                read_request_units_per_million=named["read_request_units_per_million"],
                wcu_hour=named["wcu_hour"],
                rcu_hour=named["rcu_hour"],
                storage_gb_month=named["storage_gb_month"],
                named=named,
                unverified=tuple(sorted(str(n) for n in unverified)),
            )
        except CostError:
            raise
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            what = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise CostError(
                f"cannot read the price table {path or '(packaged)'}: {what}",
                "a JSON object with date, source and regions.{region}.{unit prices}",
            ) from exc


@dataclass(frozen=True)
class PatternCost:
    pattern: str
    index: str
    operation: str
    items_per_request: float | None
    basis: str  # how items_per_request was estimated
    upper_bound: bool  # a sort-key range reads a part of the partition the estimate counts whole
    bytes_per_request: float | None
    read_units_per_request: float | None  # eventually consistent
    reads_per_second: float
    read_units_per_second: float | None
    on_demand_monthly: float | None
    partition_share: float | None  # of one partition's 3,000 RCU if every read hits one value


@dataclass(frozen=True)
class IndexCost:
    index: str
    entities: tuple[str, ...]
    items: int | None
    storage_bytes: float | None
    writes_per_second: float
    write_units_per_second: float
    read_units_per_second: float | None
    provisioned_rcu: int | None
    provisioned_wcu: int


@dataclass(frozen=True)
class Totals:
    storage_gb: float | None
    read_units_per_second: float | None
    write_units_per_second: float
    on_demand_reads: float | None
    on_demand_writes: float
    storage: float | None
    on_demand_total: float | None
    provisioned_reads: float | None
    provisioned_writes: float
    provisioned_total: float | None


@dataclass(frozen=True)
class CostReport:
    model: str
    prices: Prices
    item_bytes: dict[str, float]  # entity -> estimated item size on the table
    patterns: tuple[PatternCost, ...]
    indexes: tuple[IndexCost, ...]
    totals: Totals
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- sizes


def value_bytes(attribute: ir.Attribute) -> float:
    """Estimated bytes of one stored value (0 weight for the share that is NULL)."""
    stats = attribute.stats
    kind = attribute.type.kind
    if stats is not None and stats.avg_width and kind in ("string", "binary", "map", "list"):
        size: float = stats.avg_width
    elif kind == "string":
        size = (
            attribute.max_length
            if attribute.max_length is not None and attribute.max_length < 64
            else (attribute.max_length / 2 if attribute.max_length else _DEFAULT_STRING)
        )
        if attribute.enum:
            size = max(len(v.encode("utf-8")) for v in attribute.enum)
    else:
        size = _VALUE_BYTES.get(kind, _DEFAULT_STRING)
    present = 1.0
    if not attribute.required and stats is not None and stats.null_frac is not None:
        present = 1.0 - stats.null_frac
    return present * (len(attribute.name.encode("utf-8")) + size)


def _slot_bytes(attribute: ir.Attribute | None) -> float:
    if attribute is None:
        return _DEFAULT_STRING
    kind = attribute.type.kind
    if kind in _SLOT_BYTES:
        return _SLOT_BYTES[kind]
    return value_bytes(attribute) - len(attribute.name.encode("utf-8"))


def _template_bytes(entity: ir.Entity, template: str) -> float:
    parsed = keys.parse_template(template)
    size: float = 0
    for part in parsed.parts:
        if isinstance(part, keys.Slot):
            size += _slot_bytes(entity.attribute(part.attribute))
        else:
            size += len(part.text.encode("utf-8"))
    return size


def _key_bytes(index: ir.Index, entity: ir.Entity, ek: ir.EntityKey) -> float:
    if index.on_attributes:  # keyed on the item's own attributes: no synthetic key bytes
        return 0
    size = len(index.pk.name) + _template_bytes(entity, ek.pk)
    if index.sk is not None and ek.sk is not None:
        size += len(index.sk.name) + _template_bytes(entity, ek.sk)
    return size


def item_bytes(layout: ir.Layout, entity: ir.Entity) -> float:
    """The whole item on the table: attributes, the type attribute and every index key."""
    size = sum(value_bytes(a) for a in sorted(entity.attributes, key=lambda a: a.name))
    size += len(layout.type_attribute) + len(entity.name)
    el = layout.entity(entity.name)
    for index in layout.indexes:
        ek = el.key(index.name) if el is not None else None
        if ek is not None:
            size += _key_bytes(index, entity, ek)
    return size


def projected_bytes(layout: ir.Layout, index: ir.Index, entity: ir.Entity) -> float:
    """The entity's item as `index` stores it (its projection)."""
    if index.kind == "table" or index.projection == "ALL":
        return item_bytes(layout, entity)
    el = layout.entity(entity.name)
    size: float = 0
    for other in layout.indexes:
        if other.kind == "table" or other.name == index.name:
            ek = el.key(other.name) if el is not None else None
            if ek is not None:
                size += _key_bytes(other, entity, ek)
    if index.projection == "INCLUDE":
        for name in index.non_key_attributes:
            a = entity.attribute(name)
            if a is not None:
                size += value_bytes(a)
    return size


# --------------------------------------------------------------------------- reads


def _distinct(model: ir.Model, entity: ir.Entity, slot: str) -> float | None:
    a = entity.attribute(slot)
    if a is None:
        return None
    rows = entity.row_count
    if a.stats is not None and a.stats.n_distinct:
        n = a.stats.n_distinct
        return n if n > 0 else (-n * rows if rows else None)
    if a.enum:
        return len(a.enum)
    if a.type.kind == "boolean":
        return 2
    if a.references is not None:
        ref = model.entity(a.references)
        return ref.row_count if ref is not None else None
    if entity.key == (slot,):
        return rows
    parent = model.entity(entity.parent) if entity.parent else None
    if parent is not None and slot in parent.key:
        return parent.row_count
    return None


def distinct_values(model: ir.Model, entity: ir.Entity, slot: str) -> float | None:
    """The number of distinct values of `entity.slot` (pg_stats `n_distinct`, an enum, a
    boolean, the row count of a referenced entity or of the entity itself for its one-attribute
    identity, the parent's rows for a parent-key attribute); None when unknown."""
    return _distinct(model, entity, slot)


def items_per_request(
    model: ir.Model, layout: ir.Layout, plan: ir.PatternPlan
) -> tuple[float | None, str]:
    if plan.operation == "GetItem":
        return 1.0, "GetItem: one item"
    if plan.unique:
        return 1.0, "unique: at most one item"
    total: float = 0
    reasons: list[str] = []
    for name in sorted(plan.entities):
        entity = model.entity(name)
        el = layout.entity(name)
        ek = el.key(plan.index) if el is not None else None
        if entity is None or ek is None:
            continue
        if entity.row_count is None:
            return None, f"{name} has no row_count"
        partitions: float = 1
        for slot in keys.parse_template(ek.pk).slots:
            d = _distinct(model, entity, slot)
            if d is None:
                return None, f"the number of distinct {name}.{slot} values is unknown"
            partitions *= max(d, 1)
        share = entity.row_count / min(max(partitions, 1), max(entity.row_count, 1))
        total += share
        reasons.append(f"{name}: {entity.row_count:g} rows / {partitions:g} partition value(s)")
    basis = "; ".join(reasons) or "no entity on the index"
    if plan.sk.kind in _RANGES:
        basis += " (the whole partition: the sort-key range reads less)"
    if plan.limit is not None and total > plan.limit:
        total, basis = float(plan.limit), f"limit {plan.limit}"
    return total, basis


def _copy_figures(model: ir.Model, layout: ir.Layout) -> dict[str, tuple[str, float, float]]:
    """Per relationship copy: (entity, bytes of one copy, copies written per second): the
    figures `index_strategies` priced the copies with (the relationship's declared
    `rate.writes_per_second`, else every write of the entity)."""
    if not layout.copies:
        return {}
    before = with_gsis(layout)
    out: dict[str, tuple[str, float, float]] = {}
    for c in layout.copies:
        entity = model.entity(c.entity)
        index = before.index(c.name)
        if entity is None or index is None:
            continue
        declared = [
            p.rate.writes_per_second
            for name in c.purpose
            if (p := model.pattern(name)) is not None
            and p.rate is not None
            and p.rate.writes_per_second is not None
        ]
        writes = max(declared) if declared else (entity.writes_per_second or 0.0)
        out[c.name] = (c.entity, copy_bytes(before, entity, index), writes)
    return out


def read_units(plan: ir.PatternPlan, size: float) -> float:
    """Eventually consistent read units of a request reading `size` bytes."""
    return max(1, math.ceil(size / READ_UNIT)) * 0.5


# --------------------------------------------------------------------------- report


def estimate(model: ir.Model, layout: ir.Layout, prices: Prices) -> CostReport:
    """Capacity and cost of `layout` at the rates and sizes `model` declares."""
    notes: list[str] = []
    per_month = prices.seconds_per_month
    ordered = sorted(model.entities, key=lambda e: e.name)  # shuffled input, same report
    sizes = {e.name: item_bytes(layout, e) for e in ordered}
    pattern_costs: list[PatternCost] = []
    reads_on: dict[str, float | None] = {i.name: 0.0 for i in layout.indexes}
    copies = _copy_figures(model, layout)
    for plan in sorted(layout.plans, key=lambda p: p.pattern):
        pattern = model.pattern(plan.pattern)
        rate = pattern.rate.reads_per_second if pattern and pattern.rate else None
        index = layout.index(plan.index)
        items, basis = items_per_request(model, layout, plan)
        if plan.copy is not None and plan.copy in copies:
            # the copies answer what the GSI did: count the items as its plan would
            copy = layout.copy(plan.copy)
            original = (
                next((p for p in copy.plans if p.pattern == plan.pattern), None) if copy else None
            )
            if original is not None:
                items, basis = items_per_request(model, with_gsis(layout), original)
        size: float | None = None
        units: float | None = None
        if items is not None and index is not None:
            read = [model.entity(n) for n in sorted(plan.entities)]
            per_item = [projected_bytes(layout, index, e) for e in read if e is not None]
            size = items * (sum(per_item) / len(per_item)) if per_item else 0.0
            units = read_units(plan, size)
            if plan.copy is not None and plan.copy in copies:
                # a Query of the copies, then one fetch per item (as `index_strategies` prices)
                _, copy_size, _ = copies[plan.copy]
                fetch = items * max(1, math.ceil(size / items / READ_UNIT)) * 0.5 if items else 0
                size = items * copy_size
                units = read_units(plan, size) + fetch
        reads = rate or 0.0
        ups = units * reads if units is not None else (0.0 if not reads else None)
        if rate is None:
            notes.append(f"{plan.pattern}: no rate declared (rate: {{reads_per_second: N}})")
        if ups is None:
            reads_on[plan.index] = None
        elif reads_on[plan.index] is not None:
            reads_on[plan.index] = (reads_on[plan.index] or 0.0) + ups
        pattern_costs.append(
            PatternCost(
                pattern=plan.pattern,
                index=plan.index,
                operation=plan.operation,
                items_per_request=items,
                basis=basis,
                upper_bound=plan.sk.kind in _RANGES and plan.limit is None,
                bytes_per_request=size,
                read_units_per_request=units,
                reads_per_second=reads,
                read_units_per_second=ups,
                on_demand_monthly=(
                    ups * per_month / 1e6 * prices.read_request_units_per_million
                    if ups is not None
                    else None
                ),
                partition_share=ups / limits.PARTITION_RCU if ups is not None else None,
            )
        )
    index_costs: list[IndexCost] = []
    for index in layout.indexes:
        entities: list[str] = []
        items_total: int | None = 0
        storage: float | None = 0.0
        writes = 0.0
        wcu = 0.0
        for entity in ordered:
            el = layout.entity(entity.name)
            if el is None or el.key(index.name) is None:
                continue
            entities.append(entity.name)
            projected = projected_bytes(layout, index, entity)
            rate = entity.writes_per_second or 0.0
            writes += rate
            wcu += rate * max(1, math.ceil(projected / WRITE_UNIT))
            if entity.row_count is None or items_total is None or storage is None:
                items_total, storage = None, None
                continue
            items_total += entity.row_count
            storage += entity.row_count * (projected + ITEM_OVERHEAD)
        if index.kind == "table":
            # relationship copies (`ir.CopyItems`): an item per row, written with the relationship
            for name in sorted(copies):
                entity_name, copy_size, copy_writes = copies[name]
                owner = model.entity(entity_name)
                writes += copy_writes
                wcu += copy_writes * max(1, math.ceil(copy_size / WRITE_UNIT))
                if owner is None or owner.row_count is None or storage is None:
                    items_total, storage = None, None
                elif items_total is not None:
                    items_total += owner.row_count
                    storage += owner.row_count * (copy_size + ITEM_OVERHEAD)
        rcu_need = reads_on.get(index.name)
        index_costs.append(
            IndexCost(
                index=index.name,
                entities=tuple(entities),
                items=items_total,
                storage_bytes=storage,
                writes_per_second=writes,
                write_units_per_second=wcu,
                read_units_per_second=rcu_need,
                provisioned_rcu=_provisioned(rcu_need) if rcu_need is not None else None,
                provisioned_wcu=_provisioned(wcu),
            )
        )
    for entity in ordered:
        if entity.row_count is None:
            notes.append(f"{entity.name}: no row_count, so no storage figure")
        if entity.writes_per_second is None:
            notes.append(f"{entity.name}: no writes_per_second, counted as 0 writes/s")
    if layout.lsis:
        index_costs = _lsis_share_table_capacity(layout, index_costs)
        notes.append(
            f"{', '.join(i.name for i in layout.lsis)}: an LSI uses the table's provisioned "
            "capacity (its units are counted in the table's row)"
        )
    totals = _totals(index_costs, prices)
    return CostReport(
        model=model.name,
        prices=prices,
        item_bytes=sizes,
        patterns=tuple(pattern_costs),
        indexes=tuple(index_costs),
        totals=totals,
        notes=tuple(notes),
    )


def _lsis_share_table_capacity(layout: ir.Layout, costs: list[IndexCost]) -> list[IndexCost]:
    """Provisioned capacity is set per table and per GSI; an LSI's reads and writes use the
    table's. The table's provisioned units cover its needs plus every LSI's; an LSI gets 0."""
    local = {i.name for i in layout.lsis}
    shared = [c for c in costs if c.index in local]
    reads = [c.read_units_per_second for c in shared]
    out = []
    for c in costs:
        if c.index in local:
            c = replace(c, provisioned_rcu=0, provisioned_wcu=0)
        elif c.index == "table":
            rcu = c.read_units_per_second
            rcu_all = None if rcu is None or None in reads else rcu + sum(r or 0.0 for r in reads)
            wcu_all = c.write_units_per_second + sum(x.write_units_per_second for x in shared)
            c = replace(
                c,
                provisioned_rcu=_provisioned(rcu_all) if rcu_all is not None else None,
                provisioned_wcu=_provisioned(wcu_all),
            )
        out.append(c)
    return out


def _provisioned(need: float) -> int:
    return max(1, math.ceil(need / TARGET_UTILIZATION - 1e-9))


def _totals(indexes: list[IndexCost], prices: Prices) -> Totals:
    per_month = prices.seconds_per_month
    reads = [i.read_units_per_second for i in indexes]
    rcu = None if any(r is None for r in reads) else sum(r or 0.0 for r in reads)
    wcu = sum(i.write_units_per_second for i in indexes)
    sizes = [i.storage_bytes for i in indexes]
    storage_gb = None if any(s is None for s in sizes) else sum(s or 0.0 for s in sizes) / GB
    od_reads = (
        rcu * per_month / 1e6 * prices.read_request_units_per_million if rcu is not None else None
    )
    od_writes = wcu * per_month / 1e6 * prices.write_request_units_per_million
    storage = storage_gb * prices.storage_gb_month if storage_gb is not None else None
    p_rcu = [i.provisioned_rcu for i in indexes]
    p_reads = (
        None
        if any(p is None for p in p_rcu)
        else sum(p or 0 for p in p_rcu) * prices.hours_per_month * prices.rcu_hour
    )
    p_writes = sum(i.provisioned_wcu for i in indexes) * prices.hours_per_month * prices.wcu_hour
    on_demand = None if od_reads is None or storage is None else od_reads + od_writes + storage
    provisioned = None if p_reads is None or storage is None else p_reads + p_writes + storage
    return Totals(
        storage_gb=storage_gb,
        read_units_per_second=rcu,
        write_units_per_second=wcu,
        on_demand_reads=od_reads,
        on_demand_writes=od_writes,
        storage=storage,
        on_demand_total=on_demand,
        provisioned_reads=p_reads,
        provisioned_writes=p_writes,
        provisioned_total=provisioned,
    )


# --------------------------------------------------------------------------- strategy

GSI = "gsi"
DUPLICATE_ITEMS = "duplicate_items"


@dataclass(frozen=True)
class OptionCost:
    """One way to serve an index's patterns, per month on-demand (None: a figure is unknown)."""

    writes: float | None
    storage: float | None
    reads: float | None
    write_units_per_second: float | None
    storage_gb: float | None
    read_units_per_second: float | None

    @property
    def total(self) -> float | None:
        parts = (self.writes, self.storage, self.reads)
        return None if any(p is None for p in parts) else sum(p or 0.0 for p in parts)


@dataclass(frozen=True)
class IndexChoice:
    """A GSI against writing the relationships it serves as extra items in the table."""

    index: str
    patterns: tuple[str, ...]  # the lowest_cost patterns the index serves
    entities: tuple[str, ...]
    gsi: OptionCost
    duplicate_items: OptionCost
    chosen: str  # GSI or DUPLICATE_ITEMS
    reason: str
    # whether the compiled layout has what was chosen: copies are built where
    # `modeling.compile.copies` can (else the GSI is kept and `strategy-not-built` says why)
    built: bool

    @property
    def saving(self) -> float | None:
        g, d = self.gsi.total, self.duplicate_items.total
        return None if g is None or d is None else abs(g - d)


def with_gsis(layout: ir.Layout) -> ir.Layout:
    """The layout as it was before copies replaced GSIs (to price both options again)."""
    if not layout.copies:
        return layout
    restored = {c.name: c for c in layout.copies}
    indexes = list(layout.indexes)
    for c in layout.copies:
        if c.replaces is not None:
            indexes.append(c.replaces)
    order = {"table": 0, "gsi": 1, "lsi": 2}
    indexes.sort(key=lambda i: (order[i.kind], len(i.name), i.name))
    entities = tuple(
        replace(el, keys=el.keys + tuple(c.key for c in layout.copies_of(el.entity) if c.key))
        for el in layout.entities
    )
    originals = {p.pattern: p for c in layout.copies for p in c.plans}
    plans = tuple(originals.get(p.pattern, p) if p.copy in restored else p for p in layout.plans)
    return replace(layout, indexes=tuple(indexes), entities=entities, plans=plans, copies=())


def copy_bytes(layout: ir.Layout, entity: ir.Entity, index: ir.Index) -> float:
    """The extra item that writes `entity`'s relationship on `index` into the table, as
    `modeling.compile.copies` builds it (`ir.CopyItems`): the index's partition-key template as
    the table's partition key; `~<index>#`, the index's sort-key template and `#{slot}` for each
    identity attribute it lacks as the table's sort key (an index key may repeat, a table key
    may not); the identity, the key's slot attributes and the version attribute; the type
    attribute (`<Entity>~<index>`); and the main item's table key (`<key name>_MAIN`), by which
    a read fetches the full item (an adjacency-list item, not a full copy)."""
    el = layout.entity(entity.name)
    table = layout.indexes[0]
    ek = el.key(index.name) if el is not None else None
    if ek is None:
        return 0.0
    in_key = set(keys.parse_template(ek.pk).slots)
    if ek.sk is not None:
        in_key |= set(keys.parse_template(ek.sk).slots)
    size = len(table.pk.name) + _template_bytes(entity, ek.pk)
    size += len(table.sk.name if table.sk is not None else "SK") + len(index.name) + 2
    size += _template_bytes(entity, ek.sk) if ek.sk is not None else 0
    for name in entity.key:
        if name not in in_key:
            size += 1 + _slot_bytes(entity.attribute(name))
    held = in_key | set(entity.key)
    if entity.version is not None:
        held.add(entity.version)
    for name in sorted(held):
        a = entity.attribute(name)
        if a is not None:
            size += value_bytes(a)
    main = el.key(table.name) if el is not None else None
    if main is not None:
        size += len(table.pk.name) + len(ir.COPY_REF_SUFFIX) + _template_bytes(entity, main.pk)
        if table.sk is not None and main.sk is not None:
            size += len(table.sk.name) + len(ir.COPY_REF_SUFFIX)
            size += _template_bytes(entity, main.sk)
    return size + len(layout.type_attribute) + len(entity.name) + 1 + len(index.name)


def _item_without(layout: ir.Layout, entity: ir.Entity, index: ir.Index) -> float:
    """The entity's item on the table without `index`'s key attributes."""
    el = layout.entity(entity.name)
    ek = el.key(index.name) if el is not None else None
    size = item_bytes(layout, entity)
    return size - _key_bytes(index, entity, ek) if ek is not None else size


def index_strategies(model: ir.Model, layout: ir.Layout, prices: Prices) -> tuple[IndexChoice, ...]:
    """For each GSI serving a `strategy: lowest_cost` pattern: the monthly cost of the GSI and
    of duplicated relationship items, and the cheaper.

    GSI: every write of an entity on the index writes its projected item again
    (ceil(projected / 1 KB) units), the index stores rows x (projected + 100 B), and the
    patterns read the projected items (as `estimate` counts them).
    Duplicated items: each write of the relationship (the pattern's `rate.writes_per_second`,
    else every write of the entity) writes the extra item (ceil(copy / 1 KB) units), the table
    stores rows x (copy + 100 B) more, and a read queries the extra items (ceil(items x copy /
    4 KB) x 0.5 units) then fetches each full item (items x ceil(item / 4 KB) x 0.5 units, the
    item without the GSI's key attributes). Table writes of the entity itself are the same
    either way and left out. A GSI that also serves patterns without `lowest_cost` is kept.
    """
    wanted = {p.name for p in model.patterns if p.strategy == "lowest_cost"}
    if not wanted:
        return ()
    built = {c.name for c in layout.copies}
    layout = with_gsis(layout)
    per_month = prices.seconds_per_month
    wru = prices.write_request_units_per_million / 1e6
    rru = prices.read_request_units_per_million / 1e6
    report = estimate(model, layout, prices)
    pattern_cost = {c.pattern: c for c in report.patterns}
    choices: list[IndexChoice] = []
    for index in layout.indexes:
        if index.kind != "gsi":
            continue
        plans = [p for p in layout.plans if p.index == index.name]
        asked = tuple(sorted(p.pattern for p in plans if p.pattern in wanted))
        if not asked:
            continue
        entities = [
            e
            for e in sorted(model.entities, key=lambda e: e.name)
            if (el := layout.entity(e.name)) is not None and el.key(index.name) is not None
        ]
        unknown: list[str] = []
        g_wcu = d_wcu = 0.0
        g_bytes: float | None = 0.0
        d_bytes: float | None = 0.0
        for e in entities:
            projected = projected_bytes(layout, index, e)
            extra = copy_bytes(layout, e, index)
            entity_writes = e.writes_per_second or 0.0
            related = [
                model.pattern(p.pattern)
                for p in plans
                if e.name in p.entities and model.pattern(p.pattern) is not None
            ]
            declared = [
                p.rate.writes_per_second
                for p in related
                if p is not None and p.rate is not None and p.rate.writes_per_second is not None
            ]
            relationship_writes = max(declared) if declared else entity_writes
            g_wcu += entity_writes * max(1, math.ceil(projected / WRITE_UNIT))
            d_wcu += relationship_writes * max(1, math.ceil(extra / WRITE_UNIT))
            if e.row_count is None:
                unknown.append(f"{e.name}: no row_count")
                g_bytes = d_bytes = None
            elif g_bytes is not None and d_bytes is not None:
                g_bytes += e.row_count * (projected + ITEM_OVERHEAD)
                d_bytes += e.row_count * (extra + ITEM_OVERHEAD)
        g_rcu: float | None = 0.0
        d_rcu: float | None = 0.0
        for plan in plans:
            pc = pattern_cost.get(plan.pattern)
            read = [model.entity(n) for n in sorted(plan.entities)]
            read_entities = [e for e in read if e is not None]
            if pc is None or pc.read_units_per_second is None or pc.items_per_request is None:
                unknown.append(f"{plan.pattern}: read figures unknown")
                g_rcu = d_rcu = None
                continue
            if g_rcu is None or d_rcu is None:
                continue
            g_rcu += pc.read_units_per_second
            items = pc.items_per_request
            n = max(len(read_entities), 1)
            avg_copy = sum(copy_bytes(layout, e, index) for e in read_entities) / n
            avg_item = sum(_item_without(layout, e, index) for e in read_entities) / n
            query = max(1, math.ceil(items * avg_copy / READ_UNIT)) * 0.5
            fetch = items * max(1, math.ceil(avg_item / READ_UNIT)) * 0.5
            d_rcu += (query + fetch) * pc.reads_per_second

        def option(wcu: float, stored: float | None, rcu: float | None) -> OptionCost:
            return OptionCost(
                writes=wcu * per_month * wru,
                storage=stored / GB * prices.storage_gb_month if stored is not None else None,
                reads=rcu * per_month * rru if rcu is not None else None,
                write_units_per_second=wcu,
                storage_gb=stored / GB if stored is not None else None,
                read_units_per_second=rcu,
            )

        g = option(g_wcu, g_bytes, g_rcu)
        d = option(d_wcu, d_bytes, d_rcu)
        others = sorted(p.pattern for p in plans if p.pattern not in wanted)
        if others:
            chosen = GSI
            reason = f"kept the GSI: it also serves {', '.join(others)} (fewest_indexes)"
        elif g.total is None or d.total is None:
            chosen = GSI
            reason = "kept the GSI: " + "; ".join(sorted(set(unknown)))
        elif d.total < g.total:
            chosen = DUPLICATE_ITEMS
            reason = f"duplicated items cost ${d.total:,.2f}/month, the GSI ${g.total:,.2f}/month"
        else:
            chosen = GSI
            reason = f"the GSI costs ${g.total:,.2f}/month, duplicated items ${d.total:,.2f}/month"
        choices.append(
            IndexChoice(
                index=index.name,
                patterns=asked,
                entities=tuple(e.name for e in entities),
                gsi=g,
                duplicate_items=d,
                chosen=chosen,
                reason=reason,
                built=chosen == GSI or index.name in built,
            )
        )
    return tuple(choices)


# --------------------------------------------------------------------------- loading a new table

# Time assumptions of the two paths (the runbook prints them beside its figures; measure yours):
# the backfill's items/s is what bench/migrate.py measured for `migrate run` (concurrency 4, one
# runner; it scales with runners up to the table's write quota); AWS publishes no ImportTable
# rate, so the GB/hour is an assumption to replace with an import's DescribeImport times.
BACKFILL_ITEMS_PER_SECOND = 6_000.0
IMPORT_GB_PER_HOUR = 15.0
# DynamoDB JSON (`migrate export`): `{"Item":{` + `}}` + newline per item, and per attribute the
# quotes, colon and type tag around its name and value (`"n":{"S":"v"},`)
IMPORT_ITEM_OVERHEAD = 12
IMPORT_ATTRIBUTE_OVERHEAD = 12


@dataclass(frozen=True)
class ImportPrice:
    """ImportTable's price per GB of uncompressed source data, and where it comes from."""

    region: str
    per_gb: float
    date: str
    source: str

    @staticmethod
    def load(region: str = "us-east-1", path: Path | None = None) -> ImportPrice | None:
        """The `import` entry of the price table (None when it has none for `region`)."""
        try:
            entry = price_table(path).get("import")
            if not isinstance(entry, dict) or region not in entry.get("regions", {}):
                return None
            return ImportPrice(
                region,
                float(entry["regions"][region]["per_gb"]),
                str(entry["date"]),
                str(entry["source"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CostError(
                f"cannot read the import price in {path or 'the packaged price table'}: {exc}",
                'an "import" object with date, source and regions.{region}.per_gb',
            ) from exc


@dataclass(frozen=True)
class BulkLoad:
    """Loading `items` rows into a new table: ImportTable vs BatchWriteItem (on-demand)."""

    items: int
    import_bytes: float  # uncompressed DynamoDB JSON, what ImportTable bills
    write_units: float  # BatchWriteItem write request units, table and GSIs
    import_cost: float
    batch_write_cost: float
    import_seconds: float
    backfill_seconds: float
    backfill_items_per_second: float
    import_gb_per_hour: float
    uncounted: tuple[str, ...] = ()  # entities without a `row_count`, left out

    @property
    def import_gb(self) -> float:
        return self.import_bytes / GB


def import_line_bytes(layout: ir.Layout, entity: ir.Entity) -> float:
    """One item as a line of the import file: the item plus DynamoDB JSON's punctuation."""
    attributes = len(entity.attributes) + 1  # + the type attribute
    el = layout.entity(entity.name)
    attributes += sum(
        (1 if ek.sk is None else 2)
        for index in layout.indexes
        if el is not None and (ek := el.key(index.name)) is not None
    )
    return (
        item_bytes(layout, entity) + IMPORT_ITEM_OVERHEAD + IMPORT_ATTRIBUTE_OVERHEAD * attributes
    )


def write_units_per_item(layout: ir.Layout, entity: ir.Entity) -> int:
    """Write request units one put of the entity's item costs: the table's and every GSI's."""
    el = layout.entity(entity.name)
    return sum(
        max(1, math.ceil(projected_bytes(layout, index, entity) / WRITE_UNIT))
        for index in layout.indexes
        if el is not None and el.key(index.name) is not None
    )


def bulk_load(
    model: ir.Model,
    layout: ir.Layout,
    prices: Prices,
    import_price: ImportPrice,
    backfill_items_per_second: float = BACKFILL_ITEMS_PER_SECOND,
    import_gb_per_hour: float = IMPORT_GB_PER_HOUR,
) -> BulkLoad | None:
    """Cost and time of both ways to load the model's `row_count` rows into a new table
    (entities without one are left out and named); None when no entity has one."""
    counted = [e for e in model.entities if e.row_count is not None]
    if not counted:
        return None
    items = 0
    size = 0.0
    units = 0.0
    for entity in counted:
        rows = entity.row_count or 0
        items += rows
        size += rows * import_line_bytes(layout, entity)
        units += rows * write_units_per_item(layout, entity)
    return BulkLoad(
        items=items,
        import_bytes=size,
        write_units=units,
        import_cost=size / GB * import_price.per_gb,
        batch_write_cost=units / 1e6 * prices.write_request_units_per_million,
        import_seconds=size / GB / import_gb_per_hour * 3600,
        backfill_seconds=items / backfill_items_per_second,
        backfill_items_per_second=backfill_items_per_second,
        import_gb_per_hour=import_gb_per_hour,
        uncounted=tuple(e.name for e in model.entities if e.row_count is None),
    )
