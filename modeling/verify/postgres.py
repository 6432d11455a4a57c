"""The second oracle: the same rows in PostgreSQL, each access pattern run as SQL.

Why a second oracle: the Python oracle is ours, so a mistake in it (a comparison of mixed time
zones, a string order that is not byte order) would be "confirmed" by a layout with the same
mistake. PostgreSQL is independent. When the two disagree the Python oracle is wrong, and the
report says so distinctly.

Schema: the model's `source.ddl` when it exists and holds the sample rows; otherwise CREATE TABLE
statements generated from the model with sqlglot (quoted identifiers, types mapped, primary
keys, foreign keys DEFERRABLE so load order does not matter). Queries are sqlglot expressions
with bind parameters only.

Collation, stated because it decides what "agree" means: DynamoDB compares key strings by their
UTF-8 bytes. By default (`collation="C"`) every string comparison and ORDER BY here carries
`COLLATE "C"`, PostgreSQL's byte order, so the SQL answers what the Python oracle answers and a
difference is a verifier bug. An application whose columns sort under another collation
(`en_US.UTF-8`, an ICU locale) sees another order in production: `collation=SOURCE` (no COLLATE
clause: each column's own collation from the source DDL, else the database's default) or a
collation name (`und-x-icu`, `en_US.utf8`) asks PostgreSQL in that collation, and where its
answer then differs from byte order the report says so as a collation finding (the generated
client would return rows in another order than the SQL it replaces).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from modeling.core import inputs
from modeling.core.errors import InputError, OperationError
from modeling.core.ir import AccessPattern, Entity, Model, TypeRef
from modeling.extraction import pattern_binds, pattern_select, pattern_sql_problem
from modeling.pg.allow import verdict
from modeling.pg.split import split_statements
from modeling.sample.generate import ref_groups
from modeling.sample.oracle import condition_values, nulls_first, sort_attribute
from modeling.sample.rows import Dataset, RowRef

DIALECT = "postgres"
BYTE_ORDER = "C"  # the collation whose order is DynamoDB's (UTF-8 bytes)
SOURCE = "source"  # no COLLATE clause: the columns' own collation, else the database default
SCALAR_SQL = {
    "string": "TEXT",
    "integer": "BIGINT",
    "decimal": "NUMERIC",
    "float": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
    "uuid": "UUID",
    "binary": "BYTEA",
    "map": "JSONB",
}


@dataclass(frozen=True)
class TableRef:
    schema: str | None
    name: str

    def expression(self) -> exp.Table:
        return exp.Table(
            this=exp.Identifier(this=self.name, quoted=True),
            db=exp.Identifier(this=self.schema, quoted=True) if self.schema else None,
        )


@dataclass
class PgSchema:
    """Where each entity's rows live in the database, and how the schema was made."""

    tables: dict[str, TableRef]
    origin: str  # "generated" | "source DDL <path>"
    notes: list[str] = field(default_factory=list)


def sql_type(t: TypeRef) -> str:
    """The PostgreSQL type of a DSL type (nested collections become JSONB)."""
    if t.item is None:
        return SCALAR_SQL[t.kind]
    if t.item.item is None and t.item.kind in SCALAR_SQL and t.item.kind != "map":
        return SCALAR_SQL[t.item.kind] + "[]"
    return "JSONB"


def table_refs(model: Model) -> dict[str, TableRef]:
    """Entity → table; two entities on one SQL table get separate tables here (suffixed)."""
    out: dict[str, TableRef] = {}
    used: set[tuple[str | None, str]] = set()
    for e in model.entities:
        name = e.table
        if (e.schema, name) in used:
            name = f"{e.table}__{e.name.lower()}"
        used.add((e.schema, name))
        out[e.name] = TableRef(e.schema, name)
    return out


def generated_refs(refs: Mapping[str, TableRef]) -> dict[str, TableRef]:
    """The fallback tables, all in one scratch schema `verify_generated`.

    Tables of different source schemas may share a name (`auth.users`, `public.users`); in the
    one schema they keep their schema as a prefix so they stay apart.
    """
    out: dict[str, TableRef] = {}
    for n, r in refs.items():
        name = f"{r.schema}__{r.name}" if r.schema else r.name
        out[n] = TableRef("verify_generated", name)
    return out


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def _column_name(entity: Entity, attribute: str) -> str:
    a = entity.attribute(attribute)
    return a.column_name if a is not None else attribute


