"""Read a live PostgreSQL database's catalog into the same `Catalog` the DDL reader fills.

Queries `pg_catalog` directly (information_schema hides partitions, identity details and
statistics). Types are rendered so that `_types.canonical` reads them exactly like DDL text:
builtins through `format_type()`, user types as `schema.name`. Row counts (`reltuples`) and
per-column `pg_stats` (n_distinct, avg_width, null_frac) are kept as hints for the compiler's
capacity and hot-partition checks. Constraint-backed indexes are left out, as in a dump.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from modeling.core.diagnostics import Diagnostics, Span
from modeling.pg.catalog import (
    Catalog,
    Collation,
    Column,
    CompositeType,
    Domain,
    EnumType,
    ForeignKey,
    Index,
    QName,
    Table,
    UniqueKey,
)
from modeling.pg.check_constraints import note_check
from modeling.pg.collations import database_collation

_PROVIDERS = {"c": "libc", "i": "icu", "b": "builtin", "d": "libc"}
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
_NOT_SYSTEM = "n.nspname NOT IN ('pg_catalog','information_schema','pg_toast') AND n.nspname NOT LIKE 'pg_temp_%%' AND n.nspname NOT LIKE 'pg_toast_temp_%%'"
# Objects that belong to extensions (pgvector's types, uuid-ossp...) are not the app's schema.
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

_TYPE_TEXT = """
CASE
  WHEN et.oid IS NOT NULL AND (et.typtype IN ('e','d','c') OR etn.nspname <> 'pg_catalog')
    THEN quote_ident(etn.nspname) || '.' || quote_ident(et.typname) || '[]'
  WHEN t.typtype IN ('e','d','c') OR tn.nspname <> 'pg_catalog'
    THEN quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
         || COALESCE(substring(format_type(a.atttypid, a.atttypmod) from '\\(.*\\)$'), '')
  ELSE format_type(a.atttypid, a.atttypmod)
END
"""

Q_TABLES = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, c.reltuples::bigint,
       obj_description(c.oid, 'pg_class'),
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid AND c.relispartition),
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p') AND {_NOT_SYSTEM} AND {_NOT_EXTENSION.format(oid="c.oid")}
ORDER BY n.nspname, c.relname
"""

Q_COLUMNS = f"""
SELECT a.attrelid, a.attnum, a.attname, {_TYPE_TEXT}, a.attnotnull, a.attidentity, a.attgenerated,
       pg_get_expr(ad.adbin, ad.adrelid), col_description(a.attrelid, a.attnum),
       pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname),
       con.nspname, co.collname, a.attndims
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND co.collname <> 'default'
LEFT JOIN pg_namespace con ON con.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p') AND {_NOT_SYSTEM}
ORDER BY a.attrelid, a.attnum
"""

Q_CONSTRAINTS = f"""
SELECT con.conrelid, con.conname, con.contype,
       ARRAY(SELECT att.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.n ORDER BY k.o),
       fn.nspname, fc.relname,
       ARRAY(SELECT att.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.n ORDER BY k.o),
       con.conparentid <> 0,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p','u','f','c') AND {_NOT_SYSTEM}
ORDER BY con.conrelid, con.conname
"""

Q_INDEXES = f"""
SELECT i.indrelid, ic.relname, i.indisunique, am.amname,
       ARRAY(SELECT CASE WHEN k.n = 0 THEN NULL ELSE att.attname END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
             LEFT JOIN pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = k.n
             WHERE k.o <= i.indnkeyatts ORDER BY k.o),
       ARRAY(SELECT (opt & 1) = 1 FROM unnest(i.indoption::int2[]) WITH ORDINALITY o(opt, ord) ORDER BY ord),
       pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE {_NOT_SYSTEM}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p','u','x'))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
ORDER BY i.indrelid, ic.relname
"""

