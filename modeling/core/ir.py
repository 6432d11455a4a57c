"""The resolved model: plain frozen data that every later stage consumes.

`spec` (the YAML language, pydantic) is normalised into `Model`: names resolved, shorthands
expanded, `sql:` patterns turned into conditions, defaults filled in. Nothing here knows about
YAML or positions beyond the `Span` kept for diagnostics. The compiled `Layout` (keys, indexes,
pattern plans) lives in this module too, below the model.

Everything is JSON-serialisable through `to_json` / `from_json` (round-trip tested).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from modeling.core import limits, naming
from modeling.core.diagnostics import Span

# --------------------------------------------------------------------------- types

SCALAR_TYPES = (
    "string",
    "integer",
    "decimal",
    "float",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "binary",
    "map",
)
SET_ITEM_TYPES = ("string", "integer", "decimal", "binary")
# Types a key slot may hold: they have an order-preserving string encoding (modeling.runtime.keys).
KEYABLE_TYPES = limits.KEYABLE_TYPES

OMIT_DEFAULT = "omit_default"  # field metadata: left out of the JSON while it has its default

Operator = Literal["=", "<", "<=", ">", ">=", "between", "begins_with"]
OPERATORS: tuple[str, ...] = ("=", "<", "<=", ">", ">=", "between", "begins_with")
RANGE_OPERATORS: tuple[str, ...] = ("<", "<=", ">", ">=", "between", "begins_with")


# TypeRef.parse's answers by text (immutable values, so one instance serves every attribute)
_PARSED: dict[str, TypeRef] = {}
_PARSED_MAX = 10_000


@dataclass(frozen=True)
class TypeRef:
    """An attribute type: a scalar (`kind` in SCALAR_TYPES), or `list`/`set` with an item type."""

    kind: str
    item: TypeRef | None = None

    def __str__(self) -> str:
        if self.item is not None:
            return f"{self.kind}<{self.item}>"
        return self.kind

    @staticmethod
    def parse(text: str) -> TypeRef:
        """Parse `string`, `list<integer>`, `set<string>`, `list<list<map>>`; raise ValueError."""
        got = _PARSED.get(text)
        if got is None:  # a model names a few types, each on thousands of attributes
            got = TypeRef._parse(text)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[text] = got
        return got

    @staticmethod
    def _parse(text: str) -> TypeRef:
        t = text.strip()
        if t.endswith(">") and "<" in t:
            head, _, rest = t.partition("<")
            head = head.strip()
            inner = TypeRef.parse(rest[:-1])
            if head == "list":
                return TypeRef("list", inner)
            if head == "set":
                if inner.kind not in SET_ITEM_TYPES or inner.item is not None:
                    raise ValueError(
                        f"set<{inner}> is not a DynamoDB set; sets hold "
                        + ", ".join(SET_ITEM_TYPES)
                    )
                return TypeRef("set", inner)
            raise ValueError(f"unknown collection type {head!r}; use list<T> or set<T>")
        if t in SCALAR_TYPES:
            return TypeRef(t)
        raise ValueError(f"unknown type {t!r}")

    @property
    def keyable(self) -> bool:
        return self.item is None and self.kind in KEYABLE_TYPES

    @property
    def scalar(self) -> str:
        """The innermost scalar kind: `datetime` for `datetime` and `list<list<datetime>>`."""
        return self.kind if self.item is None else self.item.scalar


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ColumnStats:
    """Hints from PostgreSQL's pg_stats, kept for capacity and hot-partition checks."""

    n_distinct: float | None = None  # as pg_stats: > 0 count, < 0 fraction of rows
    avg_width: int | None = None
    null_frac: float | None = None


