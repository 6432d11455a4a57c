"""sqlglotc (sqlglot's mypyc-compiled build, pinned since this session) raises TypeError, not
ParseError, for some malformed SQL (`SELECT x ?`: a jsonb `?` without its operand). Every place
that parses user SQL with sqlglot reads that as "does not parse", never a traceback: a model's
`sql:` pattern, a `--queries` file, a CHECK constraint in `--from-ddl`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeling.cli import app
from modeling.pg.check_constraints import min_lengths
from modeling.spec.sql_patterns import TableInfo, translate

TABLES = [TableInfo("Product", "products", {"brand_id": "brand_id", "tags": "tags"}, ("brand_id",))]

BROKEN = ["SELECT x ?", "SELECT * FROM products WHERE brand_id = :b AND tags ?"]
DDL = """
CREATE TABLE products (
  product_id int PRIMARY KEY,
  title text NOT NULL,
  tags jsonb,
  CONSTRAINT t CHECK (title <> '' AND tags ?)
);
"""


@pytest.mark.parametrize("sql", BROKEN)
def test_a_sql_pattern_the_parser_trips_on_is_a_syntax_issue(sql: str) -> None:
    (issue,) = translate(sql, TABLES).issues
    assert issue.code == "sql-syntax"
    assert "<class" not in issue.message and "Expr object" not in issue.message
    assert issue.hint and 0 <= issue.offset <= len(sql)


def test_a_check_the_parser_trips_on_proves_nothing() -> None:
    assert min_lengths("title <> '' AND tags ?") == {}


def test_init_with_such_a_check_and_such_queries_exits_cleanly(tmp_path: Path) -> None:
    ddl, queries, out = tmp_path / "s.sql", tmp_path / "q.csv", tmp_path / "m.yaml"
    ddl.write_text(DDL, encoding="utf-8")
    queries.write_text(
        "query,calls\n" + "".join(f'"{q}",5\n' for q in BROKEN) + '"SELECT 1 ?",1\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["init", "--from-ddl", str(ddl), "--queries", str(queries), "-o", str(out)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
