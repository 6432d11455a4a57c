"""`migrate plan` reads key chunks straight off the primary-key index (issue 15, item 7).

The key listing (`extraction.key_listing_sql`) must come out in the key's native order without
a sort: EXPLAIN on a table large enough that the planner prefers the index (50k rows,
VACUUM ANALYZEd) shows an Index (Only) Scan and no Sort node, for a single-column key (bigint,
uuid, text) and a composite one. Before the fix the listing ordered by `key::text`: a Seq Scan
plus a Sort, and 1, 10, 100 before 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.extraction import extraction_queries
from modeling.migrate.plan import make_plan, read_chunk

ROWS = 50_000

MODEL = """\
model: explainplan
entities:
  Account:
    table: accounts
    key: [account_id]
    attributes: {account_id: integer, name: string}
  Device:
    table: devices
    key: [device_id]
    attributes: {device_id: uuid, name: string}
  Tag:
    table: tags
    key: [label]
    attributes: {label: string, n: integer}
  Entry:
    table: entries
    key: [account_id, seq]
    attributes: {account_id: integer, seq: integer, amount: decimal}
  Reading:
    schema: metrics
    table: readings
    key: [device_id, taken_on, seq]
    attributes: {device_id: uuid, taken_on: date, seq: integer, value: float}
"""

DDL = f"""
CREATE TABLE accounts (account_id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, {ROWS}) g;
CREATE TABLE devices (device_id uuid PRIMARY KEY, name text NOT NULL);
INSERT INTO devices SELECT md5(g::text)::uuid, 'd' || g FROM generate_series(1, {ROWS}) g;
CREATE TABLE tags (label text PRIMARY KEY, n integer NOT NULL);
INSERT INTO tags SELECT 'tag-' || g, g FROM generate_series(1, {ROWS}) g;
CREATE TABLE entries (
  account_id bigint NOT NULL, seq integer NOT NULL, amount numeric NOT NULL,
  PRIMARY KEY (account_id, seq)
);
INSERT INTO entries SELECT g / 10, g % 10, g FROM generate_series(1, {ROWS}) g;
CREATE SCHEMA metrics;
CREATE TABLE metrics.readings (
  device_id uuid NOT NULL, taken_on date NOT NULL, seq bigint NOT NULL, value float8,
  PRIMARY KEY (device_id, taken_on, seq)
);
INSERT INTO metrics.readings
  SELECT md5((g / 100)::text)::uuid, date '2024-01-01' + (g % 100 / 10), g % 10, g
  FROM generate_series(1, {ROWS}) g;
"""


@pytest.fixture(scope="module")
def database(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    import psycopg

    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute("VACUUM ANALYZE")
    path = tmp_path_factory.mktemp("explain") / "explainplan.yaml"
    path.write_text(MODEL, encoding="utf-8")
    yield dsn, load_model(path)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize(
    ("entity", "index"),
    [
        ("Account", "accounts_pkey"),
        ("Device", "devices_pkey"),
        ("Tag", "tags_pkey"),
        ("Entry", "entries_pkey"),
        ("Reading", "readings_pkey"),
    ],
)
def test_key_listing_is_an_index_scan_without_a_sort(
    database: tuple[str, Any], entity: str, index: str
) -> None:
    import psycopg

    dsn, model = database
    sql = extraction_queries(model, entity).key_listing_sql()
    with psycopg.connect(dsn) as conn:
        (explained,) = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchone()
    nodes = list(_nodes(explained[0]["Plan"]))
    kinds = [n["Node Type"] for n in nodes]
    assert "Sort" not in kinds and "Incremental Sort" not in kinds, (sql, kinds)
    scans = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan")]
    assert [s.get("Index Name") for s in scans] == [index], (sql, kinds)
    assert scans[0].get("Scan Direction") == "Forward"


def test_plan_chunks_are_in_native_key_order(database: tuple[str, Any], tmp_path: Path) -> None:
    """The chunks' keys, read back, are in the key's own order (1, 2, ..., 10: not as text)."""
    dsn, model = database
    plan = make_plan(dsn, model, tmp_path, chunk_size=7_000, entities=["Account", "Entry"])
    accounts = [int(k[0]) for c in plan.entities["Account"].chunks for k in read_chunk(tmp_path, c)]
    assert accounts == list(range(1, ROWS + 1))
    entries = [
        (int(a), int(s)) for c in plan.entities["Entry"].chunks for a, s in read_chunk(tmp_path, c)
    ]
    assert entries == sorted(entries) and len(entries) == ROWS
    assert [int(c.first[0]) for c in plan.entities["Account"].chunks][:3] == [1, 7_001, 14_001]


def test_the_old_text_order_is_what_this_catches(database: tuple[str, Any]) -> None:
    """The listing before the fix (ORDER BY the text output column): a Sort over a Seq Scan."""
    import psycopg

    dsn, _ = database
    old = 'SELECT CAST("account_id" AS TEXT) AS "account_id" FROM "accounts" ORDER BY "account_id"'
    with psycopg.connect(dsn) as conn:
        (explained,) = conn.execute(f"EXPLAIN (FORMAT JSON) {old}").fetchone()
        first = [r[0] for r in conn.execute(old + " LIMIT 3").fetchall()]
    kinds = [n["Node Type"] for n in _nodes(explained[0]["Plan"])]
    assert "Sort" in kinds and "Index Scan" not in kinds and "Index Only Scan" not in kinds
    assert first == ["1", "10", "100"]
