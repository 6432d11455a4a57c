"""The model language as pydantic v2 models: these classes ARE the language.

`extra="forbid"` turns every typo into an error and `strict=True` keeps YAML's `"5"` from
passing as 5. The JSON Schema in `generated/model.schema.json` is generated from these classes
(`modeling.spec.schema`), so descriptions written here are what editors show on hover, and
`Literal`s become the enums editors autocomplete. Cross-references (does `parent` name an
entity?) are not checked here but in `modeling.spec.checks`, which has the positions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from modeling.core import limits
from modeling.core.ir import OPERATORS, SCALAR_TYPES, SET_ITEM_TYPES, TypeRef

MODEL_NAME_RE = r"^[a-z][a-z0-9_-]*$"
ENTITY_NAME_RE = r"^[A-Za-z][A-Za-z0-9_]*$"
ATTRIBUTE_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"
PATTERN_NAME_RE = r"^[a-z][a-z0-9_]*$"
INDEX_NAME_RE = r"^(table|gsi[1-9][0-9]*|lsi[1-9][0-9]*)$"
DYNAMO_TABLE_RE = limits.TABLE_NAME_RE
# SQL names are the names as PostgreSQL stores them (after case folding), quoted when emitted,
# so any character but NUL is allowed (63 bytes is NAMEDATALEN - 1); `.` qualifies a table.
SQL_NAME_RE = r"^([^.\x00]{1,63}\.)?[^.\x00]{1,63}$"
SQL_COLUMN_RE = r"^[^\x00]{1,63}$"

NAME_RULES: dict[str, str] = {
    MODEL_NAME_RE: "a model name is lower-case letters, digits, `_` and `-`, starting with a letter",
    ENTITY_NAME_RE: "an entity name is letters, digits and `_`, starting with a letter (e.g. `Product`)",
    ATTRIBUTE_NAME_RE: "an attribute name is letters, digits and `_`, not starting with a digit",
    PATTERN_NAME_RE: "a pattern name is lower-case letters, digits and `_`, starting with a letter",
    INDEX_NAME_RE: "a pinned index is `table`, `gsiN` or `lsiN` (N from 1)",
    DYNAMO_TABLE_RE: "a DynamoDB table name is 3–255 of letters, digits, `_`, `.`, `-`",
    SQL_NAME_RE: "a SQL table name is 1–63 characters (no NUL), optionally `schema.name`",
    SQL_COLUMN_RE: "a SQL column name is 1–63 characters (no NUL)",
}

ModelName = Annotated[
    str, StringConstraints(pattern=MODEL_NAME_RE, max_length=limits.MODEL_NAME_CHARS)
]
EntityName = Annotated[
    str, StringConstraints(pattern=ENTITY_NAME_RE, max_length=limits.ENTITY_NAME_CHARS)
]
AttributeName = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_RE)]
PatternName = Annotated[str, StringConstraints(pattern=PATTERN_NAME_RE)]
IndexName = Annotated[str, StringConstraints(pattern=INDEX_NAME_RE)]
SqlName = Annotated[str, StringConstraints(pattern=SQL_NAME_RE)]
SqlColumn = Annotated[str, StringConstraints(pattern=SQL_COLUMN_RE)]

#: Type names offered to editors; `list<...>` of anything else is accepted by the pattern branch.
COMMON_TYPES: tuple[str, ...] = (
    *SCALAR_TYPES,
    *(f"set<{t}>" for t in SET_ITEM_TYPES),
    *(f"list<{t}>" for t in SCALAR_TYPES),
)


def _check_type(text: str) -> str:
    TypeRef.parse(text)  # raises ValueError with the reason
    return text


TypeName = Annotated[
    str,
    AfterValidator(_check_type),
    WithJsonSchema(
        {
            "title": "TypeName",
            "description": "An attribute type: "
            + ", ".join(SCALAR_TYPES)
            + ", list<T>, or set<string|integer|decimal|binary>.",
            "anyOf": [
                {"type": "string", "enum": list(COMMON_TYPES)},
                {"type": "string", "pattern": r"^list<.+>$"},
            ],
        }
    ),
]

Operator = Literal["=", "<", "<=", ">", ">=", "between", "begins_with"]
assert OPERATORS == ("=", "<", "<=", ">", ">=", "between", "begins_with")
BoundOperator = Literal[">", ">=", "<", "<="]
#: A range with two bounds, each with its own operator: `[">=", "<"]` is `>= :from AND < :to`.
Bounds = Annotated[
    list[BoundOperator],
    Field(
        min_length=2,
        max_length=2,
        description='A range with two bounds, lower first: `[">=", "<"]` (half-open, '
        '`>= :<attr>_from AND < :<attr>_to`), `[">", "<="]`, `[">", "<"]`, `[">=", "<="]` '
        "(= between).",
    ),
]


class Node(BaseModel):
    """Base of every block: unknown keys are errors, values are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Capacity(Node):
    read: int = Field(
        ge=1, le=limits.CAPACITY_UNITS_MAX, description="Provisioned read capacity units."
    )
    write: int = Field(
        ge=1, le=limits.CAPACITY_UNITS_MAX, description="Provisioned write capacity units."
    )


