"""Access patterns from the workload: plain SQL lines and pg_stat_statements CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from typer.testing import CliRunner

from modeling.api import check_text
from modeling.cli import app
from modeling.core.diagnostics import Diagnostics
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.importers.queries import parse_queries, workload_patterns
from modeling.pg.db import read_db
from modeling.pg.ddl import read_ddl

DDL = """
CREATE TABLE customers (customer_id int PRIMARY KEY, email text NOT NULL, country text);
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
    status text NOT NULL, placed_at timestamptz NOT NULL);
CREATE TABLE order_lines (order_id int NOT NULL REFERENCES orders, line_no int NOT NULL,
    sku text NOT NULL, PRIMARY KEY (order_id, line_no));
"""


def seeded() -> Any:
    return catalog_to_spec(read_ddl(DDL, "shop.sql").catalog, model_name="shop")


def test_plain_sql_lines_become_patterns_or_reasons() -> None:
    text = "\n".join(
        [
            "-- the app's queries",
            "SELECT * FROM orders WHERE customer_id = $1 AND placed_at >= $2 ORDER BY placed_at DESC LIMIT 20;",
            "SELECT * FROM orders o WHERE o.customer_id = :cid ORDER BY o.placed_at",
            "SELECT * FROM customers WHERE email LIKE 'bob%' AND country = 'NZ'",
            "SELECT o.*, l.* FROM orders o JOIN order_lines l ON l.order_id = o.order_id WHERE o.order_id = $1",
            "SELECT * FROM orders WHERE status = 'new' OR status = 'paid'",
            "SELECT * FROM customers WHERE lower(email) = $1",
            "SELECT count(*) FROM orders WHERE customer_id = $1",
            "SELECT * FROM orders WHERE customer_id IN (1, 2)",
            "SELECT * FROM orders",
            "SELECT * FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.order_id = 1",
            "UPDATE orders SET status = 'paid' WHERE order_id = $1",
            "SELECT * FROM nowhere WHERE id = 1",
            "SELECT * FROM orders WHERE placed_at > $1 AND order_id < $2 AND customer_id = $3",
            "SELEC oops",
        ]
    )
    diags = Diagnostics()
    stmts = parse_queries(text, "q.sql", diags)
    assert len(stmts) == 14
    w = workload_patterns(stmts, seeded())
    pats = {p.name: p for p in w.patterns}
    p = pats["order_by_customer_id_placed_at_desc"]
    assert (
        p.where == [("customer_id", "="), ("placed_at", ">=")]
        and p.limit == 20
        and p.order == "desc"
    )
    p2 = pats["order_by_customer_id_by_placed_at"]
    assert p2.order_by == "placed_at" and p2.where == [("customer_id", "=")]
    assert pats["customer_by_country_email"].where == [("email", "begins_with"), ("country", "=")]
    coll = pats["order_with_order_line"]
    assert coll.entities == ["Order", "OrderLine"] and coll.where == [("order_id", "=")]
    reasons = {u.line: u.reason for u in w.unservable}
    assert reasons[6].startswith("OR")
    assert "function LOWER()" in reasons[7]
    assert "aggregate" in reasons[8]
    assert "IN list" in reasons[9]
    assert "scan" in reasons[10]
    assert "not parent" in reasons[11]
    assert 12 not in reasons  # a write: the entity's write rate, not a read pattern
    assert list(w.writes) == ["Order"] and w.writes["Order"].kinds == ["UPDATE"]
    assert "not in the model" in reasons[13]
    assert "two range conditions" in reasons[14]
    assert "not a SELECT" in reasons[15]


def test_a_plain_sql_log_with_statements_over_several_lines() -> None:
    """A query log written as the application formats its SQL (PostgREST's test/pgbench
    files, MIT: the shape, not their text): statements span lines and end at `;`; lines
    without `;` are one statement each, continuation lines joining the one above."""
    text = "\n".join(
        [
            "-- orders of a customer",
            "SELECT *",
            "FROM orders",
            "WHERE customer_id = $1",
            "  AND placed_at >= $2",
            "ORDER BY placed_at DESC",
            "LIMIT 20;",
            "INSERT INTO orders (order_id, customer_id, status, placed_at)",
            "SELECT o.order_id, o.customer_id, 'new', now()",
            "FROM orders o WHERE o.order_id = $1;",
            "SELECT * FROM customers WHERE customer_id = $1",
            "SELECT * FROM order_lines",
            "WHERE order_id = $1",
            "ORDER BY line_no",
            "SELECT * FROM (SELECT 1) AS x WHERE customer_id = $1",
            "SELECT * FROM jsonb_to_recordset($1) AS _ (id int)",
            "SELECT * FROM orders WHERE customer_id = $1 AND",
        ]
    )
    stmts = parse_queries(text, "q.sql", Diagnostics())
    assert [s.line for s in stmts] == [2, 8, 11, 12, 15, 16, 17]
    w = workload_patterns(stmts, seeded())
    pats = {p.name: p for p in w.patterns}
    p = pats["order_by_customer_id_placed_at_desc"]
    assert p.where == [("customer_id", "="), ("placed_at", ">=")] and p.limit == 20
    assert pats["order_line_by_order_id_by_line_no"].order_by == "line_no"
    assert "customer_by_customer_id" in pats or "get_customer" in {g.name for g in w.patterns}
    assert list(w.writes) == ["Order"] and w.writes["Order"].kinds == ["INSERT"]
    reasons = {u.line: u.reason for u in w.unservable}
    assert reasons[15].startswith("FROM a subquery")
    assert reasons[16].startswith("FROM a function")
    # our words, with where in the statement; never the parser's internal text
    assert reasons[17].startswith("the statement could not be read")
    assert all("sqlglot" not in r and "<class" not in r for r in reasons.values())


def test_pg_stat_statements_csv_gives_rates_and_merges_rows(tmp_path: Path) -> None:
    csv_text = (
        "userid,dbid,query,calls,total_exec_time\n"
        '10,5,"SELECT * FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC",8640,1.5\n'
        '11,5,"SELECT * FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC",8640,1.0\n'
        '10,5,"SELECT *\nFROM customers WHERE customer_id = $1",86400,3\n'
        '10,5,"SELECT * FROM orders WHERE status <> $1",5,3\n'
    )
    diags = Diagnostics()
    stmts = parse_queries(csv_text, "pss.csv", diags)
    assert [(s.line, s.calls) for s in stmts] == [(2, 17280), (4, 86400), (6, 5)]
    s = seeded()
    w = workload_patterns(stmts, s, window_seconds=86400)
    rates = {p.name: p.rate for p in w.patterns}
    assert rates["order_by_customer_id_by_placed_at_desc"] == 0.2
    assert rates["customer_by_customer_id"] == 1.0
    assert [u.line for u in w.unservable] == [6]
    before = len(s.patterns)
    added = s.add_patterns(w.patterns)
    assert added == 1  # the customer lookup merges into get_customer
    # the orders query refines the foreign-key guess `order_by_customer_id`: one pattern
    assert len(s.patterns) == before
    assert "order_by_customer_id" not in s.doc["access_patterns"]
    text = dump_yaml(s.doc)
    assert s.doc["access_patterns"]["get_customer"]["rate"]["reads_per_second"] == 1.0
    result = check_text(text, "shop.yaml")
    assert result.ok, [d.format() for d in result.diagnostics]


def test_cli_queries_and_report(tmp_path: Path) -> None:
    ddl = tmp_path / "shop.sql"
    ddl.write_text(DDL, encoding="utf-8")
    q = tmp_path / "q.sql"
    q.write_text(
        "SELECT * FROM orders WHERE customer_id = 1 AND status = 'x'\nSELECT * FROM orders\n",
        encoding="utf-8",
    )
    out = tmp_path / "shop.yaml"
    report = tmp_path / "r.json"
    r = CliRunner().invoke(
        app,
        [
            "init",
            "--from-ddl",
            str(ddl),
            "--queries",
            str(q),
            "-o",
            str(out),
            "--report",
            str(report),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "order_by_customer_id_status:" in out.read_text(encoding="utf-8")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["queries"]["unservable"][0]["line"] == 2
    assert "1 unservable" in r.output


def test_from_db_keeps_row_counts_and_statistics(postgres: Any) -> None:
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(
            "INSERT INTO customers SELECT g, 'u' || g || '@x', CASE WHEN g % 2 = 0 THEN 'NZ' END FROM generate_series(1, 500) g"
        )
        conn.execute("ANALYZE")
    catalog, diags = read_db(dsn)
    assert not diags.has_errors()
    cust = catalog.tables[("public", "customers")]
    assert cust.row_count == 500
    stats = cust.columns["country"].stats
    assert stats is not None and abs(stats["null_frac"] - 0.5) < 0.01 and stats["n_distinct"] == 1.0
    s = catalog_to_spec(catalog, model_name="shop")
    assert s.doc["entities"]["Customer"]["row_count"] == 500
    text = dump_yaml(s.doc)
    assert "null_frac=0.5" in text or "null_frac: 0.5" in text
    assert check_text(text, "shop.yaml").ok
    r = CliRunner().invoke(app, ["init", "--from-db", dsn])
    assert r.exit_code == 0 and "row_count: 500" in r.output
    bad = CliRunner().invoke(app, ["init", "--from-db", "postgresql://nobody:pw@127.0.0.1:1/nope"])
    assert (
        bad.exit_code == 2 and "cannot read the database" in bad.output and ":pw@" not in bad.output
    )


WRITES_CSV = (
    "query,calls\n"
    '"SELECT * FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC",8640\n'
    '"INSERT INTO orders (order_id,customer_id,status,placed_at) VALUES ($1,$2,$3,$4)",43200\n'
    '"UPDATE orders SET status = $1 WHERE order_id = $2",43200\n'
    '"DELETE FROM order_lines WHERE order_id = $1",864\n'
)


def test_query_order_wins_over_the_foreign_key_guess(tmp_path: Path) -> None:
    """One pattern per need: `order_by_customer_id` (a guess from the FK) is not kept beside
    the query's own `order_by_customer_id_by_placed_at_desc`; a unique lookup is a different
    need and stays."""
    s = seeded()
    assert "order_by_customer_id" in s.doc["access_patterns"]
    stmts = parse_queries(WRITES_CSV, "pss.csv", Diagnostics())
    s.add_patterns(workload_patterns(stmts, s, 86400).patterns)
    pats = s.doc["access_patterns"]
    assert "order_by_customer_id" not in pats
    assert "order_by_customer_id_by_placed_at_desc" in pats
    assert "get_order" in pats
    for_customer = [
        n
        for n, p in pats.items()
        if p.get("entity") == "Order" and dict(p["where"]).get("customer_id") == "="
    ]
    assert for_customer == ["order_by_customer_id_by_placed_at_desc"]
    assert s.report["guesses_refined_by_queries"] == [
        {"guess": "order_by_customer_id", "by": "order_by_customer_id_by_placed_at_desc"}
    ]


def test_write_statements_become_writes_per_second(tmp_path: Path) -> None:
    ddl = tmp_path / "shop.sql"
    ddl.write_text(DDL, encoding="utf-8")
    q = tmp_path / "pss.csv"
    q.write_text(WRITES_CSV, encoding="utf-8")
    out, report = tmp_path / "shop.yaml", tmp_path / "r.json"
    r = CliRunner().invoke(
        app,
        [
            *("init", "--from-ddl", str(ddl), "--queries", str(q), "-o", str(out)),
            *("--calls-window", "3600", "--report", str(report)),
        ],
    )
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    result = check_text(text, str(out))
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    rates = {e.name: e.writes_per_second for e in result.model.entities}
    # (43200 INSERT + 43200 UPDATE calls) / 3600 s; 864 DELETE calls / 3600 s; no writes: None
    assert rates == {"Customer": None, "Order": 24.0, "OrderLine": 0.24}
    assert "one row per call assumed" in text and "one row per call assumed" in r.output
    data = json.loads(report.read_text())
    assert data["queries"]["writes"]["Order"]["statements"] == ["INSERT", "UPDATE"]
    assert data["queries"]["unservable"] == []  # `$1,$2` without spaces parses


def test_plain_sql_writes_have_no_rate_and_say_so(tmp_path: Path) -> None:
    ddl = tmp_path / "shop.sql"
    ddl.write_text(DDL, encoding="utf-8")
    q = tmp_path / "q.sql"
    q.write_text("UPDATE orders SET status = 'x' WHERE order_id = 1\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "--queries", str(q)])
    assert r.exit_code == 0, r.output
    assert "SEED043" in r.output and "writes_per_second" not in r.stdout