@dataclass(frozen=True)
class Attribute:
    name: str
    type: TypeRef
    required: bool = True
    enum: tuple[str, ...] | None = None
    references: str | None = None  # entity name
    column: str | None = None  # SQL column (default: the attribute name)
    description: str | None = None
    stats: ColumnStats | None = None
    span: Span | None = field(default=None, compare=False)
    max_length: int | None = None  # strings: characters; binary: bytes (`varchar(n)`)
    min_length: int | None = None  # strings: characters; binary: bytes (a CHECK on length)
    precision: int | None = None  # decimals: significant digits (`numeric(p,s)`)
    scale: int | None = None  # decimals: digits after the point
    min: int | None = None  # integers: the range (`smallint`, `integer`, `bigint`, ...)
    max: int | None = None
    # datetimes (and lists of them): False for a column without a time zone (`timestamp`),
    # whose values are naive and are read back naive; stored the same way either way
    timezone: bool = True
    # never changes after insert (`immutable: true`): may sit in a derived table key
    immutable: bool = False
    # PostgreSQL collation of a string column (`collation:`, else `source.collation`); None: unknown
    collation: str | None = None

    @property
    def column_name(self) -> str:
        return self.column or self.name

    @property
    def naive(self) -> bool:
        """A datetime attribute (or list of them) whose values carry no time zone."""
        return not self.timezone and self.type.scalar == "datetime"


@dataclass(frozen=True)
class PinnedKey:
    """An architect-pinned key template on one index (`table`, `gsi1`, `lsi1`, ...)."""

    index: str
    pk: str
    sk: str | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Entity:
    name: str
    table: str  # SQL table the rows come from
    key: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    parent: str | None = None
    description: str | None = None
    pinned_keys: tuple[PinnedKey, ...] = ()
    schema: str | None = None  # SQL schema of `table`, when not the default search path
    row_count: int | None = None  # hint (pg_class.reltuples)
    writes_per_second: float | None = None  # INSERT + UPDATE + DELETE rate (hint)
    # the attribute whose value orders this row's writes (`version:`, else `source.version`
    # when the entity has it); None: PostgreSQL's xmin (modeling.migrate.versioning)
    version: str | None = None
    span: Span | None = field(default=None, compare=False)

    def attribute(self, name: str) -> Attribute | None:
        return self._attributes_by_name.get(name)

    # by name, built on first use (the compiler asks per template slot: a scan per call was
    # 170,000 scans for a 5,000-entity model). Not a field: never serialised or compared; the
    # first of two equal names wins, as the scan did.
    @functools.cached_property
    def _attributes_by_name(self) -> dict[str, Attribute]:
        out: dict[str, Attribute] = {}
        for a in self.attributes:
            out.setdefault(a.name, a)
        return out

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)


def default_params(attribute: str, op: str) -> tuple[str, ...]:
    """The parameter names a condition gets when the model names none: the attribute's name,
    `<attr>_from` and `<attr>_to` for `between`."""
    return (f"{attribute}_from", f"{attribute}_to") if op == "between" else (attribute,)


#: `attr IN (...)` (only from `sql:`): an equality on one of several values; the plan binds
#: the key slot to `in_value_param(attr)` and the client runs one Query per value.
IN = "in"


def in_value_param(attribute: str) -> str:
    """The parameter an `IN` condition's key slot is bound to: one value per Query."""
    return f"{attribute}_each"


#: `attr IS NULL` / `attr IS NOT NULL` (only from `sql:`): filters without a parameter; the
#: client checks them with `attribute_not_exists` / `attribute_exists` (NULL is not stored).
NULL_TESTS: tuple[str, ...] = ("is_null", "is_not_null")

#: The bounds of an inclusive `between` (SQL's BETWEEN, `>= :a AND <= :b`).
INCLUSIVE: tuple[str, str] = (">=", "<=")
LOWER_BOUNDS: tuple[str, ...] = (">", ">=")
UPPER_BOUNDS: tuple[str, ...] = ("<", "<=")