def create_statements(model: Model, tables: Mapping[str, TableRef] | None = None) -> list[str]:
    """CREATE SCHEMA / CREATE TABLE statements for every entity, generated with sqlglot.

    Foreign keys come last as ALTER TABLE statements: REFERENCES needs the referenced table to
    exist, and a model lists children before parents as often as not (or references in cycles).
    A reference whose column types differ from the target key's is not declared (PostgreSQL
    would refuse it, and the oracle does not need the constraint).
    """
    refs = dict(tables or table_refs(model))
    statements = [
        exp.Create(this=_ident(s), kind="SCHEMA", exists=True).sql(DIALECT)
        for s in sorted({r.schema for r in refs.values() if r.schema})
    ]
    foreign_keys: list[str] = []
    for e in model.entities:
        columns: list[exp.Expression] = []
        for a in e.attributes:
            constraints = []
            if a.required or a.name in e.key:
                constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
            columns.append(
                exp.ColumnDef(
                    this=_ident(a.column_name),
                    kind=exp.DataType.build(sql_type(a.type), dialect=DIALECT),
                    constraints=constraints,
                )
            )
        columns.append(exp.PrimaryKey(expressions=[_ident(_column_name(e, k)) for k in e.key]))
        create = exp.Create(
            this=exp.Schema(this=refs[e.name].expression(), expressions=columns), kind="TABLE"
        )
        statements.append(create.sql(DIALECT))
        for g in ref_groups(model, e):
            target = model.entity(g.target)
            if target is None or {t for _, t in g.mapping} != set(target.key):
                continue  # only a reference to the whole key is a foreign key
            if not all(_same_sql_type(e, mine, target, t) for mine, t in g.mapping):
                continue
            fk = exp.ForeignKey(
                expressions=[_ident(_column_name(e, mine)) for mine, _ in g.mapping],
                reference=exp.Reference(
                    this=exp.Schema(
                        this=refs[g.target].expression(),
                        expressions=[_ident(_column_name(target, t)) for _, t in g.mapping],
                    ),
                    options=["DEFERRABLE", "INITIALLY DEFERRED"],
                ),
            )
            alter = exp.Alter(
                this=refs[e.name].expression(),
                kind="TABLE",
                actions=[exp.AddConstraint(expressions=[fk])],
            )
            foreign_keys.append(alter.sql(DIALECT))
    return statements + foreign_keys


def _same_sql_type(entity: Entity, attribute: str, target: Entity, target_attribute: str) -> bool:
    a, b = entity.attribute(attribute), target.attribute(target_attribute)
    return a is not None and b is not None and sql_type(a.type) == sql_type(b.type)


# --------------------------------------------------------------------------- loading


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def sql_value(t: TypeRef, value: Any) -> Any:
    """A row value as psycopg should send it for `sql_type(t)`."""
    from psycopg.types.json import Jsonb

    if value is None:
        return None
    kind = sql_type(t)
    if kind == "JSONB":
        return Jsonb(_jsonable(value))
    if t.kind == "set":
        return sorted(value)
    return value


def insert_statement(entity: Entity, table: TableRef) -> str:
    """INSERT of one row with named placeholders.

    OVERRIDING SYSTEM VALUE: a real schema's `GENERATED ALWAYS AS IDENTITY` key refuses explicit
    values otherwise, and the sample rows' keys must be the ones loaded into DynamoDB. (sqlglot
    does not model the clause, so the statement is assembled from rendered parts.)
    """
    placeholders = [exp.Placeholder(this=f"p{i}") for i in range(len(entity.attributes))]
    target = exp.Schema(
        this=table.expression(),
        expressions=[_ident(a.column_name) for a in entity.attributes],
    )
    values = exp.Values(expressions=[exp.Tuple(expressions=placeholders)])
    return f"INSERT INTO {target.sql(DIALECT)} OVERRIDING SYSTEM VALUE {values.sql(DIALECT)}"