class ProvisionedBilling(Node):
    provisioned: Capacity = Field(description="Provisioned capacity: `{read: 5, write: 5}`.")


class TableSpec(Node):
    """The DynamoDB table settings; every key is optional."""

    name: str | None = Field(
        default=None,
        pattern=DYNAMO_TABLE_RE,
        description="DynamoDB table name (default: the model name in PascalCase).",
    )
    billing: Literal["on_demand"] | ProvisionedBilling = Field(
        default="on_demand",
        description="`on_demand` (default) or `{provisioned: {read: N, write: N}}`.",
    )
    ttl: AttributeName | None = Field(
        default=None, description="Attribute holding the expiry time (datetime or epoch seconds)."
    )
    stream: Literal["keys_only", "new_image", "old_image", "new_and_old_images"] | None = Field(
        default=None, description="DynamoDB Streams view type; omit for no stream."
    )
    pitr: bool = Field(default=True, description="Point-in-time recovery (default true).")
    deletion_protection: bool = Field(
        default=True, description="Deletion protection (default true)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Resource tags.")
    table_class: Literal["standard", "standard_infrequent_access"] = Field(
        default="standard",
        description="DynamoDB table class: `standard` (default) or `standard_infrequent_access` "
        "(cheaper storage, dearer reads and writes); a live table switches in place "
        "(UpdateTable, `model diff`).",
    )
    exists: bool = Field(
        default=False,
        description="True when the DynamoDB table already exists (created from an earlier "
        "version of this model). LSIs can only be created with a table, so the compiler derives "
        "none and says where one would have saved a GSI; GSIs can be added to a live table.",
    )


class SourceSpec(Node):
    """Where the rows live today."""

    dialect: Literal["postgres"] = Field(default="postgres", description="Source SQL dialect.")
    ddl: str | None = Field(
        default=None, description="Path of the schema DDL, relative to this model file."
    )
    database: str | None = Field(
        default=None,
        description="The database the model was seeded from (`model init --from-db`), as "
        "`postgresql://host:port/db` without user or password; informational.",
    )
    schema_: SqlName | None = Field(
        default=None, alias="schema", description="Default SQL schema of the entities' tables."
    )
    collation: str | None = Field(
        default=None,
        min_length=1,
        description="The source database's default collation (`C`, `en_US.utf8`, ...), used for "
        "string columns without a `collation:` of their own. Omitted: unknown (the compiler "
        "then says once per ordering pattern what to check).",
    )
    version: AttributeName | None = Field(
        default=None,
        description="Default version attribute of every entity that has it (e.g. `updated_at`): "
        "a required integer or datetime whose value grows with every update; migration writes "
        "keep the item with the highest version. Entities without it use PostgreSQL's `xmin`.",
    )


class ColumnStatsSpec(Node):
    """Per-column statistics as pg_stats reports them."""

    n_distinct: float | None = Field(
        default=None,
        ge=-1,
        allow_inf_nan=False,
        description="Distinct values: > 0 a count, < 0 minus the fraction of rows (-1: unique), "
        "0 unknown (pg_stats).",
    )
    avg_width: int | None = Field(
        default=None, ge=0, le=limits.INT4_MAX, description="Average width in bytes."
    )
    null_frac: float | None = Field(
        default=None, ge=0, le=1, description="Fraction of rows where the column is NULL."
    )


