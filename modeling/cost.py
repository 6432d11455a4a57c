"""Capacity and cost of a compiled layout: item sizes, read and write units per pattern and per
index, storage, and the monthly bill on-demand vs provisioned.

Inputs are what the model declares: `row_count` per entity, `rate: {reads_per_second}` per
pattern, `writes_per_second` per entity, column bounds (`max_length`) and pg_stats
(`avg_width`, `n_distinct`, `null_frac`) per attribute. Prices come from a data file with its
date and source (`modeling/data/dynamodb-prices.json`, or `--prices FILE`).

The arithmetic, as DynamoDB bills what the generated client sends (docs/cost.md):

- an item's size is the UTF-8 length of its attribute names plus its values; a value's size is
  estimated from pg_stats `avg_width`, else `max_length`, else its type (a key attribute from
  its template's literal text plus its slots' encoded lengths; an LSI's partition key is the
  table's, stored once; a GSI keyed on attributes adds none);
- a read unit covers 4 KB, eventually consistent reads cost half. One call of a pattern is its
  page method: a GetItem of `b` bytes costs ceil(b / 4096) x 0.5; a Query its first page (at
  most 1 MB, items of other types it drops included); a sharded partition one Query per shard
  (each at least 0.5, asking for the limit or 1,000 matches, paging on its own); an index
  projecting less than ALL, or relationship copies, then one BatchGetItem read per item;
- a write unit covers 1 KB, for the table and again for every GSI or LSI the item is written to
  (with the index's projection, for the share of items a sparse key holds); a write that
  changes an index key attribute moves the entry (2 writes: shown apart); an entity with
  relationship copies is written with them in one TransactWriteItems (2 units per KB per item)
  after a strongly consistent GetItem;
- storage is the projected item size plus 100 bytes of per-item overhead, per index;
- on-demand: request units x price per million; provisioned: per index, units = the need /
  70% target utilisation (rounded up, at least 1), x 730 hours x the hourly price (an LSI uses
  the table's);
- per partition (per shard): writes/s x units / (values x shards), reads/s x units per shard
  Query / values, against 1,000 WCU and 3,000 RCU; with LSIs, each partition value's item
  collection against 10 GB.

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
    unverified_reason: str = ""  # why they could not be checked (the data file says)

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
                unverified_reason=str(entry.get("unverified_reason", "")),
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
    # of one partition's 3,000 RCU if every read hits one value (per shard when sharded)
    partition_share: float | None
    shards: int = 1  # Queries per call: one per shard (plan.sharded), each at least 0.5 RRU
    queries_per_request: int = 1  # Query / GetItem requests of one call (shards x pages)
    fetch_units_per_request: float = 0.0  # of the read units: BatchGetItem of the full items
    paged: bool = False  # the partition holds more than a call reads: the figures are its page


@dataclass(frozen=True)
class IndexCost:
    index: str
    entities: tuple[str, ...]
    items: float | None
    storage_bytes: float | None
    writes_per_second: float
    write_units_per_second: float
    read_units_per_second: float | None
    provisioned_rcu: int | None
    provisioned_wcu: int
    # write units/s if every write moved the index key (delete + put on the index: 2 writes);
    # None when no key attribute of the index can change (identity, parent link, immutable)
    moved_write_units_per_second: float | None = None
    moving_attributes: tuple[str, ...] = ()  # the attributes whose change moves the key
    # read units/s the writes themselves make (the strongly consistent GetItem before a write
    # of an entity with relationship copies); included in read_units_per_second
    write_read_units_per_second: float = 0.0


@dataclass(frozen=True)
class EntityCost:
    """One entity's item and what one write of it costs, per index it is on."""

    entity: str
    item_bytes: float  # on the table (attributes, the type attribute, every index key)
    rows: int | None
    writes_per_second: float
    # per index the entity is on: (index, bytes of its entry, write units per write)
    per_index: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class PartitionCost:
    """The load of one partition (per shard when sharded) of one partition-key template."""

    index: str
    pk: str
    entities: tuple[str, ...]
    partitions: float | None  # distinct partition values P (before shards)
    shards: int
    write_units_per_second: float | None  # per partition (per shard): writes spread over P x N
    read_units_per_second: float | None  # per partition (per shard): reads spread over P
    basis: str

    @property
    def headroom(self) -> float | None:
        """The larger share of DynamoDB's per-partition limits (1,000 WCU, 3,000 RCU)."""
        if self.write_units_per_second is None or self.read_units_per_second is None:
            return None
        return max(
            self.write_units_per_second / limits.PARTITION_WCU,
            self.read_units_per_second / limits.PARTITION_RCU,
        )