_NOT_IN_SCRATCH_DB = re.compile(
    r"^\s*(CREATE|DROP|ALTER)\s+(DATABASE|ROLE|USER|TABLESPACE)\b|^\s*(COPY|INSERT)\b",
    re.IGNORECASE,
)
# a COPY that is not a dump's inline data: it reads or writes a server file or runs a program
_COPY_SERVER = re.compile(r"^\s*COPY\b(?!.*\bFROM\s+STDIN\b)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class SourceStatements:
    """The statements of a source DDL that run, and those skipped (line, reason, text)."""

    run: list[str]
    skipped: list[tuple[int, str, str]]
    lines: list[int] = field(default_factory=list)  # the line of each statement in `run`

    def note(self, source: Path | str) -> str | None:
        if not self.skipped:
            return None
        shown = "; ".join(
            f"line {line}: {reason}: {' '.join(text.split())[:80]!r}"
            for line, reason, text in self.skipped[:5]
        )
        more = f"; and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        return (
            f"source DDL {source}: {len(self.skipped)} statement(s) skipped, never executed "
            f"(only schema-building statements run on the scratch database): {shown}{more}"
        )


def source_statements(ddl: str) -> SourceStatements:
    """The statements of a real DDL file that may run in the scratch database (an allow-list).

    A dump is a psql script, not one SQL string: psql meta-commands (`\\connect`, `\\set`) are
    not SQL, COPY and INSERT data is not wanted (the sample rows are loaded instead, and an
    install script's own rows would break its later foreign keys once its `\\copy` files are
    left out, or clash with the sample keys), and database-, role-
    and tablespace-level statements act outside the scratch database. Those are left out
    silently. Every other statement runs only if modeling.pg.allow lets it (schema-building DDL;
    no `DO`, no untrusted function, no server file or program access); the rest is skipped and
    reported.
    """
    run: list[str] = []
    lines: list[int] = []
    skipped: list[tuple[int, str, str]] = []
    for s in split_statements(ddl):
        if s.kind != "sql":
            continue
        stripped = _strip_comments(s.text)
        if _NOT_IN_SCRATCH_DB.match(stripped) and not _COPY_SERVER.match(stripped):
            continue  # data and database-level statements: left out, as a dump's data is
        v = verdict(s.text)
        if v.run:
            run.append(s.text)
            lines.append(s.line)
        else:
            skipped.append((s.line, v.reason, stripped))
    return SourceStatements(run, skipped, lines)


