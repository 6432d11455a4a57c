"""Load a shared DDL file into a real PostgreSQL 15 and count what its catalog holds.

This is the independent count the seeder is compared with. PostgreSQL 15 rejects a few things
in the corpus, so the text is preprocessed minimally and each statement runs on its own
(autocommit): what PG 15 cannot run is recorded, and the tests pin exactly which statements
fail, so a count can never silently depend on a statement that did not load.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

from modeling.pg.split import split_statements

# Preprocessing, per file: (pattern, replacement, why).
PREPROCESS: dict[str, list[tuple[str, str, str]]] = {
    "pagila-schema.sql": [
        (r"\)\s+VIRTUAL\b", ") STORED", "PG 18 VIRTUAL generated column; PG 15 only has STORED"),
        (r"\buuidv7\(\)", "gen_random_uuid()", "uuidv7() is PG 18; PG 15 has gen_random_uuid()"),
        (
            r"\bpublic\.vector\((\d+)\)|\bvector\((\d+)\)",
            "real[]",
            "pgvector is not installed: vector(n) → real[]",
        ),
    ],
}
# Statements never sent: they would switch or drop the database we count in, or load rows
# (AdventureWorks inserts reviews of products whose rows come from absent CSV files).
_DEBUG = False
_NEVER = re.compile(r"^\s*((DROP|CREATE)\s+DATABASE|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

COUNT_SQL = """
WITH t AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r','p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog','information_schema','pg_toast')
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e'))
SELECT
  (SELECT count(*) FROM t),
  (SELECT count(*) FROM pg_attribute a WHERE a.attrelid IN (SELECT oid FROM t) AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid IN (SELECT oid FROM t)),
  (SELECT count(*) FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname NOT IN ('pg_catalog','information_schema')),
  (SELECT count(*) FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace
     WHERE ty.typtype = 'e' AND n.nspname NOT IN ('pg_catalog','information_schema')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = ty.oid AND d.deptype = 'e'))
"""


def preprocess(name: str, text: str) -> str:
    for pattern, repl, _why in PREPROCESS.get(name, []):
        text = re.sub(pattern, repl, text)
    return text


def load(dsn: str, path: Path) -> list[tuple[int, str]]:
    """Run every statement of `path`; return (line, first words) of those PostgreSQL rejected."""
    text = preprocess(path.name, path.read_text(encoding="utf-8"))
    failed: list[tuple[int, str]] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for st in split_statements(text):
            if st.kind != "sql" or _NEVER.match(st.text):
                continue
            try:
                conn.execute(st.text.encode())
            except psycopg.Error as e:
                failed.append((st.line, " ".join(st.text.split()[:3]).upper()))
                if _DEBUG:
                    print(st.line, str(e).splitlines()[0])
    return failed


def counts(dsn: str) -> tuple[int, int, int, int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(COUNT_SQL).fetchone()
    assert row is not None
    return tuple(int(x) for x in row)  # type: ignore[return-value]
