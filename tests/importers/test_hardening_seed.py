"""Seeding from files named like real ones: the model written must load cleanly."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modeling.api import check_file
from modeling.cli import app


def test_short_file_name_gets_an_explicit_valid_table_name(tmp_path: Path) -> None:
    # `hr.sql` → model `hr`, whose default table name "Hr" is too short for DynamoDB.
    ddl = tmp_path / "hr.sql"
    ddl.write_text("CREATE TABLE staff (id int PRIMARY KEY, name text);\r\n", encoding="utf-8")
    out = tmp_path / "hr.yaml"
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "-o", str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    loaded = check_file(out)
    assert loaded.model is not None, [str(d) for d in loaded.diagnostics]
    assert loaded.model.name == "hr" and loaded.model.table.name == "HrTable"


def test_long_enough_file_name_keeps_the_default_table_name(tmp_path: Path) -> None:
    ddl = tmp_path / "shop.sql"
    ddl.write_text("CREATE TABLE staff (id int PRIMARY KEY);\n", encoding="utf-8")
    out = tmp_path / "shop.yaml"
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(ddl), "-o", str(out)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "\ntable:" not in out.read_text()
    loaded = check_file(out)
    assert loaded.model is not None and loaded.model.table.name == "Shop"
