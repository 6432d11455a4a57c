"""`model init --from-db` on par with `--from-ddl` (issue 14, item 5): the same model for the
same schema, a `source:` block, catalog object names in the guess comments (never `line 0`),
real counts in the summary, a warning when pg_stats is empty, and a `$schema` header that
resolves from wherever the model is written."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ruamel.yaml import YAML
from seed_corpus import shared_ddl_dir
from seed_pgload import load, preprocess
from typer.testing import CliRunner

from modeling.api import check_text
from modeling.cli import app
from modeling.compile import compile_model
from modeling.importers._spec import SCHEMA_DEFAULT_REF, schema_reference

runner = CliRunner()


def _data(text: str) -> Any:
    """The model as data: comments gone; the source block and the description (which names
    the source) dropped, since they say where the model came from."""
    doc = YAML(typ="safe").load(io.StringIO(text))
    doc.pop("source", None)
    doc.pop("description", None)
    return doc


def _init(args: list[str]) -> Any:
    res = runner.invoke(app, ["init", *args])
    assert res.exit_code == 0, res.output
    return res


FIXTURE = Path(__file__).parents[1] / "fixtures" / "ddl" / "partitions_domains_clean.sql"


@pytest.mark.parametrize(
    "src",
    [
        shared_ddl_dir() / "chinook-autoinc-ddl.sql",
        shared_ddl_dir() / "pagila-schema.sql",
        FIXTURE,  # partitions, sub-partitions, domains, a pg_dump --clean preamble
        FIXTURE.with_name("collations.sql"),  # column, domain and user-defined collations
        FIXTURE.with_name("keys_and_renames.sql"),  # unkeyable keys, a 0-column table, int[][]
    ],
    ids=lambda p: p.name,
)
def test_from_db_and_from_ddl_write_the_same_model(
    src: Path, postgres: Any, tmp_path: Path
) -> None:
    name = src.name
    ddl = tmp_path / name  # the DDL PostgreSQL actually ran (pgvector-free for pagila)
    ddl.write_text(preprocess(name, src.read_text(encoding="utf-8")), encoding="utf-8")
    dsn = postgres.create_database()
    load(dsn, ddl)
    from_ddl, from_db = tmp_path / "ddl.yaml", tmp_path / "db.yaml"
    _init(["--from-ddl", str(ddl), "-o", str(from_ddl), "--name", "m"])
    res = _init(["--from-db", dsn, "-o", str(from_db), "--name", "m"])
    ddl_text, db_text = from_ddl.read_text(), from_db.read_text()
    assert _data(ddl_text) == _data(db_text)
    # where it came from: a source block naming the database, without user or password
    source = YAML(typ="safe").load(db_text)["source"]
    assert source["dialect"] == "postgres"
    assert source["database"].startswith("postgresql://") and "@" not in source["database"]
    assert source["database"].endswith("/" + dsn.rsplit("/", 1)[-1].split("?")[0])
    # guesses name the catalog object; a live database has no line numbers to give
    assert "(line 0)" not in db_text and "line 0" not in res.output
    assert "# primary key " in db_text and "_pkey" in db_text
    # the summary counts what was read, not "0 statement(s)"
    assert "from the catalog (" in res.output and " tables, " in res.output
    # a fresh load was never analyzed: said, with the fix
    assert "SEED016" in res.output and "ANALYZE" in res.output
    result = check_text(db_text, str(from_db))
    assert result.ok and result.model is not None
    assert not compile_model(result.model)[1].errors


def test_from_db_with_statistics_and_queries(postgres: Any, tmp_path: Path) -> None:
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE customer (customer_id int PRIMARY KEY, email varchar(80) NOT NULL);"
            "CREATE TABLE purchase (purchase_id bigint PRIMARY KEY,"
            " customer_id int NOT NULL REFERENCES customer, placed_at timestamptz NOT NULL);"
            "INSERT INTO customer SELECT g, 'c' || g || '@x.org' FROM generate_series(1, 50) g;"
            "INSERT INTO purchase SELECT g, 1 + g % 50, now() FROM generate_series(1, 500) g;"
            "ANALYZE"
        )
    queries = tmp_path / "q.sql"
    queries.write_text(
        "SELECT * FROM purchase WHERE customer_id = :c ORDER BY placed_at DESC\n"
        "SELECT * FROM customer WHERE customer_id = :c\n"
    )
    out = tmp_path / "m.yaml"
    res = _init(["--from-db", dsn, "-o", str(out), "--queries", str(queries)])
    assert "SEED016" not in res.output  # analyzed: no warning
    assert "and 2 queries" in res.output
    doc = YAML(typ="safe").load(out.read_text())
    assert doc["entities"]["Purchase"]["row_count"] == 500
    assert doc["entities"]["Customer"]["attributes"]["email"]["stats"]["n_distinct"] == -1


# --------------------------------------------------------------------------- $schema


def _resolves(model: Path) -> Path:
    first = model.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), first
    target = (model.parent / first[len(prefix) :]).resolve()
    assert target.is_file(), f"{first} does not resolve from {model}"
    return target


def test_schema_reference_points_at_the_project_schema(tmp_path: Path) -> None:
    schema = tmp_path / "generated" / "model.schema.json"
    schema.parent.mkdir()
    schema.write_text("{}")
    ref, to_write = schema_reference(tmp_path / "models" / "deep" / "m.yaml")
    assert (ref, to_write) == ("../../generated/model.schema.json", None)
    assert schema_reference(None) == (SCHEMA_DEFAULT_REF, None)


def test_init_writes_a_schema_header_that_resolves(tmp_path: Path) -> None:
    ddl = tmp_path / "in.sql"
    ddl.write_text("CREATE TABLE t (id int PRIMARY KEY, name text);\n")
    # anywhere, with no project schema above: written beside the model
    lone = tmp_path / "elsewhere" / "m.yaml"
    _init(["--from-ddl", str(ddl), "-o", str(lone)])
    assert _resolves(lone) == lone.parent / "model.schema.json"
    assert '"$schema"' in (lone.parent / "model.schema.json").read_text()
    # inside a project that has generated/model.schema.json: that one, relatively
    project = tmp_path / "proj"
    (project / "generated").mkdir(parents=True)
    (project / "generated" / "model.schema.json").write_text("{}")
    inner = project / "models" / "sub" / "m.yaml"
    _init(["--from-ddl", str(ddl), "-o", str(inner)])
    assert _resolves(inner) == project / "generated" / "model.schema.json"
    assert not (inner.parent / "model.schema.json").exists()


def test_workbench_import_header_resolves(tmp_path: Path) -> None:
    shared = shared_ddl_dir().parent / "workbench" / "CartModel.json"
    out = tmp_path / "x" / "cart.yaml"
    res = runner.invoke(app, ["import", "--from-workbench", str(shared), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert _resolves(out) == out.parent / "model.schema.json"