@dataclass(frozen=True)
class Condition:
    """One `where` conjunct: `attribute op :param` (`between` binds two parameters)."""

    attribute: str
    op: str  # one of OPERATORS
    params: tuple[str, ...] = ()  # bind-parameter names; default: the attribute name
    span: Span | None = field(default=None, compare=False)
    # fixed values from SQL literals (`status = 'active'`); when set, `params` is empty
    literals: tuple[str | int | float | bool, ...] = ()
    # `between` only: the operators of its low and high bound, each inclusive (`>=`, `<=`) or
    # exclusive (`>`, `<`): `(">=", "<")` is the half-open `>= :from AND < :to`
    bounds: tuple[str, str] = INCLUSIVE
    # `in` only: the one parameter holds a list of values (`IN :ids`, `= ANY(:ids)`); else
    # each parameter (or literal) is one value (`IN (:a, :b)`)
    listed: bool = False

    @property
    def is_range(self) -> bool:
        return self.op in RANGE_OPERATORS

    @property
    def param_names(self) -> tuple[str, ...]:
        """Bind-parameter names (the loader's defaults when none are given); () when the
        condition compares with fixed SQL literals."""
        if self.params:
            return self.params
        if self.literals or self.op in NULL_TESTS:
            return ()
        return default_params(self.attribute, self.op)

    @property
    def bound_ops(self) -> tuple[str, ...]:
        """The comparison each value is checked with: `(">=", "<")` for a half-open between,
        `(op,)` for a one-sided range or `=`."""
        return self.bounds if self.op == "between" else (self.op,)


@dataclass(frozen=True)
class Rate:
    reads_per_second: float | None = None
    writes_per_second: float | None = None


@dataclass(frozen=True)
class AccessPattern:
    name: str
    entities: tuple[str, ...]  # one for `entity:`, several for an item-collection read
    where: tuple[Condition, ...]  # equality conditions first (in written order), then the range
    filter: tuple[Condition, ...] = ()
    order: Literal["asc", "desc"] = "asc"
    limit: int | None = None
    unique: bool = False
    rate: Rate | None = None
    sql: str | None = None  # the SQL text it came from, if written as `sql:`
    description: str | None = None
    span: Span | None = field(default=None, compare=False)
    # the attribute results are sorted by (the range attribute, or a sort key with no condition)
    order_by: str | None = None
    # where rows with a NULL `order_by` come (`NULLS FIRST/LAST`); None: PostgreSQL's default
    nulls: Literal["first", "last"] | None = None
    # `LIMIT :n`: the parameter holding the most rows to return, chosen per call
    limit_param: str | None = None
    # `strategy:` (the pattern's, else the model's): fewest_indexes | lowest_cost; with
    # lowest_cost the pattern's GSI is compared with duplicated relationship items
    # (modeling.compile.strategy)
    strategy: Literal["fewest_indexes", "lowest_cost"] = "fewest_indexes"

    @property
    def nulls_high(self) -> bool:
        """Whether NULL sorts above every value in ascending key order (PostgreSQL's default:
        NULLS LAST under ASC, NULLS FIRST under DESC)."""
        if self.nulls is None:
            return True
        return (self.nulls == "last") == (self.order == "asc")

    @property
    def equality(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.where if not c.is_range)

    @property
    def range(self) -> Condition | None:
        for c in self.where:
            if c.is_range:
                return c
        return None


@dataclass(frozen=True)
class Billing:
    mode: Literal["on_demand", "provisioned"] = "on_demand"
    read: int | None = None
    write: int | None = None


@dataclass(frozen=True)
class TableSettings:
    name: str
    billing: Billing = Billing()
    ttl: str | None = None
    stream: str | None = None  # keys_only | new_image | old_image | new_and_old_images
    pitr: bool = True
    deletion_protection: bool = True
    tags: tuple[tuple[str, str], ...] = ()
    exists: bool = False  # the table already exists: no LSI can be added (`table.exists`)
    table_class: Literal["standard", "standard_infrequent_access"] = field(
        default="standard", metadata={OMIT_DEFAULT: True}
    )


@dataclass(frozen=True)
class LayoutOptions:
    """The model's `layout:` block: choices the compiler makes when it derives keys."""

    lsi: Literal["auto", "never"] = "auto"  # derive LSIs where they save a GSI
    # how derived GSIs are keyed: `composite` GSI<n>PK/SK strings, or `attributes`: the item's
    # own top-level attributes where that is exact (modeling.compile.attribute_keys)
    gsi_keys: Literal["composite", "attributes"] = "composite"


@dataclass(frozen=True)
class Source:
    dialect: str = "postgres"
    ddl: str | None = None  # path relative to the model file
    version: str | None = None  # `source.version` as written (resolved per entity: Entity.version)
    collation: str | None = None  # the database's default collation (`source.collation`)


