"""The catalog: what we know about a PostgreSQL schema, whichever way we learnt it.

Both importers fill this one shape — `postgres_ddl` from a dump's statements, `postgres_db` from
`pg_catalog` — and `_spec.catalog_to_spec` turns it into a model. Keeping the two paths meeting
here is what lets a test compare them table by table. Names are stored as PostgreSQL stores them
(folded); `spelling` keeps the source's casing of an unquoted table name for nicer entity names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QName = tuple[str, str]  # (schema, name), both folded


@dataclass
class Column:
    name: str
    type: str  # PostgreSQL type text as written or as format_type() prints it
    not_null: bool = False
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    generated: str | None = None  # generation expression of a generated column
    generated_kind: str | None = None  # "stored" | "virtual"
    serial: bool = False  # default nextval(...) or a sequence OWNED BY this column
    comment: str | None = None
    line: int = 0
    stats: dict[str, Any] | None = None  # from pg_stats: n_distinct, avg_width, null_frac
    # the column's own collation (`COLLATE "C"`, pg_attribute.attcollation when not the
    # type's default): (schema, name), schema "" when the DDL left it unqualified
    collation: QName | None = None
    # the fewest characters a CHECK constraint proves the non-NULL values have
    # (`modeling.pg.check_constraints`); None: nothing proven
    min_length: int | None = None


@dataclass
class ForeignKey:
    columns: list[str]
    ref: QName
    ref_columns: list[str]  # empty: the referenced table's primary key
    name: str | None = None
    line: int = 0


@dataclass
class UniqueKey:
    columns: list[str]
    name: str | None = None
    line: int = 0


@dataclass
class Index:
    name: str
    columns: list[str | None]  # None for an expression element
    unique: bool = False
    method: str = "btree"
    where: str | None = None  # predicate of a partial index
    descending: list[bool] = field(default_factory=list)
    line: int = 0


@dataclass
class Table:
    schema: str
    name: str
    spelling: str | None = None  # source casing of an unquoted name (`BusinessEntity`)
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    pk_name: str | None = None
    pk_line: int = 0
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    uniques: list[UniqueKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    comment: str | None = None
    partition_of: QName | None = None
    partitioned_by: str | None = None
    partitions: list[QName] = field(default_factory=list)
    row_count: int | None = None
    line: int = 0

    @property
    def qname(self) -> QName:
        return (self.schema, self.name)


@dataclass
class EnumType:
    schema: str
    name: str
    values: list[str]
    line: int = 0


@dataclass
class Domain:
    schema: str
    name: str
    base_type: str
    not_null: bool = False
    line: int = 0
    collation: QName | None = None  # `CREATE DOMAIN d AS text COLLATE "C"`


@dataclass
class CompositeType:
    schema: str
    name: str
    attributes: list[tuple[str, str]]
    line: int = 0


@dataclass
class Collation:
    """A user-defined collation (`CREATE COLLATION`, or a row of pg_collation outside
    pg_catalog): `provider` libc | icu | builtin, `locale` its LC_COLLATE / ICU / builtin
    locale, or `source` the collation it was copied from (`FROM "C"`)."""

    schema: str
    name: str
    provider: str = "libc"
    locale: str | None = None
    deterministic: bool = True
    source: QName | None = None
    line: int = 0


@dataclass
class Skipped:
    """A statement not used for the model: its kind (`CREATE FUNCTION`), line, and why."""

    kind: str
    line: int
    reason: str = "not part of the data model"
    problem: bool = False  # True when it looked relevant but could not be read


@dataclass
class Catalog:
    tables: dict[QName, Table] = field(default_factory=dict)
    enums: dict[QName, EnumType] = field(default_factory=dict)
    domains: dict[QName, Domain] = field(default_factory=dict)
    composites: dict[QName, CompositeType] = field(default_factory=dict)
    collations: dict[QName, Collation] = field(default_factory=dict)
    # the database's default collation (CREATE DATABASE … LOCALE/LC_COLLATE/ICU_LOCALE in a
    # `pg_dump --create` file; pg_database.datcollate / its ICU or builtin locale) and where
    # it was read
    default_collation: str | None = None
    default_collation_origin: str | None = None
    sequences: dict[QName, QName | None] = field(default_factory=dict)  # seq → owning table
    sequence_owner_column: dict[QName, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    statements: int = 0  # DDL statements read (a DDL file)
    objects: dict[str, int] = field(
        default_factory=dict
    )  # catalog objects read, by kind (a database)
    source: str = ""

    def data_tables(self) -> list[Table]:
        """Tables that become entities: partitions are folded into their parent."""
        return [t for t in self.tables.values() if t.partition_of is None]

    def lookup_type(self, qname: QName, default_schema: str = "public") -> QName | None:
        """Resolve a possibly unqualified user type: exact name, then the same name anywhere."""
        schema, name = qname
        for registry in (self.enums, self.domains, self.composites):
            if (schema, name) in registry:
                return (schema, name)
        if schema in ("", default_schema):
            for registry in (self.enums, self.domains, self.composites):
                for s, n in registry:
                    if n == name:
                        return (s, n)
        return None
