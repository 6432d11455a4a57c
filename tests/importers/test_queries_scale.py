"""A query workload at scale and hostile query files (issue 18, item 5): statements of one shape
are read once; no statement, read or write, reaches the parser beyond the caps; a file that is
not UTF-8 text gets a located error. Speed is measured in bench/queries.py, not here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from modeling.cli import app
from modeling.core.diagnostics import Diagnostics
from modeling.importers._spec import catalog_to_spec
from modeling.importers.queries import MAX_QUERY_CHARS, parse_queries, shape, workload_patterns
from modeling.pg.ddl import read_ddl

DDL = """
CREATE TABLE customers (customer_id int PRIMARY KEY, email text NOT NULL, country text);
CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
    status text NOT NULL, placed_at timestamptz NOT NULL);
"""


def seeded() -> Any:
    return catalog_to_spec(read_ddl(DDL, "shop.sql").catalog, model_name="shop")


def init(tmp_path: Path, queries: bytes, *extra: str) -> Any:
    ddl = tmp_path / "shop.sql"
    ddl.write_text(DDL, encoding="utf-8")
    q = tmp_path / "q.sql"
    q.write_bytes(queries)
    out = tmp_path / "m" / "shop.yaml"
    return CliRunner().invoke(
        app, ["init", "--from-ddl", str(ddl), "--queries", str(q), "-o", str(out), *extra]
    )


# ------------------------------------------------------------------ one shape, read once


def test_statements_differing_only_in_literals_are_one_shape_read_once(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "SELECT * FROM orders WHERE customer_id = 1 ORDER BY placed_at DESC LIMIT 20;",
            "select * from orders where customer_id = 1;",
            "SELECT *  FROM orders -- a comment with a ' quote\n WHERE customer_id = 77"
            " ORDER BY placed_at DESC LIMIT 20;",
            "SELECT * FROM orders WHERE customer_id = 2 ORDER BY placed_at DESC LIMIT 20;",
            "SELECT * FROM orders WHERE customer_id = 3 ORDER BY placed_at DESC LIMIT 50;",
            "SELECT * FROM orders WHERE status = 'it''s' AND customer_id = 4;",
            "SELECT * FROM orders WHERE status = 'x' AND customer_id = 5;",
            "UPDATE orders SET status = 'paid' WHERE order_id = 1;",
            "UPDATE orders SET status = 'new' WHERE order_id = 2;",
            "SELECT * FROM orders WHERE customer_id IN (1, 2);",
            "SELECT * FROM orders WHERE customer_id IN (3, 4);",
        ]
    )
    stmts = parse_queries(text, "q.sql", Diagnostics())
    by_line = {q.line: q for q in stmts}
    # LIMIT 20 x3 (one with a comment and other spacing) / lowercase / LIMIT 50 / status x2 /
    # UPDATE x2 / IN x2
    assert sorted(by_line) == [1, 2, 6, 7, 9, 11]
    assert by_line[1].count == 3 and by_line[1].lines == [1, 3, 5]
    assert by_line[7].count == 2 and by_line[9].count == 2 and by_line[11].count == 2
    w = workload_patterns(stmts, seeded())
    assert w.statements == 11 and w.shapes == 6
    assert w.writes["Order"].statements == [9, 10]
    (inlist,) = w.unservable
    assert (inlist.line, inlist.count, inlist.lines) == (11, 2, [11, 12])
    first = next(p for p in w.patterns if p.order == "desc")
    assert "line 1 and 2 more like it (lines 3, 5)" in first.origins[0]
    assert first.limit == 50 and "LIMIT 20, 50 (2 values)" in first.origins[-1]


def test_a_literal_that_decides_the_pattern_stays_in_the_shape() -> None:
    """A LIKE prefix and a LIMIT are part of the pattern: never merged across values."""
    assert shape("SELECT * FROM t WHERE a LIKE 'ab%'") != shape(
        "SELECT * FROM t WHERE a LIKE '%ab'"
    )
    assert shape("SELECT * FROM t WHERE a = 1 LIMIT 5") != shape(
        "SELECT * FROM t WHERE a = 1 LIMIT 6"
    )
    # the pages of one read are one shape: OFFSET and FETCH FIRST are not read into a pattern
    assert shape("SELECT * FROM t WHERE a = 1 OFFSET 5") == shape(
        "SELECT * FROM t WHERE a = 1 OFFSET 6"
    )
    # a quoted identifier is a name, not a literal; digits inside names are names
    assert shape('SELECT * FROM "t1" WHERE a = 1') != shape('SELECT * FROM "t2" WHERE a = 1')
    assert shape("SELECT * FROM t1 WHERE a2 = 1") != shape("SELECT * FROM t2 WHERE a2 = 1")
    # what the token pattern could misread is its own shape: backslashes, dollar quotes, /* */
    assert shape("SELECT E'a\\'b' = 1") != shape("SELECT E'a\\'b' = 2")
    assert shape("SELECT $x$ 1 $x$") != shape("SELECT $x$ 2 $x$")
    assert shape("SELECT /* ' */ 1") != shape("SELECT /* ' */ 2")
    assert shape("SELECT * FROM t WHERE a = $1") == shape("SELECT  *  FROM t WHERE a = $1")


def test_calls_of_one_shape_are_summed(tmp_path: Path) -> None:
    csv_text = (
        "query,calls\n"
        '"SELECT * FROM orders WHERE customer_id = $1",100\n'
        '"SELECT * FROM orders WHERE customer_id = 42",20\n'
        "\"SELECT * FROM orders WHERE customer_id = 'x'\",\n"
        '"SELECT * FROM orders WHERE customer_id = 7",5\n'
    )
    stmts = parse_queries(csv_text, "pss.csv", Diagnostics())
    # a number and a string are other shapes (a string may be a type's literal form)
    assert [(q.line, q.count, q.calls) for q in stmts] == [(2, 1, 100), (3, 2, 25), (4, 1, None)]


def test_the_report_and_summary_group_unservable_statements(tmp_path: Path) -> None:
    rows = [f"SELECT * FROM orders WHERE customer_id IN ({i}, {i + 1});" for i in range(300)]
    rows += [f"SELECT * FROM nowhere{i} WHERE id = 1;" for i in range(60)]
    report = tmp_path / "r.json"
    r = init(tmp_path, "\n".join(rows).encode(), "--report", str(report))
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text(encoding="utf-8"))["queries"]
    assert data["statements"] == 360 and data["shapes"] == 61
    first = data["unservable"][0]
    assert (first["line"], first["statements"], first["lines"]) == (1, 300, [1, 2, 3, 4, 5])
    assert "IN list" in first["reason"] and "(299 more like it)" in r.output
    assert "360 unservable (61 shapes)" in r.output
    assert "... and 11 more (all in the report" in r.output  # the summary lists 50 shapes


# ------------------------------------------------------------------ hostile query files


def test_a_deeply_nested_write_is_refused_before_the_parser(tmp_path: Path) -> None:
    """Was a RecursionError traceback: the depth cap guarded reads only."""
    sql = "INSERT INTO orders SELECT " + "(" * 3000 + "1" + ")" * 3000 + ", 2, 'x', now();\n"
    r = init(tmp_path, sql.encode())
    assert r.exit_code == 0, r.output
    assert "q.sql:1:1:" in r.output and "3000 parentheses deep" in r.output
    assert "Traceback" not in r.output


def test_a_write_beyond_the_statement_cap_is_not_parsed() -> None:
    """A 54 MB INSERT was parsed whole (397 s, 10 GB): the size cap guarded reads only."""
    values = ",".join(f"({i}, 1, 'new', now())" for i in range(MAX_QUERY_CHARS // 15))
    sql = f"INSERT INTO orders (order_id, customer_id, status, placed_at) VALUES {values}"
    stmts = parse_queries(sql + ";\n", "q.sql", Diagnostics())
    w = workload_patterns(stmts, seeded())
    assert not w.writes
    (u,) = w.unservable
    assert f"at most {MAX_QUERY_CHARS:,} are read" in u.reason
    assert len(u.sql) < 400 and "characters)" in u.sql  # the report quotes a bounded excerpt


def test_a_first_line_longer_than_a_csv_field_is_plain_sql(tmp_path: Path) -> None:
    """10,000 UNIONs on one line: the header sniff raised csv.Error (field larger than field
    limit) as a traceback."""
    sql = " UNION ".join(f"SELECT {i}" for i in range(10_000)) + ";\n"
    assert len(sql) > 131072
    r = init(tmp_path, sql.encode())
    assert r.exit_code == 0, r.output
    assert "q.sql:1:1:" in r.output and "characters; at most" in r.output


def test_invalid_utf8_is_a_located_error(tmp_path: Path) -> None:
    """Was `cannot read q.sql: 'utf-8' codec can't decode byte 0xff in position 65`."""
    r = init(tmp_path, b"SELECT * FROM orders WHERE order_id = 1;\nSELECT 'ab\xff';\n")
    assert r.exit_code == 2, r.output
    assert "q.sql:2:11: error:" in r.output and "not UTF-8: byte 0xff" in r.output


def test_a_nul_byte_is_a_located_error(tmp_path: Path) -> None:
    """Was accepted: `table orders\\x00 is not in the model`, the NUL printed to the terminal."""
    r = init(tmp_path, b"SELECT 1;\nSELECT * FROM orders\0 WHERE order_id = 2;\n")
    assert r.exit_code == 2, r.output
    assert "q.sql:2:21: error:" in r.output and "NUL byte" in r.output
    assert "\0" not in r.output


def test_unterminated_quotes_are_located_and_the_rest_is_read(tmp_path: Path) -> None:
    sql = (
        "SELECT * FROM orders WHERE customer_id = 1;\n"
        "SELECT * FROM orders WHERE status = $x$ open\n"
        "SELECT * FROM orders WHERE status = 'open\n"
    )
    r = init(tmp_path, sql.encode())
    assert r.exit_code == 0, r.output
    assert "q.sql:2:1:" in r.output and "q.sql:3:1:" in r.output
    assert "could not be read" in r.output
    assert "order_by_customer_id" in (tmp_path / "m" / "shop.yaml").read_text(encoding="utf-8")


def test_one_read_with_many_page_sizes_is_one_pattern(tmp_path: Path) -> None:
    """20,000 LIMIT values made 20,000 patterns (121 s, a 4 MB model); also other columns
    selected by the same key condition are the same read."""
    rows = [
        f"SELECT * FROM orders WHERE customer_id = 1 ORDER BY placed_at LIMIT {n};"
        for n in range(1, 301)
    ]
    rows.append("SELECT order_id FROM orders WHERE customer_id = 9 ORDER BY placed_at LIMIT 7;")
    rows.append("SELECT * FROM orders WHERE customer_id = 9 ORDER BY placed_at DESC LIMIT 7;")
    r = init(tmp_path, "\n".join(rows).encode())
    assert r.exit_code == 0, r.output
    w = workload_patterns(parse_queries("\n".join(rows), "q.sql", Diagnostics()), seeded())
    asc, desc = w.patterns
    assert (asc.limit, desc.limit, desc.order) == (300, 7, "desc")
    assert len(asc.origins) == 5  # three quoted, the LIMIT values, the count of the rest
    assert "LIMIT 1, 2, 3, 4, 5, ... (300 values): the largest, 300, kept" in asc.origins[3]
    assert "and 298 more statement shape(s)" in asc.origins[4]
    model = (tmp_path / "m" / "shop.yaml").read_text(encoding="utf-8")
    assert model.count("limit: 300") == 1 and "limit: 299" not in model


def test_a_query_file_beyond_the_cap_is_refused_unread(tmp_path: Path) -> None:
    """1 GB (sparse: no disk used): refused by its size before a byte is read."""
    big = tmp_path / "big.sql"
    with big.open("wb") as fh:
        fh.truncate(1 << 30)
    ddl = tmp_path / "shop.sql"
    ddl.write_text(DDL, encoding="utf-8")
    r = CliRunner().invoke(
        app, ["init", "--from-ddl", str(ddl), "--queries", str(big), "-o", str(tmp_path / "m.yaml")]
    )
    assert r.exit_code == 2, r.output
    assert "big.sql is 1024.0 MB; a query file is read up to 256 MB" in r.output
    assert "MODELING_MAX_INPUT_MB" in r.output