@dataclass(frozen=True)
class ItemCollection:
    """The items of one table partition value with their LSI entries (10 GB with an LSI)."""

    pk: str
    entities: tuple[str, ...]
    bytes_per_value: float | None
    basis: str

    @property
    def share(self) -> float | None:
        if self.bytes_per_value is None:
            return None
        return self.bytes_per_value / limits.ITEM_COLLECTION_BYTES


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


# which unit price each monthly figure rests on
FIGURE_PRICES: dict[str, tuple[str, ...]] = {
    "on_demand_reads": ("read_request_units_per_million",),
    "on_demand_writes": ("write_request_units_per_million",),
    "storage": ("storage_gb_month",),
    "on_demand_total": (
        "read_request_units_per_million",
        "write_request_units_per_million",
        "storage_gb_month",
    ),
    "provisioned_reads": ("rcu_hour",),
    "provisioned_writes": ("wcu_hour",),
    "provisioned_total": ("rcu_hour", "wcu_hour", "storage_gb_month"),
}


@dataclass(frozen=True)
class CostReport:
    model: str
    prices: Prices
    item_bytes: dict[str, float]  # entity -> estimated item size on the table
    patterns: tuple[PatternCost, ...]
    indexes: tuple[IndexCost, ...]
    totals: Totals
    notes: tuple[str, ...] = field(default=())
    partitions: tuple[PartitionCost, ...] = ()
    collections: tuple[ItemCollection, ...] = ()  # only with LSIs
    entities: tuple[EntityCost, ...] = ()

    @property
    def unverified_figures(self) -> tuple[str, ...]:
        """The monthly figures (Totals fields) that rest on a price not checked against its
        source for this region; every per-pattern dollar figure rests on the read price."""
        return tuple(
            name
            for name, needs in FIGURE_PRICES.items()
            if any(n in self.prices.unverified for n in needs)
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["unverified_figures"] = list(self.unverified_figures)
        for record, p in zip(out["partitions"], self.partitions, strict=True):
            record["headroom"] = p.headroom
        for record, c in zip(out["collections"], self.collections, strict=True):
            record["share"] = c.share
        return out


# --------------------------------------------------------------------------- sizes


def value_bytes(attribute: ir.Attribute) -> float:
    """Estimated bytes of one stored value with its name (0 weight for the share that is
    NULL: pg_stats `null_frac`)."""
    present = 1.0
    stats = attribute.stats
    if not attribute.required and stats is not None and stats.null_frac is not None:
        present = 1.0 - stats.null_frac
    return present * (len(attribute.name.encode("utf-8")) + _value_size(attribute))


def _value_size(attribute: ir.Attribute) -> float:
    """Estimated bytes of one value when present."""
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
    return size


def _slot_bytes(attribute: ir.Attribute | None) -> float:
    if attribute is None:
        return _DEFAULT_STRING
    kind = attribute.type.kind
    if kind in _SLOT_BYTES:
        return _SLOT_BYTES[kind]
    return _value_size(attribute)  # a key holds the value whenever the key is written


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
    size: float = 0
    if index.kind != "lsi":  # an LSI's partition key is the table's attribute, stored once
        size += len(index.pk.name) + _template_bytes(entity, ek.pk)
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


def projects_whole_item(index: ir.Index) -> bool:
    """Whether `index` stores the whole item (`projected_bytes` is `item_bytes`)."""
    return index.kind == "table" or index.projection == "ALL"


def projected_bytes(layout: ir.Layout, index: ir.Index, entity: ir.Entity) -> float:
    """The entity's item as `index` stores it (its projection)."""
    if projects_whole_item(index):
        return item_bytes(layout, entity)
    el = layout.entity(entity.name)
    size: float = 0
    for other in layout.indexes:
        if other.kind == "table" or other.name == index.name:
            ek = el.key(other.name) if el is not None else None
            if ek is not None:
                size += _key_bytes(other, entity, ek)
    held: list[str] = []
    if index.on_attributes:  # keyed on the item's own attributes: the index holds them
        held += [k.name for k in (*index.hash_keys, *index.range_keys)]
    if index.projection == "INCLUDE":
        held += [n for n in index.non_key_attributes if n not in held]
    for name in held:
        a = entity.attribute(name)
        if a is not None:
            size += value_bytes(a)
    return size


def moving_attributes(model: ir.Model, entity: ir.Entity, ek: ir.EntityKey) -> tuple[str, ...]:
    """The attributes of `ek`'s templates whose value can change (`ir.Model.stable` is false):
    a write that changes one moves the item's entry on the index (a delete and a put)."""
    slots: list[str] = []
    for template in (ek.pk, ek.sk):
        if template is not None:
            slots += [s for s in keys.parse_template(template).slots if s not in slots]
    return tuple(s for s in slots if not model.stable(entity, s))


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


def partition_values(model: ir.Model, entity: ir.Entity, template: str) -> tuple[float | None, str]:
    """P: the distinct partition-key values of `entity` under `template` (the product of its
    slots' distinct values, `distinct_values`; 1 for a constant key), and how it was found."""
    slots = keys.parse_template(template).slots
    if not slots:
        return 1.0, "1 (a constant partition key)"
    total = 1.0
    basis = []
    for slot in slots:
        d = _distinct(model, entity, slot)
        if d is None:
            return None, f"distinct {entity.name}.{slot} values unknown"
        total *= max(d, 1.0)
        basis.append(f"{d:g} {slot}")
    return total, " x ".join(basis) + (f" = {total:g}" if len(basis) > 1 else "")


def _rows_per_partition(
    model: ir.Model, layout: ir.Layout, index: str, names: tuple[str, ...] | list[str]
) -> tuple[float | None, str]:
    """Items of `names` in one partition of `index` (rows / distinct partition values)."""
    total: float = 0
    reasons: list[str] = []
    for name in sorted(names):
        entity = model.entity(name)
        el = layout.entity(name)
        ek = el.key(index) if el is not None else None
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
        rows = entity.row_count * sparse_share(entity, ek)
        total += rows / min(max(partitions, 1), max(rows, 1))
        reasons.append(f"{name}: {rows:g} rows / {partitions:g} partition value(s)")
    return total, "; ".join(reasons) or "no entity on the index"


def items_per_request(
    model: ir.Model, layout: ir.Layout, plan: ir.PatternPlan
) -> tuple[float | None, str]:
    """Items one call returns from the whole partition (every shard), at most the limit."""
    if plan.operation == "GetItem":
        return 1.0, "GetItem: one item"
    if plan.unique:
        return 1.0, "unique: at most one item"
    total, basis = _rows_per_partition(model, layout, plan.index, plan.entities)
    if total is None:
        return None, basis
    if plan.sk.kind in _RANGES:
        basis += " (the whole partition: the sort-key range reads less)"
    if plan.limit is not None and total > plan.limit:
        total, basis = float(plan.limit), f"limit {plan.limit}"
    return total, basis


def read_units(plan: ir.PatternPlan, size: float) -> float:
    """Eventually consistent read units of a request reading `size` bytes."""
    return max(1, math.ceil(size / READ_UNIT)) * 0.5


def query_units(size: float) -> tuple[float, int]:
    """Eventually consistent read units and Query requests of reading `size` bytes of one
    partition to the end: a page holds at most 1 MB and each page rounds up on its own."""
    pages = max(1, math.ceil(size / limits.QUERY_PAGE_BYTES - 1e-9))
    last = size - (pages - 1) * limits.QUERY_PAGE_BYTES
    full = (pages - 1) * math.ceil(limits.QUERY_PAGE_BYTES / READ_UNIT) * 0.5
    return full + max(1, math.ceil(last / READ_UNIT)) * 0.5, pages


@dataclass(frozen=True)
class ReadCall:
    """One call of a pattern as the generated client sends it: its `_page` method without a
    page size (one Query of at most 1 MB; sharded: one Query loop per shard for up to
    `limits.SHARD_PAGE_ITEMS` matches each, in parallel), then BatchGetItem of the full items
    when the index projects less than ALL or the plan reads relationship copies."""

    items: float | None  # items returned
    basis: str
    bytes_read: float | None  # by the key conditions (every shard; dropped types included)
    units: float | None  # eventually consistent read units, fetches included
    queries: int  # Query / GetItem requests
    fetch_units: float
    shards: int
    paged: bool
    partition_units: float | None  # read units one partition (one shard) serves per call


def _average(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def read_call(model: ir.Model, layout: ir.Layout, plan: ir.PatternPlan) -> ReadCall:
    """How one call of `plan` reads, and what it costs (see `ReadCall`)."""
    index = layout.index(plan.index)
    shards = max(plan.sharded, 1)
    read = [e for n in sorted(plan.entities) if (e := model.entity(n)) is not None]
    count_layout, count_plan = layout, plan
    copy = layout.copy(plan.copy) if plan.copy is not None else None
    if copy is not None:  # the copies answer what the GSI did: count the items as its plan
        original = next((p for p in copy.plans if p.pattern == plan.pattern), None)
        if original is not None:
            count_layout, count_plan = with_gsis(layout), original
    items, basis = items_per_request(model, count_layout, count_plan)
    if items is None or index is None:
        return ReadCall(None, basis, None, None, shards, 0.0, shards, False, None)
    if plan.operation == "GetItem":
        size = _average([projected_bytes(layout, index, e) for e in read])
        units = read_units(plan, size)
        return ReadCall(1.0, basis, size, units, 1, 0.0, 1, False, units)
    if copy is not None:
        before = with_gsis(layout)
        gsi = before.index(copy.name)
        per_item = _average(
            [copy_bytes(before, e, gsi) for e in read if gsi is not None and e.name == copy.entity]
        )
    else:
        per_item = _average([projected_bytes(layout, index, e) for e in read])
    # other types in the partition the key condition reads and the client drops by type
    dropped_items = dropped_bytes = 0.0
    estimate_ = plan.read_estimate
    if estimate_ is not None and estimate_.dropped and not plan.unique:
        for name in estimate_.dropped:
            other = model.entity(name)
            n, why = _rows_per_partition(model, layout, plan.index, (name,))
            if other is None or n is None:
                basis += f"; {name} dropped by type, not counted ({why})"
                continue
            dropped_items += n
            dropped_bytes += n * projected_bytes(layout, index, other)
            basis += f"; reads {n:g} {name} item(s) dropped by type"
    matches = items
    ask = plan.limit if plan.limit is not None else limits.SHARD_PAGE_ITEMS
    total, _ = _rows_per_partition(model, count_layout, count_plan.index, plan.entities)
    if shards > 1 and not plan.unique:
        # every shard is asked for the whole page (its matches merge into one answer)
        matches = total if total is not None else items
    share = matches / shards
    if shards > 1 and share > ask:
        share = float(ask)
    # the dropped types are read in proportion to the part of the partition the call reads
    whole = total if total and not plan.unique else matches
    ratio = share / (whole / shards) if whole else 1.0
    shard_bytes = share * per_item + dropped_items / shards * ratio * (
        dropped_bytes / dropped_items if dropped_items else 0.0
    )
    paged = False
    if shards == 1 and shard_bytes > limits.QUERY_PAGE_BYTES:
        # the first page: 1 MB of the partition, and the matches on it
        share *= limits.QUERY_PAGE_BYTES / shard_bytes
        shard_bytes = float(limits.QUERY_PAGE_BYTES)
        paged = True
        basis += f"; the first 1 MB page of {matches:,.0f} item(s)"
    per_shard, pages = query_units(shard_bytes)
    returned = min(share * shards, float(ask)) if shards > 1 else share
    if shards > 1:
        paged = paged or (plan.limit is None and returned < matches)
        basis += (
            f"; {shards} shards: a Query each for {share:g} of the matches "
            f"(at least 0.5 RRU per Query)"
        )
    fetch = 0.0
    if index.projection != "ALL" or copy is not None:
        full = _average([item_bytes(layout, e) for e in read])
        fetch = returned * max(1, math.ceil(full / READ_UNIT)) * 0.5
    return ReadCall(
        items=returned,
        basis=basis,
        bytes_read=shard_bytes * shards,
        units=per_shard * shards + fetch,
        queries=pages * shards,
        fetch_units=fetch,
        shards=shards,
        paged=paged,
        partition_units=per_shard,
    )


def _copy_units(layout: ir.Layout, model: ir.Model, entity: ir.Entity) -> float:
    """Write units of the relationship copies of `entity` one write puts (`ir.CopyItems`)."""
    if not layout.copies_of(entity.name):
        return 0.0
    before = with_gsis(layout)
    total = 0.0
    for c in layout.copies_of(entity.name):
        index = before.index(c.name)
        if index is not None:  # a sparse copy key: only the items holding it have a copy
            units = max(1, math.ceil(copy_bytes(before, entity, index) / WRITE_UNIT))
            total += units * sparse_share(entity, c.key)
    return total


def write_units(
    model: ir.Model, layout: ir.Layout, entity: ir.Entity, index: ir.Index
) -> tuple[float, float]:
    """Write units one write of `entity` costs on `index`, as the generated client sends it,
    and the strongly consistent read units it makes first.

    Table: ceil(item / 1 KB); an entity with relationship copies is written with its copies
    in one TransactWriteItems (2 units per KB per action) after a strongly consistent GetItem
    of the stored item (ceil(item / 4 KB) units). GSI or LSI: ceil(projected / 1 KB) times the
    share of items that carry the key (`sparse_share`); 0 for an index the entity is not on."""
    el = layout.entity(entity.name)
    ek = el.key(index.name) if el is not None else None
    if ek is None:
        return 0.0, 0.0
    size = projected_bytes(layout, index, entity)
    units = float(max(1, math.ceil(size / WRITE_UNIT)))
    if index.kind == "table":
        if layout.copies_of(entity.name):
            units = 2 * (units + _copy_units(layout, model, entity))
            return units, float(max(1, math.ceil(size / READ_UNIT)))
        return units, 0.0
    return units * sparse_share(entity, ek), 0.0


# --------------------------------------------------------------------------- report


def estimate(model: ir.Model, layout: ir.Layout, prices: Prices) -> CostReport:
    """Capacity and cost of `layout` at the rates and sizes `model` declares."""
    notes: list[str] = []
    per_month = prices.seconds_per_month
    ordered = sorted(model.entities, key=lambda e: e.name)  # shuffled input, same report
    sizes = {e.name: item_bytes(layout, e) for e in ordered}
    pattern_costs: list[PatternCost] = []
    reads_on: dict[str, float | None] = {i.name: 0.0 for i in layout.indexes}
    calls: dict[str, ReadCall] = {}
    for plan in sorted(layout.plans, key=lambda p: p.pattern):
        pattern = model.pattern(plan.pattern)
        rate = pattern.rate.reads_per_second if pattern and pattern.rate else None
        call = read_call(model, layout, plan)
        calls[plan.pattern] = call
        units = call.units
        reads = rate or 0.0
        ups = units * reads if units is not None else (0.0 if not reads else None)
        if rate is None:
            notes.append(f"{plan.pattern}: no rate declared (rate: {{reads_per_second: N}})")
        if pattern is not None and any(c.op == ir.IN for c in pattern.where):
            notes.append(f"{plan.pattern}: `IN` runs one request per value; figures are per value")
        if ups is None:
            reads_on[plan.index] = None
        elif reads_on[plan.index] is not None:
            reads_on[plan.index] = (reads_on[plan.index] or 0.0) + ups
        share = (
            reads * call.partition_units / limits.PARTITION_RCU
            if call.partition_units is not None
            else None
        )
        pattern_costs.append(
            PatternCost(
                pattern=plan.pattern,
                index=plan.index,
                operation=plan.operation,
                items_per_request=call.items,
                basis=call.basis,
                upper_bound=plan.sk.kind in _RANGES and plan.limit is None,
                bytes_per_request=call.bytes_read,
                read_units_per_request=units,
                reads_per_second=reads,
                read_units_per_second=ups,
                on_demand_monthly=(
                    ups * per_month / 1e6 * prices.read_request_units_per_million
                    if ups is not None
                    else None
                ),
                partition_share=share,
                shards=call.shards,
                queries_per_request=call.queries,
                fetch_units_per_request=call.fetch_units,
                paged=call.paged,
            )
        )
    index_costs: list[IndexCost] = []
    for index in layout.indexes:
        entities: list[str] = []
        items_total: float | None = 0.0
        storage: float | None = 0.0
        writes = 0.0
        wcu = 0.0
        write_reads = 0.0
        moved: float | None = None
        moving: list[str] = []
        for entity in ordered:
            el = layout.entity(entity.name)
            ek = el.key(index.name) if el is not None else None
            if ek is None:
                continue
            entities.append(entity.name)
            projected = projected_bytes(layout, index, entity)
            rate = entity.writes_per_second or 0.0
            units, reads = write_units(model, layout, entity, index)
            writes += rate
            wcu += rate * units
            write_reads += rate * reads
            movers = moving_attributes(model, entity, ek)
            moving += [f"{entity.name}.{m}" for m in movers]
            if index.kind != "table":  # the index entry is deleted and put again: 2 writes
                moved = (moved or 0.0) + rate * units * (2 if movers else 1)
            elif movers:
                # a pinned table key on a changing attribute: `update_e(row, previous=...)`
                # deletes the old item and puts the new one in one TransactWriteItems (2 units
                # per KB per action); an entity with copies is transactional already
                plain = max(1, math.ceil(projected / WRITE_UNIT))
                copies = _copy_units(layout, model, entity)
                moved = (moved or 0.0) + rate * 2 * (2 * plain + copies)
            else:
                moved = (moved or 0.0) + rate * units
            if entity.row_count is None or items_total is None or storage is None:
                items_total, storage = None, None
                continue
            rows = entity.row_count * sparse_share(entity, ek)
            items_total += rows
            storage += rows * (projected + ITEM_OVERHEAD)
            if index.kind == "table":
                before = with_gsis(layout)
                for c in layout.copies_of(entity.name):
                    gsi = before.index(c.name)
                    if gsi is not None:
                        copies = entity.row_count * sparse_share(entity, c.key)
                        items_total += copies
                        storage += copies * (copy_bytes(before, entity, gsi) + ITEM_OVERHEAD)
        rcu_need = reads_on.get(index.name)
        if rcu_need is not None:
            rcu_need += write_reads
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
                moved_write_units_per_second=moved if moving else None,
                moving_attributes=tuple(moving),
                write_read_units_per_second=write_reads,
            )
        )
    for entity in ordered:
        if entity.row_count is None:
            notes.append(f"{entity.name}: no row_count, so no storage figure")
        if entity.writes_per_second is None:
            notes.append(f"{entity.name}: no writes_per_second, counted as 0 writes/s")
        if layout.copies_of(entity.name) and entity.writes_per_second:
            notes.append(
                f"{entity.name}: each write is one TransactWriteItems with its relationship "
                "copies (2 write units per KB per item) after a strongly consistent GetItem"
            )
    moving_indexes = [c.index for c in index_costs if c.moving_attributes]
    if moving_indexes:
        notes.append(
            f"{', '.join(moving_indexes)}: a write that changes "
            "a key attribute moves the index entry (a delete and a put: 2 writes); the WCU "
            "figures count 1 write per table write, `if keys move` every write moving it"
        )
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
        partitions=partition_costs(model, layout, calls),
        entities=tuple(_entity_cost(model, layout, e) for e in ordered),
        collections=item_collections(model, layout) if layout.lsis else (),
    )