@dataclass(frozen=True)
class Model:
    name: str
    table: TableSettings
    entities: tuple[Entity, ...]
    patterns: tuple[AccessPattern, ...]
    description: str | None = None
    source: Source | None = None
    file: str | None = None  # path of the model file, as given
    sha256: str | None = None  # of the model file's bytes
    layout: LayoutOptions = LayoutOptions()

    def entity(self, name: str) -> Entity | None:
        return self._entities_by_name.get(name)

    def pattern(self, name: str) -> AccessPattern | None:
        return self._patterns_by_name.get(name)

    # by-name indexes, built on first use (the compiler looks entities up per pattern and per
    # pair of templates: a scan made a 5,000-entity model quadratic). Not fields: never
    # serialised or compared; the first of two equal names wins, as the scan did.
    @functools.cached_property
    def _entities_by_name(self) -> dict[str, Entity]:
        out: dict[str, Entity] = {}
        for e in self.entities:
            out.setdefault(e.name, e)
        return out

    @functools.cached_property
    def _patterns_by_name(self) -> dict[str, AccessPattern]:
        out: dict[str, AccessPattern] = {}
        for p in self.patterns:
            out.setdefault(p.name, p)
        return out

    def children(self, name: str) -> tuple[Entity, ...]:
        return tuple(e for e in self.entities if e.parent == name)

    def stable(self, entity: Entity, name: str) -> bool:
        """Whether `entity.name` keeps its value for the item's life, so it may sit in a table
        key: an identity attribute, the link to the entity's `parent` (an attribute of the
        parent's key, or one that references the parent: an owned child never changes owner),
        or one declared `immutable: true`. Any other attribute in a table key turns a change
        of its value into a delete + put."""
        if name in entity.key:
            return True
        attr = entity.attribute(name)
        if attr is None:
            return False
        if attr.immutable:
            return True
        parent = self.entity(entity.parent) if entity.parent else None
        return parent is not None and (attr.references == parent.name or name in parent.key)


# --------------------------------------------------------------------------- JSON

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """Dataclasses → dicts (fields in declaration order), tuples → lists; spans dropped."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            if f.name == "span":
                continue
            if f.metadata.get(OMIT_DEFAULT) and getattr(value, f.name) == f.default:
                continue  # a newer optional field: layouts that do not use it stay as they were
            out[f.name] = to_jsonable(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n"


def _build(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _build(options[0], data)
        for a in options:  # first that fits
            try:
                return _build(a, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"cannot build {tp} from {data!r}")
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], d) for d in data)
        return tuple(_build(a, d) for a, d in zip(args, data, strict=True))
    if origin is Literal:
        return data
    if origin is dict:
        _k, v = get_args(tp)
        return {k: _build(v, d) for k, d in data.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_jsonable(tp, data)
    return data


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    hints = get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name == "span" or f.name not in data:
            continue
        kwargs[f.name] = _build(hints[f.name], data[f.name])
    return cls(**kwargs)


def from_json(cls: type[T], text: str) -> T:
    return from_jsonable(cls, json.loads(text))


# --------------------------------------------------------------------------- layout
#
# The compiled design (`modeling.compile.compile_model`): what every emitter, `model verify`
# and the generated client consume. Templates are key-template strings (`modeling.runtime.keys`
# grammar: literal text plus `{attribute}` slots); a plan binds each slot to a bind parameter
# of the access pattern, with the attribute's type so the caller can `keys.encode` the value.

LAYOUT_SCHEMA_VERSION = 1

KeyType = Literal["S", "N", "B"]
IndexKind = Literal["table", "gsi", "lsi"]
# How a key value is rendered from a template and bound slots (see `modeling.compile.query`):
#   full   every slot bound; the whole key
#   prefix literal text and bound slots up to the first unbound slot, including the literal
#          text that precedes it (e.g. `ORDER#2024-01-01#`)
#   open   like prefix but stops right after the last bound slot (`ORDER#2024-01-01`), for
#          begins_with on a string slot and inclusive lower bounds
#   after  the smallest string greater than every string that starts with `prefix`
#          (the last character incremented): an upper bound that keeps a range inside one
#          entity type's sort-key space
RenderMode = Literal["full", "prefix", "open", "after"]
SortKeyKind = Literal["none", "eq", "begins_with", "between", "lt", "le", "gt", "ge"]
SORT_KEY_KINDS: tuple[str, ...] = ("none", "eq", "begins_with", "between", "lt", "le", "gt", "ge")


@dataclass(frozen=True)
class KeyAttribute:
    """A key attribute of an index: its name (`PK`, `GSI1SK`, ...) and DynamoDB scalar type."""

    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class Index:
    """The table's primary key (`kind="table"`, name `table`) or one GSI / LSI."""

    name: str  # `table`, `GSI1`, `LSI1`, ...
    kind: IndexKind
    pk: KeyAttribute
    sk: KeyAttribute | None = None
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    non_key_attributes: tuple[str, ...] = ()  # for INCLUDE
    alias: str | None = None  # the name a model's `keys:` uses (`table`, `gsi1`, `lsi1`)
    # a GSI keyed on the items' own attributes (`layout: {gsi_keys: attributes}`): up to 4
    # partition-key and 4 sort-key attributes, in key order; `pk`/`sk` are then their first
    # elements, and no synthetic key attribute is written (modeling.compile.attribute_keys)
    pk_attributes: tuple[KeyAttribute, ...] = field(default=(), metadata={OMIT_DEFAULT: True})
    sk_attributes: tuple[KeyAttribute, ...] = field(default=(), metadata={OMIT_DEFAULT: True})

    @property
    def on_attributes(self) -> bool:
        return bool(self.pk_attributes)

    @property
    def hash_keys(self) -> tuple[KeyAttribute, ...]:
        return self.pk_attributes or (self.pk,)

    @property
    def range_keys(self) -> tuple[KeyAttribute, ...]:
        if self.pk_attributes:
            return self.sk_attributes
        return (self.sk,) if self.sk is not None else ()