class AttributeSpec(Node):
    """An attribute written in full; `name: string` is the shorthand for `{type: string}`."""

    type: TypeName = Field(description="The attribute's type.")
    required: bool = Field(
        default=True,
        description="False when the column is nullable; key attributes must be required.",
    )
    enum: list[str] | None = Field(
        default=None, min_length=1, description="The allowed values of a string attribute."
    )
    timezone: bool | None = Field(
        default=None,
        description="Datetimes only (`datetime`, `list<datetime>`): false for a column without "
        "a time zone (PostgreSQL `timestamp`), whose values are naive and come back naive; "
        "default true (`timestamptz`: aware values, read back in UTC). Both are stored as the "
        "same order-preserving UTC text.",
    )
    max_length: int | None = Field(
        default=None,
        ge=1,
        description="Strings: the most characters a value has (PostgreSQL `varchar(n)`, "
        "`char(n)`); binary: the most bytes. The compiler's key-size check uses it.",
    )
    min_length: int | None = Field(
        default=None,
        ge=0,
        description="Strings: the fewest characters a value has (a CHECK such as "
        "`length(name) > 0` or `name <> ''`); binary: the fewest bytes. `min_length: 1` "
        "proves a value never empty, which lets `layout: {gsi_keys: attributes}` key a GSI on "
        "the attribute (DynamoDB refuses an empty string as a key attribute value).",
    )
    precision: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Decimals: the most significant digits a value has (PostgreSQL "
        "`numeric(p,s)`'s p). DynamoDB numbers keep 38; the compiler warns beyond that.",
    )
    scale: int | None = Field(
        default=None,
        ge=-1000,
        le=1000,
        description="Decimals: the digits after the decimal point (`numeric(p,s)`'s s). As in "
        "PostgreSQL 15, it may be negative (rounded to tens, hundreds, ...: `numeric(3,-6)`) or "
        "exceed the precision (`numeric(3,5)`: values below 0.001).",
    )
    min: int | None = Field(
        default=None,
        description="Integers: the smallest value (PostgreSQL `smallint`, `integer`, `bigint`, "
        "`numeric(p,0)` ranges). The compiler checks it against the key codec's range.",
    )
    max: int | None = Field(default=None, description="Integers: the largest value.")
    immutable: bool = Field(
        default=False,
        description="True when the value never changes after the row is inserted (a creation "
        "time, a natural key that is never edited). The compiler derives table keys only from "
        "the identity (`key`), the attributes that reference the `parent`, and immutable "
        "attributes: changing a table-key attribute is a delete + put of the item.",
    )
    collation: str | None = Field(
        default=None,
        min_length=1,
        description="The PostgreSQL collation of a string column (`C`, `POSIX`, `en_US.utf8`, "
        "`und-x-icu`, ...; default: `source.collation`). DynamoDB orders sort keys by UTF-8 "
        "bytes, which only `C`/`POSIX` match: the compiler warns where a pattern orders by a "
        "string under another collation.",
    )
    references: EntityName | None = Field(
        default=None, description="The entity this attribute is a foreign key to."
    )
    column: SqlColumn | None = Field(
        default=None, description="The SQL column (default: the attribute name)."
    )
    description: str | None = Field(default=None, description="Free text for the docs.")
    stats: ColumnStatsSpec | None = Field(
        default=None,
        description="Column statistics from PostgreSQL's pg_stats (written by `model init "
        "--from-db`); the compiler's capacity and hot-partition checks use them.",
    )


class PinnedKeySpec(Node):
    """A key template pinned by the architect; checked by the compiler, never rewritten."""

    pk: str = Field(
        min_length=1, description='Partition-key template, e.g. "PRODUCT#{product_id}".'
    )
    sk: str | None = Field(
        default=None, min_length=1, description='Sort-key template, e.g. "VARIANT#{sku}".'
    )