def _entity_cost(model: ir.Model, layout: ir.Layout, entity: ir.Entity) -> EntityCost:
    el = layout.entity(entity.name)
    per_index = tuple(
        (
            index.name,
            projected_bytes(layout, index, entity),
            write_units(model, layout, entity, index)[0],
        )
        for index in layout.indexes
        if el is not None and el.key(index.name) is not None
    )
    return EntityCost(
        entity=entity.name,
        item_bytes=item_bytes(layout, entity),
        rows=entity.row_count,
        writes_per_second=entity.writes_per_second or 0.0,
        per_index=per_index,
    )


def partition_costs(
    model: ir.Model, layout: ir.Layout, calls: dict[str, ReadCall] | None = None
) -> tuple[PartitionCost, ...]:
    """Per partition-key template of every index, the load of one partition (of one shard):

        writes: sum over its entities of writes/s x write units per write / (P x N)
        reads:  sum over the plans reading it of reads/s x read units per shard Query / P

    with P the entity's distinct partition values and N the shards (`PatternPlan.sharded`):
    writes spread evenly over values and shards; every read queries each shard once."""
    calls = calls if calls is not None else {}
    groups: dict[tuple[str, str], list[tuple[ir.Entity, ir.EntityKey]]] = {}
    for el in layout.entities:
        entity = model.entity(el.entity)
        if entity is None:
            continue
        for ek in el.keys:
            groups.setdefault((ek.index, ek.pk), []).append((entity, ek))
    order = {i.name: n for n, i in enumerate(layout.indexes)}
    out: list[PartitionCost] = []
    for (index_name, pk), members in sorted(
        groups.items(), key=lambda g: (order[g[0][0]], g[0][1])
    ):
        index = layout.index(index_name)
        if index is None:
            continue
        shards = max(1, layout.key_shards(members[0][0].name, index_name))
        wcu: float | None = 0.0
        basis: list[str] = []
        p_first: float | None = None
        for entity, _ek in members:
            p, why = partition_values(model, entity, pk)
            basis.append(f"{entity.name}: P = {why}")
            if p is None or wcu is None:
                wcu = None
                continue
            p_first = p if p_first is None else p_first
            units, _ = write_units(model, layout, entity, index)
            wcu += (entity.writes_per_second or 0.0) * units / (p * shards)
        rcu: float | None = 0.0 if p_first is not None else None
        for plan in layout.plans:
            if plan.index != index_name or plan.pk.template != pk or rcu is None:
                continue
            pattern = model.pattern(plan.pattern)
            reads = pattern.rate.reads_per_second if pattern and pattern.rate else None
            if not reads:
                continue
            call = calls.get(plan.pattern) or read_call(model, layout, plan)
            if call.partition_units is None or p_first is None:
                rcu = None
                continue
            rcu += reads * call.partition_units / p_first
        if shards > 1:
            basis.append(f"{shards} shards")
        out.append(
            PartitionCost(
                index=index_name,
                pk=pk,
                entities=tuple(sorted(e.name for e, _ in members)),
                partitions=p_first,
                shards=shards,
                write_units_per_second=wcu,
                read_units_per_second=rcu,
                basis="; ".join(basis),
            )
        )
    return tuple(out)