@dataclass(frozen=True)
class EntityKey:
    """One entity's key templates on one index."""

    index: str  # Index.name
    pk: str  # template, e.g. `PRODUCT#{product_id}`
    sk: str | None = None  # template, e.g. `VARIANT#{sku}`; None when the index has no sk
    pinned: bool = False  # from the model's `keys:` (checked, never rewritten)
    sparse: bool = False  # only items whose slot attributes are all present get this key
    sparse_on: tuple[str, ...] = ()  # the optional attributes that make it sparse
    # optional slots a pattern only orders by: a NULL is written as the codec's sentinel,
    # "high" (after every value) or "low" (before), so the item stays on the index
    null_fill: tuple[tuple[str, Literal["high", "low"]], ...] = ()
    purpose: tuple[str, ...] = ()  # patterns that caused this key (derived keys)


@dataclass(frozen=True)
class EntityLayout:
    entity: str
    type_value: str  # value of Layout.type_attribute on this entity's items
    keys: tuple[EntityKey, ...]  # table key first, then indexes in Layout.indexes order

    def key(self, index: str) -> EntityKey | None:
        return self._keys_by_index.get(index)

    # by index name, built on first use, as on Entity; the first of two equal names wins
    @functools.cached_property
    def _keys_by_index(self) -> dict[str, EntityKey]:
        out: dict[str, EntityKey] = {}
        for k in self.keys:
            out.setdefault(k.index, k)
        return out


@dataclass(frozen=True)
class SlotBinding:
    """A template slot bound to a pattern's bind parameter; `type` is the attribute's TypeRef."""

    slot: str  # attribute name in the template
    param: str  # bind-parameter name of the access pattern (the attribute name for literals)
    type: str  # TypeRef kind, the codec to use (`keys.encode(type, value)`)
    literal: str | int | float | bool | None = None  # fixed SQL literal: no parameter needed


@dataclass(frozen=True)
class KeyValue:
    """A key value to compute at query time: a template, which slots get which params, how."""

    template: str
    bindings: tuple[SlotBinding, ...] = ()
    mode: RenderMode = "full"


@dataclass(frozen=True)
class SortKeyCondition:
    kind: SortKeyKind = "none"
    values: tuple[KeyValue, ...] = ()  # 0 (none), 2 (between), else 1


