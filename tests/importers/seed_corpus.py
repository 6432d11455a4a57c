"""Where the shared DDL corpus lives, and the counts pinned for each file.

The corpus is `../shared/ddl/` beside the checkout (CI copies `shared/` there). The counts were
measured INDEPENDENTLY by loading each file into PostgreSQL 15 and querying its catalog
(`seed_pgload.COUNT_SQL`); `test_seed_corpus.py::test_postgres_agrees_with_pinned_counts`
re-measures them on every e2e run, so a pin can never drift from what PostgreSQL says.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def shared_ddl_dir() -> Path:
    here = Path(__file__).resolve()
    for base in (here.parents[2].parent, here.parents[2]):
        d = base / "shared" / "ddl"
        if d.is_dir():
            return d
    pytest.fail(
        f"the shared DDL corpus is missing: expected {here.parents[2].parent / 'shared' / 'ddl'} "
        "(CI must copy shared/ beside the checkout)",
        pytrace=False,
    )


# file → (tables, columns, primary keys, foreign keys, enums)
# tables/columns/pks: ordinary and partitioned tables, partitions folded into their parent;
# foreign keys: every declared one, including those pg_dump writes on single partitions.
PINNED: dict[str, tuple[int, int, int, int, int]] = {
    "adventureworks-install.sql": (68, 456, 68, 90, 0),
    "chinook-autoinc-ddl.sql": (11, 64, 11, 11, 0),
    "identity-pgdump-mini.sql": (1, 2, 1, 0, 0),
    "northwind-ddl.sql": (14, 92, 14, 13, 0),
    "pagila-schema.sql": (16, 94, 16, 37, 1),
    "supabase-schema-16.sql": (9, 56, 9, 3, 0),
}

# Statements PostgreSQL 15 rejects even after seed_pgload.PREPROCESS, by file: (line, head).
# None of them creates a table, column or key, so the counts above do not depend on them.
PG15_REJECTS: dict[str, set[tuple[int, str]]] = {
    "pagila-schema.sql": {
        (489, "CREATE EXTENSION IF"),  # pgvector is not installed
        (496, "COMMENT ON EXTENSION"),
        (2396, "CREATE INDEX FILM_EMBEDDING_EMBEDDING_HNSW_IDX"),  # pgvector's hnsw
    },
    "supabase-schema-16.sql": {
        (58, "CREATE EXTENSION IF"),  # pgsodium
        (65, "COMMENT ON EXTENSION"),
        (93, "CREATE EXTENSION IF"),  # pg_graphql
        (100, "COMMENT ON EXTENSION"),
        (135, "CREATE EXTENSION IF"),  # pgjwt
        (142, "COMMENT ON EXTENSION"),
        (149, "CREATE EXTENSION IF"),  # supabase_vault
        (156, "COMMENT ON EXTENSION"),
        (789, "CREATE VIEW VAULT.DECRYPTED_SECRETS"),  # needs supabase_vault
    },
}