def item_collections(model: ir.Model, layout: ir.Layout) -> tuple[ItemCollection, ...]:
    """Per table partition-key template, the bytes of one partition value: each entity's
    rows / P x (item + 100 B, plus its projected entry + 100 B in every LSI it is on)."""
    table = layout.indexes[0]
    groups: dict[str, list[ir.Entity]] = {}
    for el in layout.entities:
        entity = model.entity(el.entity)
        ek = el.key(table.name)
        if entity is not None and ek is not None:
            groups.setdefault(ek.pk, []).append(entity)
    out: list[ItemCollection] = []
    for pk, members in sorted(groups.items()):
        total: float | None = 0.0
        basis: list[str] = []
        for entity in members:
            p, why = partition_values(model, entity, pk)
            if p is None or entity.row_count is None or total is None:
                total = None
                basis.append(f"{entity.name}: " + (why if p is None else "no row_count"))
                continue
            rows = entity.row_count / min(max(p, 1), max(entity.row_count, 1))
            size = item_bytes(layout, entity) + ITEM_OVERHEAD
            owner = layout.entity(entity.name)
            for lsi in layout.lsis:
                ek = owner.key(lsi.name) if owner is not None else None
                if ek is not None:
                    size += sparse_share(entity, ek) * (
                        projected_bytes(layout, lsi, entity) + ITEM_OVERHEAD
                    )
            total += rows * size
            basis.append(f"{entity.name}: {rows:,.4g} item(s) x {size:,.0f} B")
        out.append(
            ItemCollection(
                pk=pk,
                entities=tuple(sorted(e.name for e in members)),
                bytes_per_value=total,
                basis="; ".join(basis),
            )
        )
    return tuple(out)


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
    for c in restored.values():  # a GSI of several entities: one copy per entity
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


def filter_attributes(layout: ir.Layout, index: str, entity: str) -> tuple[str, ...]:
    """The attributes the plans on GSI `index` reading `entity` filter on: a relationship copy
    replacing the GSI holds them, so each Query of the copies filters as it did on the GSI."""
    return tuple(
        sorted(
            {
                f.attribute
                for p in layout.plans
                if p.index == index and entity in p.entities
                for f in p.filters
            }
        )
    )


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
    held = in_key | set(entity.key) | set(filter_attributes(layout, index.name, entity.name))
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


def sparse_share(entity: ir.Entity, key: ir.EntityKey | None) -> float:
    """The share of `entity`'s items that hold `key` when it is sparse (every `sparse_on`
    attribute present: 1 - pg_stats null_frac each, taken as independent; 1 when unknown),
    so a sparse GSI or relationship copy is priced for the items really written to it."""
    share = 1.0
    if key is None or not key.sparse:
        return share
    for name in key.sparse_on:
        a = entity.attribute(name)
        if a is not None and a.stats is not None and a.stats.null_frac is not None:
            share *= 1.0 - a.stats.null_frac
    return share


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