Q_TYPES = f"""
SELECT t.oid, n.nspname, t.typname, t.typtype, t.typnotnull,
       CASE WHEN t.typtype = 'd' THEN
         CASE WHEN bt.typtype IN ('e','d','c') OR bn.nspname <> 'pg_catalog'
              THEN quote_ident(bn.nspname) || '.' || quote_ident(bt.typname)
              ELSE format_type(t.typbasetype, t.typtypmod) END END,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       ARRAY(SELECT att.attname || ' ' || format_type(att.atttypid, att.atttypmod) FROM pg_attribute att
             WHERE att.attrelid = t.typrelid AND att.attnum > 0 AND NOT att.attisdropped ORDER BY att.attnum)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_namespace bn ON bn.oid = bt.typnamespace
WHERE {_NOT_SYSTEM} AND {_NOT_EXTENSION.format(oid="t.oid")}
  AND (t.typtype IN ('e','d')
       OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
ORDER BY n.nspname, t.typname
"""

# User collations (CREATE COLLATION) and the database's default; to_jsonb keeps the query
# working across versions (PostgreSQL 15/16 call the ICU locale colliculocale/daticulocale,
# 17 colllocale/datlocale).
Q_COLLATIONS = f"""
SELECT n.nspname, co.collname, to_jsonb(co)
FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE {_NOT_SYSTEM} AND {_NOT_EXTENSION.format(oid="co.oid")}
ORDER BY n.nspname, co.collname
"""
Q_DATABASE = "SELECT to_jsonb(d) FROM pg_database d WHERE d.datname = current_database()"

Q_STATS = f"""
SELECT s.schemaname, s.tablename, s.attname, s.n_distinct, s.avg_width, s.null_frac
FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname
WHERE {_NOT_SYSTEM}
"""


def read_db(dsn: str, *, with_stats: bool = True) -> tuple[Catalog, Diagnostics]:
    """Read every user table of the database at `dsn`. Connection errors become a diagnostic."""
    diags = Diagnostics()
    cat = Catalog(source=_redact(dsn))
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.read_only = True
            with conn.cursor() as cur:
                analyzed = _fill(cur, cat, with_stats)
        cat.objects = _objects(cat)
        if with_stats and cat.tables and not analyzed:
            diags.warning(
                "SEED016",
                f"pg_stats holds no statistics for the {len(cat.tables)} table(s) read: the "
                "database was never analyzed, so the model gets no row counts or column "
                "statistics for the compiler's capacity and hot-partition checks",
                Span(_redact(dsn)),
                hint="run ANALYZE on the database (psql -c ANALYZE), then model init again",
            )
    except psycopg.Error as e:
        diags.error(
            "SEED015",
            f"cannot read the database: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}",
            Span(_redact(dsn)),
            hint="check the DSN (postgresql://user@host:port/db) and that the server is reachable",
        )
    return cat, diags


def database_label(dsn: str) -> str:
    """`postgresql://host:port/db` for a DSN (URL or key=value), without user or password: what
    a seeded model records as `source.database`."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "postgresql://"
    host = str(info.get("host") or "localhost").split(",")[0]
    if host.startswith("/"):
        host = "localhost"  # a Unix socket directory says nothing about the database
    port = str(info.get("port") or "").split(",")[0]
    db = str(info.get("dbname") or info.get("user") or "")
    return f"postgresql://{host}{':' + port if port else ''}/{db}"


def _redact(dsn: str) -> str:
    """A DSN without its password, safe to print and to record in the model."""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1@", re.sub(r"password=\S+", "password=***", dsn))


def _objects(cat: Catalog) -> dict[str, int]:
    """What the catalog held, by kind: the live database's counterpart of a statement count."""
    tables = list(cat.tables.values())
    return {
        "tables": len(tables),
        "columns": sum(len(t.columns) for t in tables),
        "constraints": sum(
            bool(t.primary_key) + len(t.uniques) + len(t.foreign_keys) for t in tables
        ),
        "indexes": sum(len(t.indexes) for t in tables),
        "types": len(cat.enums) + len(cat.domains) + len(cat.composites),
    }