@dataclass(frozen=True)
class AttributeCondition:
    """One conjunct of a key condition over an index keyed on the items' own attributes:
    `attribute = :v`, `begins_with(attribute, :v)`, `attribute BETWEEN :a AND :b` or
    `attribute < :v` (...); `values` bind the pattern's parameters (two for between)."""

    attribute: str
    type: KeyType
    kind: SortKeyKind
    values: tuple[SlotBinding, ...]


@dataclass(frozen=True)
class FilterCondition:
    """A non-key `filter:` conjunct the client applies as a FilterExpression, and its cost."""

    attribute: str
    op: str
    params: tuple[str, ...]
    read_cost: str


@dataclass(frozen=True)
class ReadEstimate:
    """What a plan's key condition reads beyond what it returns (read amplification).

    `dropped`: other entity types the key condition matches, which the client drops by type;
    `filters`: attributes of non-key filters. `factor`: the estimated items read per item
    returned (from row counts, relationship cardinalities and enum/boolean/statistics
    selectivities); None when unknown; `lower_bound` when a filter could not be counted.
    `model verify` can measure the same ratio and compare."""

    dropped: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    factor: float | None = None
    basis: tuple[str, ...] = ()
    lower_bound: bool = False  # a filter of unknown selectivity is not counted in `factor`

    @property
    def summary(self) -> str:
        """One line for explain and layout.md: the factor, what is dropped, what it rests on."""
        if self.factor is None:
            size = "unknown"
        else:
            size = (
                f"{'≥ ' if self.lower_bound else '~'}{self.factor:g} items read per item returned"
            )
        what = [f"drops {', '.join(self.dropped)} by type"] if self.dropped else []
        if self.filters:
            what.append(f"filters on {', '.join(self.filters)}")
        return f"{size} ({'; '.join(what)}); from: {'; '.join(self.basis)}"


@dataclass(frozen=True)
class PatternPlan:
    """How one access pattern runs, and why it returns exactly the right items."""

    pattern: str
    entities: tuple[str, ...]
    index: str  # Index.name
    operation: Literal["GetItem", "Query"]
    pk: KeyValue
    sk: SortKeyCondition
    scan_forward: bool = True
    type_filter: tuple[str, ...] = ()  # type values the client keeps; () = no filter needed
    unique: bool = False
    limit: int | None = None
    pagination: str = ""
    filters: tuple[FilterCondition, ...] = ()
    params: tuple[str, ...] = ()  # every bind parameter the pattern takes, in order
    proof: tuple[str, ...] = ()  # the argument that the key condition is exact
    # >0: the partition is written across N shards (suffix #0..#N-1: modeling.runtime.sharding,
    # derived by modeling.compile.sharding); the client queries each shard and merges
    sharded: int = 0
    # `LIMIT :n`: the parameter holding the most matching items to return (`limit` is None)
    limit_param: str | None = None
    # None: the key condition reads only items the pattern returns (but ties at a strict bound)
    read_estimate: ReadEstimate | None = None
    # on an index keyed on attributes (Index.on_attributes): the key condition, partition-key
    # attributes first (all `eq`), then the sort-key attributes left to right; `pk`/`sk`
    # still hold the composite key the proofs were made for
    key_attributes: tuple[AttributeCondition, ...] = field(
        default=(), metadata={OMIT_DEFAULT: True}
    )
    # `strategy: lowest_cost` built as relationship copies: the name of the `CopyItems` the
    # plan queries on the table (`index` is the table); the client then fetches each main item
    # by the table key the copy holds (`CopyItems.ref`)
    copy: str | None = field(default=None, metadata={OMIT_DEFAULT: True})


COPY_REF_SUFFIX = "_MAIN"  # a copy holds its main item's table key under `<key name>_MAIN`


