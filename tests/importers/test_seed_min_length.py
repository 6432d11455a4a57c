"""`model init` seeds `min_length` from CHECK constraints (issue 16 item 4): a string the
schema proves non-empty can key a GSI on its own attribute (`layout: {gsi_keys: attributes}`),
from the DDL and from the live catalog (`pg_get_constraintdef`'s spelling) alike."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from modeling.cli import app
from modeling.importers._spec import catalog_to_spec, dump_yaml
from modeling.pg.check_constraints import min_lengths
from modeling.pg.ddl import read_ddl

runner = CliRunner()

DDL = """
CREATE TABLE venues (
  venue_id int PRIMARY KEY,
  name text NOT NULL CHECK (name <> ''),
  code varchar(12) NOT NULL,
  city text,
  motto text CHECK (length(motto) > 0 OR motto IS NULL),
  slug text CONSTRAINT slug_len CHECK (char_length(btrim(slug)) BETWEEN 3 AND 40),
  notes text,
  CONSTRAINT code_len CHECK (length(code) >= 2 AND city <> ''),
  CHECK (notes IS NOT NULL)
);
"""


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("length(name) > 0", {"name": 1}),
        ("CHECK ((length((name)::text) > 0))", {"name": 1}),  # pg_get_constraintdef
        ("CHECK (((name)::text <> ''::text))", {"name": 1}),
        ("name <> '' AND char_length(code) >= 3", {"name": 1, "code": 3}),
        ("name <> '' OR code <> ''", {}),  # a disjunction proves nothing about either
        ("octet_length(name) >= 4", {"name": 1}),  # bytes: only non-empty
        ("length(name) <> 5", {}),
        ("length(name) <> 0", {"name": 1}),
        ('1 <= length("Name")', {"Name": 1}),
        ("name = ''", {}),
        ("length(name) BETWEEN 0 AND 9", {}),
        ("status IN ('a', 'b') AND name != ''", {"status": 1, "name": 1}),  # IN: non-empty
    ],
)
def test_length_bounds_a_check_proves(check: str, expected: dict[str, int]) -> None:
    assert min_lengths(check) == expected


def _attributes(doc: Any) -> dict[str, Any]:
    return dict(doc["entities"]["Venue"]["attributes"])


def test_ddl_seeds_min_length_from_column_and_table_checks() -> None:
    res = read_ddl(DDL, "t.sql")
    seeded = catalog_to_spec(res.catalog, model_name="m")
    doc = YAML(typ="safe").load(io.StringIO(dump_yaml(seeded.doc)))
    attrs = _attributes(doc)
    assert attrs["name"]["min_length"] == 1
    assert attrs["code"]["min_length"] == 2 and attrs["code"]["max_length"] == 12
    assert attrs["city"]["min_length"] == 1 and attrs["city"]["required"] is False
    assert attrs["slug"]["min_length"] == 3
    for name in ("motto", "notes"):  # an OR, and a check that says nothing about length
        assert not isinstance(attrs[name], dict) or "min_length" not in attrs[name], name


@pytest.mark.e2e
def test_the_live_catalog_seeds_the_same_min_length(postgres: Any, tmp_path: Path) -> None:
    dsn = postgres.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL)
    ddl, out = tmp_path / "schema.sql", tmp_path / "db.yaml"
    ddl.write_text(DDL, encoding="utf-8")
    from_ddl = tmp_path / "ddl.yaml"
    for args, path in ((["--from-db", dsn], out), (["--from-ddl", str(ddl)], from_ddl)):
        res = runner.invoke(app, ["init", *args, "-o", str(path), "--name", "m"])
        assert res.exit_code == 0, res.output
    db_attrs = _attributes(YAML(typ="safe").load(out.read_text()))
    assert db_attrs == _attributes(YAML(typ="safe").load(from_ddl.read_text()))
    assert db_attrs["name"]["min_length"] == 1 and db_attrs["slug"]["min_length"] == 3