def _strip_comments(sql: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", "", sql, flags=re.DOTALL)


def prepare(conn: Any, model: Model, data: Dataset, source_ddl: Path | None) -> PgSchema:
    """Create the schema (source DDL first, generated as the fallback) and load the rows."""
    refs = table_refs(model)
    notes: list[str] = []
    if source_ddl is not None and source_ddl.is_file():
        source_refs = {e.name: TableRef(e.schema, e.table) for e in model.entities}
        statements = source_statements(inputs.read_text(source_ddl, "ddl"))
        skipped_note = statements.note(source_ddl)
        if skipped_note:
            notes.append(skipped_note)
        loading: list[str] = []
        try:
            with conn.transaction():
                failed = _run_each(conn, statements)
                if failed:
                    notes.append(_failed_note(source_ddl, failed))
                # the sample rows load under the session's defaults: a pg_dump empties
                # search_path (rows go to unqualified names too), an install script may set
                # client_encoding to latin1 (sample rows hold any Unicode)
                conn.execute("RESET ALL")
                _require_tables(conn, source_refs, failed)
                dropped = _drop_checks(conn, source_refs)
                if dropped:
                    notes.append(
                        f"source DDL: {len(dropped)} CHECK constraint(s) of the model's tables "
                        f"left out for the sample rows, which are not made to satisfy them "
                        f"({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''})"
                    )
                unique = _drop_unique(conn, source_refs)
                if unique:
                    notes.append(
                        f"source DDL: {len(unique)} UNIQUE constraint(s) or index(es) of the "
                        "model's tables left out for the sample rows, which are unique only on "
                        f"the model's keys ({', '.join(unique[:5])}"
                        f"{', ...' if len(unique) > 5 else ''})"
                    )
                defaults = _default_partitions(conn, source_refs)
                if defaults:
                    notes.append(
                        f"source DDL: a DEFAULT partition added to {', '.join(defaults)} for "
                        "the sample rows, which are not drawn to fit its partitions' bounds"
                    )
            # a transaction of its own: an enum value the DDL added (`ALTER TYPE … ADD VALUE`,
            # Prisma's migrations) is usable only once committed (UnsafeNewEnumValueUsage)
            with conn.transaction():
                _load(conn, model, data, source_refs, loading)
            return PgSchema(source_refs, f"source DDL {source_ddl}", notes)
        except Exception as exc:  # the source DDL is real-world input: any failure → fall back
            why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            if not isinstance(exc, _SourceUnfit):
                why = f"{type(exc).__name__}: {why}"
            if loading:
                why = f"loading {loading[-1]}: {why}"
            notes.append(
                f"source DDL {source_ddl} could not hold the sample rows ({why}); "
                "used tables generated from the model instead"
            )
            conn.execute("DROP SCHEMA IF EXISTS verify_generated CASCADE")
            refs = generated_refs(refs)
    with conn.transaction():
        for statement in create_statements(model, refs):
            conn.execute(statement)
        _load(conn, model, data, refs)
    return PgSchema(refs, "generated from the model", notes)


class _SourceUnfit(OperationError):
    """The source DDL ran but lacks a table of the model (the reason names the lines)."""


def _run_each(conn: Any, statements: SourceStatements) -> list[tuple[int, str]]:
    """Run each statement in a savepoint; those PostgreSQL refuses are left out: (line, why).

    A real dump holds statements a scratch PostgreSQL 15 cannot run (an extension that is not
    installed, a newer server's function, a collation made by another file): one of them must
    not discard the whole source DDL, only what depends on it."""
    failed: list[tuple[int, str]] = []
    lines = statements.lines or [0] * len(statements.run)
    for line, statement in zip(lines, statements.run, strict=True):
        try:
            with conn.transaction():
                conn.execute(statement)
        except Exception as exc:
            if not type(exc).__module__.startswith("psycopg"):
                raise
            failed.append((line, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:160]}"))
    return failed


def _failed_note(source: Path, failed: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"line {line}: {why}" for line, why in failed[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return (
        f"source DDL {source}: {len(failed)} statement(s) failed on this PostgreSQL and were "
        f"left out: {shown}{more}"
    )


def _require_tables(conn: Any, refs: Mapping[str, TableRef], failed: list[tuple[int, str]]) -> None:
    """Raise _SourceUnfit when a table of the model was not created (naming the failures)."""
    missing = [
        r.expression().sql(DIALECT)
        for r in refs.values()
        if conn.execute("SELECT to_regclass(%s)", (r.expression().sql(DIALECT),)).fetchone()[0]
        is None
    ]
    if missing:
        why = f" (first failure: line {failed[0][0]}: {failed[0][1]})" if failed else ""
        raise _SourceUnfit(
            f"{len(missing)} table(s) of the model not created: {', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}{why}"
        )


def _default_partitions(conn: Any, refs: Mapping[str, TableRef]) -> list[str]:
    """Give each LIST/RANGE-partitioned table of the model without a DEFAULT partition one.

    Sample rows are drawn for the model's types, not for a dump's partition bounds (GitLab's
    `activities` is LIST-partitioned by `trackable_type`); a default partition holds them, and
    the queries read the parent table as the application does."""
    added: list[str] = []
    for r in refs.values():
        name = r.expression().sql(DIALECT)
        row = conn.execute(
            "SELECT p.partstrat, p.partdefid FROM pg_partitioned_table p "
            "WHERE p.partrelid = to_regclass(%s)",
            (name,),
        ).fetchone()
        if row is None or row[0] not in ("l", "r") or row[1]:
            continue
        default = TableRef(r.schema, f"{r.name[:40]}__verify_default").expression()
        conn.execute(f"CREATE TABLE {default.sql(DIALECT)} PARTITION OF {name} DEFAULT")
        added.append(name)
    return added


def _drop_checks(conn: Any, refs: Mapping[str, TableRef]) -> list[str]:
    """Drop the CHECK constraints of the tables in `refs`; their names, sorted.

    Sample rows are made to fit column types (modeling.sample.fit), not arbitrary predicates
    (`rating BETWEEN 1 AND 5`); what verify proves is the key layout, so a CHECK is left out
    rather than the whole source DDL."""
    found: list[tuple[str, str]] = []
    for ref in refs.values():
        rows = conn.execute(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "WHERE c.contype = 'c' AND c.conrelid = to_regclass(%s)",
            (ref.expression().sql(DIALECT),),
        ).fetchall()
        found.extend((str(t), str(n)) for t, n in rows)
    for table, name in sorted(set(found)):
        constraint = exp.Identifier(this=name, quoted=True).sql(DIALECT)
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
    return sorted(f"{t}.{n}" for t, n in set(found))


def _drop_unique(conn: Any, refs: Mapping[str, TableRef]) -> list[str]:
    """Drop the UNIQUE constraints and indexes (not the primary key) of the tables in `refs`.

    Sample rows are unique on the model's key and its unique patterns only; a dump's other
    unique indexes (GitLab's partial `UNIQUE (token_encrypted) WHERE token_encrypted IS NOT
    NULL`) would refuse them, and uniqueness changes no query's answer. One that cannot be
    dropped (a partition's index attached to its parent's) is kept. Their names, sorted."""
    found: list[tuple[str, str, bool]] = []  # table, name, is a constraint
    for ref in refs.values():
        rows = conn.execute(
            "SELECT i.indrelid::regclass::text, "
            "coalesce(c.conname, i.indexrelid::regclass::text), c.conname IS NOT NULL "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "AND c.conrelid = i.indrelid AND c.contype = 'u' "
            "WHERE i.indisunique AND NOT i.indisprimary AND i.indrelid = to_regclass(%s)",
            (ref.expression().sql(DIALECT),),
        ).fetchall()
        found.extend((str(t), str(n), bool(k)) for t, n, k in rows)
    dropped: list[str] = []
    for table, name, constraint in sorted(set(found)):
        sql = (
            f"ALTER TABLE {table} DROP CONSTRAINT "
            f"{exp.Identifier(this=name, quoted=True).sql(DIALECT)} CASCADE"
            if constraint
            else f"DROP INDEX {name} CASCADE"  # regclass text: already quoted, qualified
        )
        try:
            with conn.transaction():
                conn.execute(sql)
        except Exception as exc:
            if not type(exc).__module__.startswith("psycopg"):
                raise
            continue
        dropped.append(f"{table}.{name}" if constraint else name)
    return dropped


def _load(
    conn: Any,
    model: Model,
    data: Dataset,
    refs: Mapping[str, TableRef],
    loading: list[str] | None = None,
) -> None:
    """Insert the sample rows; `loading` gets each table as its rows go in (for a note)."""
    # Foreign keys are deferred (generated) or disabled for the load (source DDL may reference
    # tables outside the model); triggers of a real schema must not rewrite sample rows.
    # (the scratch role may set it from PostgreSQL 15 on; before, the load keeps them on and
    # a source DDL whose constraints refuse the rows falls back to generated tables)
    with contextlib.suppress(Exception), conn.transaction():  # InsufficientPrivilege
        conn.execute("SET LOCAL session_replication_role = replica")
    # an aware sample value goes into a `timestamp` column as its UTC wall time (the queries
    # and `_normalise_key` read it back so), whatever the server's default time zone
    conn.execute("SET TIME ZONE 'UTC'")
    # a failed batch is reported by the caller; psycopg's own "error ignored" log is noise
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    for e in model.entities:
        rows = data.of(e.name)
        if not rows:
            continue
        sql = insert_statement(e, refs[e.name])
        if loading is not None:
            loading.append(f"{e.name} into {refs[e.name].expression().sql(DIALECT)}")
        params = [
            {f"p{i}": sql_value(a.type, r.get(a.name)) for i, a in enumerate(e.attributes)}
            for r in rows
        ]
        with conn.cursor() as cur:
            cur.executemany(sql, params)


# --------------------------------------------------------------------------- querying


def supported(model: Model, pattern: AccessPattern) -> str | None:
    """None when the pattern can be asked of PostgreSQL, else why not."""
    return pattern_sql_problem(model, pattern)


def _collated(column: exp.Expression, collation: str) -> exp.Expression:
    if collation == SOURCE:
        return column
    return exp.Collate(this=column, expression=_ident(collation))


def check_collation(conn: Any, collation: str) -> None:
    """Raise CollationError when `collation` (not `source`) is unknown to the server."""
    if collation == SOURCE:
        return
    found = conn.execute(
        "SELECT 1 FROM pg_collation WHERE collname = %s AND collencoding IN (-1, "
        "pg_char_to_encoding(current_setting('server_encoding')))",
        (collation,),
    ).fetchone()
    if found is None:
        raise CollationError(
            f"PostgreSQL has no collation {collation!r} for this database's encoding; "
            f"see SELECT collname FROM pg_collation, or use {BYTE_ORDER!r} (byte order, the "
            f"default) or {SOURCE!r} (the columns' own collation)"
        )


class CollationError(InputError):
    """An unknown collation name for the PostgreSQL oracle (exit 2)."""


def select_statement(
    model: Model,
    pattern: AccessPattern,
    entity: Entity,
    table: TableRef,
    params: Mapping[str, Any],
    collation: str = BYTE_ORDER,
    statements: dict[tuple[Any, ...], str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """SELECT the key columns of matching rows, ordered by the range attribute then the key
    (`modeling.extraction.pattern_select`); strings compared and sorted under `collation`
    (see the module doc). `statements`: a cache of statements built for this pattern, by
    entity and number of values per condition (only the binds change between trials)."""
    values = [
        condition_values(c, _attribute_type(entity, c.attribute), params)
        for c in (*pattern.where, *pattern.filter)
    ]
    shape = (pattern.name, entity.name, table, collation, tuple(len(v) for v in values))
    if statements is not None and shape in statements:
        return statements[shape], pattern_binds(entity, pattern, values)
    sql, binds = pattern_select(
        entity,
        pattern,
        values,
        order_by=sort_attribute(pattern),
        nulls_first=nulls_first(pattern),
        table=(table.schema, table.name),
        collate=None if collation == SOURCE else collation,
    )
    if statements is not None:
        statements[shape] = sql
    return sql, binds


def _attribute_type(entity: Entity, attribute: str) -> TypeRef | None:
    a = entity.attribute(attribute)
    return a.type if a is not None else None


def run_pattern(
    conn: Any,
    model: Model,
    schema: PgSchema,
    pattern: AccessPattern,
    params: Mapping[str, Any],
    collation: str = BYTE_ORDER,
) -> dict[str, list[RowRef]]:
    """Per entity, the refs PostgreSQL returns for the pattern, in its order."""
    out: dict[str, list[RowRef]] = {}
    for name in pattern.entities:
        entity = model.entity(name)
        assert entity is not None
        sql, binds = select_statement(
            model, pattern, entity, schema.tables[name], params, collation
        )
        with conn.cursor() as cur:
            cur.execute(sql, binds)
            out[name] = [RowRef(name, _normalise_key(entity, tuple(r))) for r in cur.fetchall()]
    return out


def run_pattern_many(
    conn: Any,
    model: Model,
    schema: PgSchema,
    pattern: AccessPattern,
    params_list: Sequence[Mapping[str, Any]],
    collation: str = BYTE_ORDER,
) -> list[dict[str, list[RowRef]]]:
    """`run_pattern` for many parameter sets, sent in one pipeline (libpq 14+): the queries
    go out back to back and the answers are read afterwards, so the trials of a pattern cost
    about one round trip instead of one each. Without pipeline support, one after another."""
    if not psycopg_pipeline_supported():
        return [run_pattern(conn, model, schema, pattern, p, collation) for p in params_list]
    pending: list[list[tuple[str, Any]]] = []
    statements: dict[tuple[Any, ...], str] = {}
    with conn.pipeline():
        for params in params_list:
            trial: list[tuple[str, Any]] = []
            for name in pattern.entities:
                entity = model.entity(name)
                assert entity is not None
                sql, binds = select_statement(
                    model, pattern, entity, schema.tables[name], params, collation, statements
                )
                cur = conn.cursor()
                cur.execute(sql, binds)
                trial.append((name, cur))
            pending.append(trial)
    out: list[dict[str, list[RowRef]]] = []
    for trial in pending:
        answer: dict[str, list[RowRef]] = {}
        for name, cur in trial:
            entity = model.entity(name)
            assert entity is not None
            answer[name] = [RowRef(name, _normalise_key(entity, tuple(r))) for r in cur.fetchall()]
            cur.close()
        out.append(answer)
    return out


def psycopg_pipeline_supported() -> bool:
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def _normalise_key(entity: Entity, values: Sequence[Any]) -> tuple[Any, ...]:
    out = []
    for k, v in zip(entity.key, values, strict=True):
        a = entity.attribute(k)
        if a is not None and a.type.kind == "binary" and isinstance(v, memoryview):
            v = bytes(v)
        elif isinstance(v, datetime) and v.tzinfo is None:
            # a `timestamp` column (a naive attribute): the rows went in and come back in the
            # session's UTC (`_load`), the sample values are aware: compare instants
            v = v.replace(tzinfo=UTC)
        out.append(v)
    return tuple(out)


def dump_rows_json(model: Model, data: Dataset) -> str:
    """The sample rows as JSON (for `--dump`), in the SQL value forms."""
    return json.dumps({k: _jsonable(v) for k, v in data.rows.items()}, indent=1, sort_keys=True)
