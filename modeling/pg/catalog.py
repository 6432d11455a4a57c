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

NAMEDATALEN = 64  # PostgreSQL's identifier limit: names are cut to NAMEDATALEN - 1 bytes


def _clip(name: str, limit: int) -> str:
    """The longest prefix of `name` of at most `limit` UTF-8 bytes (a whole character)."""
    data = name.encode("utf-8")
    if len(data) <= limit:
        return name
    return data[:limit].decode("utf-8", "ignore")


def identifier(name: str) -> str:
    """A name as PostgreSQL keeps it: cut to NAMEDATALEN - 1 bytes (it says NOTICE and
    truncates), so `CREATE TABLE <70 x's>` makes a table of 63 x's."""
    if len(name) <= (NAMEDATALEN - 1) // 4:  # 4 bytes per character at most: fits
        return name
    return _clip(name, NAMEDATALEN - 1)


def default_constraint_name(table: str, columns: list[str], label: str) -> str:
    """The name PostgreSQL gives a constraint declared without one (`makeObjectName`):
    `t_pkey`, `t_a_b_key`, `t_a_fkey`, cut to 63 bytes by shortening the longer part."""
    name2 = "_".join(columns) if label != "pkey" else ""
    name2 = _clip(name2, NAMEDATALEN - 1)
    avail = NAMEDATALEN - 1 - (len(label) + 1) - (1 if name2 else 0)
    n1, n2 = len(table.encode("utf-8")), len(name2.encode("utf-8"))
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    parts = [_clip(table, n1)] + ([_clip(name2, n2)] if name2 else []) + [label]
    return "_".join(parts)


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
    implied: str | None = None  # unnamed: the name PostgreSQL gave it when it was added


@dataclass
class UniqueKey:
    columns: list[str]
    name: str | None = None
    line: int = 0
    implied: str | None = None  # unnamed: the name PostgreSQL gave it when it was added


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
    pk_implied: str | None = None  # unnamed: the name PostgreSQL gave it when it was added
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

    def constraint_names(self) -> dict[str, tuple[str, object]]:
        """Each key constraint by the name PostgreSQL knows it by (its own, else the default
        one): ("pk", columns) | ("unique", UniqueKey) | ("fk", ForeignKey)."""
        out: dict[str, tuple[str, object]] = {}
        if self.primary_key:
            pk = self.pk_name or self.pk_implied
            out[pk or default_constraint_name(self.name, [], "pkey")] = ("pk", self.primary_key)
        for u in self.uniques:
            name = u.name or u.implied or default_constraint_name(self.name, u.columns, "key")
            out[name] = ("unique", u)
        for fk in self.foreign_keys:
            name = fk.name or fk.implied or default_constraint_name(self.name, fk.columns, "fkey")
            out[name] = ("fk", fk)
        return out

    def name_constraints(self) -> None:
        """Fix the names PostgreSQL gives unnamed keys now (they keep them when the table or
        its columns are renamed later)."""
        if self.primary_key and not self.pk_name and not self.pk_implied:
            self.pk_implied = default_constraint_name(self.name, [], "pkey")
        for u in self.uniques:
            if not u.name and not u.implied:
                u.implied = default_constraint_name(self.name, u.columns, "key")
        for fk in self.foreign_keys:
            if not fk.name and not fk.implied:
                fk.implied = default_constraint_name(self.name, fk.columns, "fkey")

    def drop_constraint(self, name: str) -> bool:
        """`ALTER TABLE … DROP CONSTRAINT name`: forget that key; False when none has it."""
        found = self.constraint_names().get(name)
        if found is None:
            return False
        kind, what = found
        if kind == "pk":
            self.primary_key, self.pk_name, self.pk_implied = [], None, None
        elif kind == "unique":
            self.uniques = [u for u in self.uniques if u is not what]
        else:
            self.foreign_keys = [fk for fk in self.foreign_keys if fk is not what]
        return True

    def rename_column(self, old: str, new: str) -> None:
        """`RENAME COLUMN old TO new`: the column and every key and index naming it follow."""
        if old not in self.columns or old == new:
            return
        self.name_constraints()  # its keys keep the names they were given
        self.columns = {(new if n == old else n): c for n, c in self.columns.items()}
        self.columns[new].name = new

        def swap(cols: list[str]) -> list[str]:
            return [new if c == old else c for c in cols]

        self.primary_key = swap(self.primary_key)
        for u in self.uniques:
            u.columns = swap(u.columns)
        for fk in self.foreign_keys:
            fk.columns = swap(fk.columns)
        for ix in self.indexes:
            ix.columns = [new if c == old else c for c in ix.columns]

    def drop_column(self, name: str) -> bool:
        """`DROP COLUMN name`: PostgreSQL drops the indexes and constraints that use it too."""
        if self.columns.pop(name, None) is None:
            return False
        if name in self.primary_key:
            self.primary_key, self.pk_name = [], None
        self.uniques = [u for u in self.uniques if name not in u.columns]
        self.foreign_keys = [fk for fk in self.foreign_keys if name not in fk.columns]
        self.indexes = [ix for ix in self.indexes if name not in ix.columns]
        return True


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

    def drop_table(self, q: QName) -> list[QName]:
        """`DROP TABLE q [CASCADE]`: the table, its partitions, the sequences it owns and the
        foreign keys naming it go (what a script that ran leaves behind); the names dropped."""
        t = self.tables.pop(q, None)
        if t is None:
            return []
        gone = [q]
        for child in [c for c, other in self.tables.items() if other.partition_of == q]:
            gone += self.drop_table(child)
        if t.partition_of is not None and t.partition_of in self.tables:
            parent = self.tables[t.partition_of]
            parent.partitions = [p for p in parent.partitions if p != q]
        for other in self.tables.values():
            if any(fk.ref == q for fk in other.foreign_keys):
                other.foreign_keys = [fk for fk in other.foreign_keys if fk.ref != q]
        for seq, owner in list(self.sequences.items()):
            if owner == q:
                del self.sequences[seq]
                self.sequence_owner_column.pop(seq, None)
        return gone

    def rename_column(self, q: QName, old: str, new: str) -> None:
        """`ALTER TABLE q RENAME COLUMN old TO new`, in q and in the foreign keys naming it."""
        t = self.tables.get(q)
        if t is None or old not in t.columns:
            return
        t.rename_column(old, new)
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.ref == q:
                    fk.ref_columns = [new if c == old else c for c in fk.ref_columns]
        for seq, owner in self.sequences.items():
            if owner == q and self.sequence_owner_column.get(seq) == old:
                self.sequence_owner_column[seq] = new

    def drop_column(self, q: QName, name: str) -> None:
        """`ALTER TABLE q DROP COLUMN name [CASCADE]`, with the foreign keys that named it."""
        t = self.tables.get(q)
        if t is None:
            return
        was_key = name in t.primary_key
        if not t.drop_column(name):
            return
        for other in self.tables.values():
            if other is t:
                continue
            other.foreign_keys = [
                fk
                for fk in other.foreign_keys
                if fk.ref != q
                or (name not in fk.ref_columns and not (was_key and not fk.ref_columns))
            ]

    def type_registry(self, q: QName) -> dict[QName, Any] | None:
        """The registry (enums, domains, composites) that holds q, if any."""
        for registry in (self.enums, self.domains, self.composites):
            if q in registry:
                return registry
        return None

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