@dataclass(frozen=True)
class CopyItems:
    """A relationship written as extra items in the table instead of a GSI
    (`strategy: lowest_cost`, derived by `modeling.compile.copies`).

    Each item of `entity` gets one more item on the table: partition key `pk` (the GSI's
    partition-key template), sort key `sk` (`marker`, the GSI's sort-key template, then
    `#{slot}` for each identity attribute it lacks: unique per row), holding the type
    attribute = `type_value` (never an entity's type value), the identity, the key slots
    (`slots`), the version attribute, and the main item's table key under `ref` names.
    """

    name: str  # the GSI it replaces (`GSI1`): plans name it in `PatternPlan.copy`
    entity: str
    type_value: str
    pk: str
    sk: str
    marker: str  # literal text every copy sort key starts with (`~GSI1#`)
    slots: tuple[str, ...]  # attributes the copy holds: identity, key slots (sorted), version
    ref: tuple[tuple[str, str], ...]  # (table key name, attribute holding the main item's)
    purpose: tuple[str, ...] = ()  # the patterns it serves
    # what it replaces, so the cost comparison can still price both (`modeling.cost`)
    replaces: Index | None = None
    key: EntityKey | None = None
    plans: tuple[PatternPlan, ...] = ()
    # >0: the copies' partition key carries the shard suffix the sharded GSI key had
    # (`modeling.runtime.sharding`: same identity hash, same N); reads query every shard
    shards: int = field(default=0, metadata={OMIT_DEFAULT: True})


@dataclass(frozen=True)
class DiagnosticRecord:
    """A diagnostic as stored in the layout (warnings and infos of a successful compile)."""

    code: str
    severity: str
    message: str
    subject: str | None = None
    hint: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class Layout:
    model: str
    table_name: str
    indexes: tuple[Index, ...]  # the table key first, then GSIs, then LSIs
    entities: tuple[EntityLayout, ...]
    plans: tuple[PatternPlan, ...]
    type_attribute: str = naming.TYPE_ATTRIBUTE
    diagnostics: tuple[DiagnosticRecord, ...] = ()
    schema_version: int = LAYOUT_SCHEMA_VERSION
    copies: tuple[CopyItems, ...] = field(
        default=(), metadata={OMIT_DEFAULT: True}
    )  # relationships written as extra table items

    def copy(self, name: str) -> CopyItems | None:
        return next((c for c in self.copies if c.name == name), None)

    def copies_of(self, entity: str) -> tuple[CopyItems, ...]:
        return tuple(c for c in self.copies if c.entity == entity)

    def index(self, name: str) -> Index | None:
        for i in self.indexes:
            if i.name == name:
                return i
        return None

    def entity(self, name: str) -> EntityLayout | None:
        return self._entities_by_name.get(name)

    def plan(self, name: str) -> PatternPlan | None:
        return self._plans_by_name.get(name)

    def plans_on(self, index: str, pk: str) -> list[PatternPlan]:
        """The plans that read partition key template `pk` on `index` (in plan order)."""
        return self._plans_by_partition.get((index, pk), [])

    # by-name indexes, built on first use, as on Model (a scan per entity made compiling a
    # 5,000-entity model quadratic); not fields; the first of two equal names wins
    @functools.cached_property
    def _entities_by_name(self) -> dict[str, EntityLayout]:
        out: dict[str, EntityLayout] = {}
        for e in self.entities:
            out.setdefault(e.entity, e)
        return out

    @functools.cached_property
    def _plans_by_name(self) -> dict[str, PatternPlan]:
        out: dict[str, PatternPlan] = {}
        for p in self.plans:
            out.setdefault(p.pattern, p)
        return out

    @functools.cached_property
    def _plans_by_partition(self) -> dict[tuple[str, str], list[PatternPlan]]:
        out: dict[tuple[str, str], list[PatternPlan]] = {}
        for p in self.plans:
            out.setdefault((p.index, p.pk.template), []).append(p)
        return out

    def key_shards(self, entity: str, index: str) -> int:
        """The shards `entity`'s partition key on `index` is written across (0: not sharded):
        those of the plans reading that partition (`modeling.compile.sharding`)."""
        el = self.entity(entity)
        ek = el.key(index) if el is not None else None
        if ek is None:
            return 0
        return max((p.sharded for p in self.plans_on(index, ek.pk) if p.copy is None), default=0)

    @property
    def gsis(self) -> tuple[Index, ...]:
        return tuple(i for i in self.indexes if i.kind == "gsi")

    @property
    def lsis(self) -> tuple[Index, ...]:
        return tuple(i for i in self.indexes if i.kind == "lsi")