def _fill(cur: Any, cat: Catalog, with_stats: bool) -> bool:
    """Fill `cat`; True when pg_stats had statistics for at least one column read."""
    by_oid: dict[int, Table] = {}
    cur.execute(Q_TABLES)
    for oid, schema, name, _kind, _is_part, reltuples, comment, parent, partkey in cur.fetchall():
        t = Table(schema, name, comment=comment, partitioned_by=partkey)
        t.row_count = int(reltuples) if reltuples is not None and reltuples >= 0 else None
        if parent:
            ps, _, pn = parent.partition(".")
            t.partition_of = (ps, pn)
        by_oid[oid] = t
        cat.tables[t.qname] = t
    for t in cat.tables.values():
        if t.partition_of and t.partition_of in cat.tables:
            cat.tables[t.partition_of].partitions.append(t.qname)

    cur.execute(Q_COLUMNS)
    for row in cur.fetchall():
        relid, _num, name, typ, notnull, ident, gen, default, comment, serial_seq = row[:10]
        coll_schema, coll_name, ndims = row[10:]
        if ndims and ndims > 1 and typ.endswith("[]"):
            # format_type() prints one `[]` whatever the declaration said; attndims keeps
            # `int[][]` (informational in PostgreSQL, as the DDL wrote it)
            typ += "[]" * (ndims - 1)
        tbl = by_oid.get(relid)
        if tbl is None:
            continue
        t = tbl
        col = Column(name, typ, not_null=bool(notnull), default=default, comment=comment)
        if coll_name is not None:
            col.collation = (coll_schema, coll_name)
        if ident == "a":
            col.identity = "always"
        elif ident == "d":
            col.identity = "by default"
        if gen == "s":
            col.generated, col.generated_kind = default, "stored"
            col.default = None
        elif gen == "v":
            col.generated, col.generated_kind = default, "virtual"
            col.default = None
        if serial_seq and not col.identity:
            col.serial = True
        t.columns[name] = col

    cur.execute(Q_CONSTRAINTS)
    for relid, conname, contype, cols, fschema, ftable, fcols, inherited, check in cur.fetchall():
        tbl = by_oid.get(relid)
        if tbl is None:
            continue
        t = tbl
        del inherited
        if contype == "p":
            t.primary_key, t.pk_name = list(cols), conname
        elif contype == "u":
            t.uniques.append(UniqueKey(list(cols), conname))
        elif contype == "f":
            ref: QName = (fschema, ftable)
            t.foreign_keys.append(ForeignKey(list(cols), ref, list(fcols), conname))
        elif contype == "c" and check:
            note_check(t, check)  # a length bound seeds `min_length`

    cur.execute(Q_INDEXES)
    for relid, iname, unique, am, cols, desc, pred in cur.fetchall():
        tbl = by_oid.get(relid)
        if tbl is None:
            continue
        t = tbl
        t.indexes.append(Index(iname, list(cols), bool(unique), am, pred, [bool(d) for d in desc]))

    cur.execute(Q_TYPES)
    for _oid, schema, name, typtype, notnull, base, labels, attrs in cur.fetchall():
        q = (schema, name)
        if typtype == "e":
            cat.enums[q] = EnumType(schema, name, list(labels))
        elif typtype == "d":
            cat.domains[q] = Domain(schema, name, base, bool(notnull))
        else:
            pairs = [tuple(a.split(" ", 1)) for a in attrs]
            cat.composites[q] = CompositeType(schema, name, [(p[0], p[1]) for p in pairs])

    cur.execute(Q_COLLATIONS)
    for schema, name, row in cur.fetchall():
        provider = _PROVIDERS.get(row.get("collprovider"), "libc")
        icu = row.get("colllocale") or row.get("colliculocale")
        cat.collations[(schema, name)] = Collation(
            schema,
            name,
            provider,
            row.get("collcollate") if provider == "libc" else icu or row.get("collcollate"),
            bool(row.get("collisdeterministic", True)),
        )
    cur.execute(Q_DATABASE)
    found = cur.fetchone()
    if found is not None:
        db = found[0]
        cat.default_collation = database_collation(
            db.get("datlocprovider"),
            db.get("datcollate"),
            db.get("datlocale") or db.get("daticulocale"),
        )
        cat.default_collation_origin = "pg_database"

    analyzed = False
    if with_stats:
        cur.execute(Q_STATS)
        for schema, table, col, n_distinct, avg_width, null_frac in cur.fetchall():
            st_table = cat.tables.get((schema, table))
            if st_table is not None and col in st_table.columns:
                analyzed = True
                st_table.columns[col].stats = {
                    "n_distinct": float(n_distinct) if n_distinct is not None else None,
                    "avg_width": int(avg_width) if avg_width is not None else None,
                    "null_frac": float(null_frac) if null_frac is not None else None,
                }
    return analyzed