class EntitySpec(Node):
    """One kind of item: the rows of one SQL table."""

    description: str | None = Field(default=None, description="Free text for the docs.")
    table: SqlName | None = Field(
        default=None,
        description="SQL table the rows come from (default: snake_case plural of the entity name).",
    )
    schema_: SqlName | None = Field(
        default=None,
        alias="schema",
        description="SQL schema of `table` (default: `source.schema`).",
    )
    key: Annotated[list[AttributeName], Field(min_length=1)] | AttributeName = Field(
        description="The identity: a list of attribute names (a single name is accepted too)."
    )
    parent: EntityName | None = Field(
        default=None,
        description="Owning entity (1:N); children can share the parent's item collection.",
    )
    attributes: dict[AttributeName, TypeName | AttributeSpec] = Field(
        min_length=1,
        description="Attribute name → type (shorthand) or `{type: ..., required: ..., ...}`.",
    )
    keys: dict[IndexName, PinnedKeySpec] | None = Field(
        default=None,
        description="Pinned key templates per index (`table`, `gsi1`, `lsi1`, ...).",
    )
    row_count: int | None = Field(
        default=None, ge=0, le=limits.BIGINT_MAX, description="Approximate number of rows."
    )
    writes_per_second: float | None = Field(
        default=None,
        ge=0,
        le=limits.RATE_MAX,
        allow_inf_nan=False,
        description="Rows written per second (INSERT, UPDATE and DELETE; `model init --queries` "
        "derives it from pg_stat_statements `calls`). Every write also writes each GSI the "
        "item projects into; the compiler's capacity and hot-partition checks use it.",
    )
    version: AttributeName | None = Field(
        default=None,
        description="The attribute holding the row version (overrides `source.version`): a "
        "required integer or datetime that grows with every update; `xmin` uses PostgreSQL's "
        "row xmin (the default).",
    )


Strategy = Literal["fewest_indexes", "lowest_cost"]


class RateSpec(Node):
    """Expected request rate; feeds capacity and hot-partition checks."""

    reads_per_second: float | None = Field(
        default=None, ge=0, le=limits.RATE_MAX, allow_inf_nan=False, description="Reads per second."
    )
    writes_per_second: float | None = Field(
        default=None,
        ge=0,
        le=limits.RATE_MAX,
        allow_inf_nan=False,
        description="Writes per second to the items this pattern reads (hot-partition checks "
        "and write sharding). `strategy: lowest_cost` does not use it: the generated client "
        "rewrites relationship copies on every write of the entity, so they are priced at "
        "the entity's `writes_per_second`.",
    )


#: `attr IS NULL` / `attr IS NOT NULL`: a filter (NULL is stored as no attribute), in `where:`
#: as in `filter:`, as the same conjunct of a `sql:` pattern is.
ConditionOperator = Literal[
    "=", "<", "<=", ">", ">=", "between", "begins_with", "is_null", "is_not_null"
]
assert ConditionOperator.__args__[:-2] == Operator.__args__  # type: ignore[attr-defined]
Conditions = dict[AttributeName, ConditionOperator | Bounds]


class PatternSpec(Node):
    """An access pattern: exactly one of `entity`, `entities` or `sql`."""

    description: str | None = Field(default=None, description="Free text for the docs.")
    entity: EntityName | None = Field(default=None, description="The entity this pattern reads.")
    entities: list[EntityName] | None = Field(
        default=None,
        min_length=1,
        description="Several entities of one parent/child family read by one Query (an item collection).",
    )
    sql: str | None = Field(
        default=None,
        min_length=1,
        description="The SELECT the application runs today (Postgres dialect); parsed into "
        "where/order/limit. Accepted: `col = :p` (or a literal) per key attribute; one range "
        "on one column, each bound inclusive or exclusive, kept exactly: `col >= :from AND col "
        "< :to` (half-open), `col > :a AND col <= :b`, `col BETWEEN :a AND :b`, or one bound "
        "(`col >= :since`, `col < :before`); `col LIKE 'prefix%'` or `LIKE :p || '%'`; "
        "`ORDER BY` the range (sort) column, with NULLS FIRST/LAST; `LIMIT 20` or `LIMIT :n` "
        "(the client takes `n`); one `col IN (:a, :b)`, `col IN ('x', 'y')`, `col IN :ids` or "
        "`col = ANY(:ids)` (one Query or GetItem per distinct value, merged by the client in "
        "the ORDER BY order); `col IS NULL` / `col IS NOT NULL` (a filter: NULL is stored as "
        "no attribute); a parent↔child join on the parent key. Parameters: `:name` "
        "(SQL keywords such as `:from`, `:to`, `:limit` included), `%(name)s`, `$1`, `?`. "
        "Refused, with the reason and a hint: OR, NOT (but NOT ... IS NULL), `!=`, two IN "
        "lists, IS NULL on a required attribute or a set, functions on columns, GROUP BY, "
        "OFFSET, subqueries.",
    )
    where: Conditions | None = Field(
        default=None,
        description="Attribute → operator (=, <, <=, >, >=, between, begins_with) or a pair of "
        'bounds (`[">=", "<"]`); at most one non-`=`. `is_null` / `is_not_null` (SQL\'s IS '
        "[NOT] NULL) take no parameter and are applied as filters, as in a `sql:` pattern.",
    )
    filter: Conditions | None = Field(
        default=None,
        description="Non-key conditions applied after the read (cost reported). An attribute "
        "in both `where` and `filter` takes one parameter per bound (`<attr>_from` for > and "
        ">=, `<attr>_to` for < and <=). `is_null` / `is_not_null`: the attribute is absent / "
        "present (SQL's IS [NOT] NULL).",
    )
    order: Literal["asc", "desc"] | None = Field(
        default=None, description="Order on the range (sort) attribute: asc (default) or desc."
    )
    order_by: AttributeName | None = Field(
        default=None,
        description="The attribute results are ordered by, when it has no range condition.",
    )
    nulls: Literal["first", "last"] | None = Field(
        default=None,
        description="Where rows whose ordering attribute is NULL come: first or last. Default as "
        "PostgreSQL: last under asc, first under desc (NULL sorts above every value).",
    )
    limit: int | None = Field(
        default=None, ge=1, le=limits.QUERY_LIMIT_MAX, description="At most this many items."
    )
    unique: bool = Field(default=False, description="At most one item matches.")
    rate: RateSpec | None = Field(default=None, description="Expected request rate.")
    strategy: Strategy | None = Field(
        default=None,
        description="How this pattern's index is chosen (default: the model's `strategy`): "
        "`fewest_indexes` or `lowest_cost` (see the model-level `strategy`).",
    )


class LayoutSpec(Node):
    """Choices the compiler makes when it derives the layout; every key is optional."""

    lsi: Literal["auto", "never"] = Field(
        default="auto",
        description="`auto` (default): serve patterns that share the table's partition key but "
        "need another sort order with a local secondary index instead of a GSI, when that saves "
        "a GSI and every item collection (all items and LSI entries of one partition-key value) "
        "is estimated well under DynamoDB's 10 GB limit (the estimate needs `row_count`); at "
        "most 5 per table, created only with the table. `never`: GSIs only (pinned `lsiN` keys "
        "still apply).",
    )
    gsi_keys: Literal["composite", "attributes"] = Field(
        default="composite",
        description="`composite` (default): every derived GSI is keyed on concatenated strings "
        "(`GSI1PK`/`GSI1SK`, e.g. `ORDER#{placed_at}#{order_id}`). `attributes`: a derived GSI "
        "holding one entity type is keyed on the items' own attributes (up to 4 partition-key "
        "and 4 sort-key attributes, numbers as N, no synthetic key attribute), when every key "
        "slot is a non-empty scalar of one DynamoDB type across entities and every pattern's "
        "conditions fit (equality on every partition attribute, sort attributes left to right, "
        "one range on the last used, no half-open range); otherwise that GSI stays composite "
        "and an info diagnostic says why.",
    )


class ModelSpec(Node):
    """A whole model file."""

    model: ModelName = Field(description="The model's name; also the default table name.")
    description: str | None = Field(default=None, description="Free text for the docs.")
    table: TableSpec | None = Field(default=None, description="DynamoDB table settings.")
    source: SourceSpec | None = Field(default=None, description="Where the rows live today.")
    layout: LayoutSpec | None = Field(
        default=None,
        description="How the compiler derives the layout (`lsi: auto | never`, "
        "`gsi_keys: composite | attributes`).",
    )
    entities: dict[EntityName, EntitySpec] = Field(
        min_length=1, description="Entity name → definition."
    )
    strategy: Strategy | None = Field(
        default=None,
        description="How relationships read through an index are laid out. `fewest_indexes` "
        "(default): the fewest GSIs that serve every pattern, each relationship written once. "
        "`lowest_cost`: for every GSI serving a pattern, compare the table's monthly cost "
        "(`model cost`'s estimate) with the GSI (its write amplification on every write of the "
        "entity, its storage, the reads) and with the relationship written as extra items in "
        "the table instead (every write of the entity one TransactWriteItems of the item and "
        "its copies after a GetItem; their storage; the reads plus one fetch per item), and "
        "keep the cheaper; `explain` and layout.md show both totals. A pattern's own "
        "`strategy` overrides this.",
    )
    access_patterns: dict[PatternName, PatternSpec] = Field(
        default_factory=dict, description="Pattern name → definition."
    )
