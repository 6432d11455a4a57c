"""The committed JSON Schema is fresh and usable; `model validate` / `model schema` exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from spec_helpers import BAD, FIXTURES, MODELS, REPO
from typer.testing import CliRunner

from modeling.cli import app
from modeling.spec.loader import load_text
from modeling.spec.schema import model_schema, schema_text

SCHEMA_FILE = REPO / "generated" / "model.schema.json"
runner = CliRunner()


def test_committed_schema_equals_a_fresh_generation() -> None:
    assert SCHEMA_FILE.read_text() == schema_text()


def test_schema_offers_enums_and_descriptions_for_editors() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    pattern = schema["$defs"]["PatternSpec"]["properties"]
    assert pattern["order"]["enum"] == ["asc", "desc"]
    operator, bounds = pattern["where"]["additionalProperties"]["anyOf"]
    assert "between" in operator["enum"] and "is_null" in operator["enum"]
    assert bounds["type"] == "array" and bounds["minItems"] == bounds["maxItems"] == 2
    assert bounds["items"]["enum"] == [">", ">=", "<", "<="] and bounds["description"]
    assert pattern["where"]["description"]
    type_name = schema["$defs"]["AttributeSpec"]["properties"]["type"]
    assert "datetime" in type_name["anyOf"][0]["enum"]
    assert schema["$defs"]["EntitySpec"]["additionalProperties"] is False
    assert "null" not in json.dumps(schema["$defs"]["TableSpec"]["properties"]["ttl"])


@pytest.mark.parametrize(
    "path",
    [FIXTURES / "dsl_example.yaml", FIXTURES / "sql_forms.yaml", *sorted(MODELS.glob("*.yaml"))],
    ids=lambda p: p.stem,
)
def test_valid_models_pass_the_schema(path: Path) -> None:
    data = load_text(path.read_text(), str(path)).data
    assert list(jsonschema.Draft202012Validator(model_schema()).iter_errors(data)) == []


def test_validate_exit_codes() -> None:
    ok = runner.invoke(app, ["validate", str(MODELS / "catalog.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "7 entities" in ok.output
    bad = runner.invoke(app, ["validate", str(BAD / "two_ranges.yaml")])
    assert bad.exit_code == 2
    assert "two_ranges.yaml:20:51: error:" in bad.output and "[two-ranges]" in bad.output
    assert "hint:" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["validate", "no/such/file.yaml"])
    assert missing.exit_code == 2 and "file-not-found" in missing.output


@pytest.mark.parametrize("case", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bad_model_exits_2_without_traceback(case: Path) -> None:
    result = runner.invoke(app, ["validate", str(case)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{case}:" in result.output


def test_validate_json_report() -> None:
    result = runner.invoke(
        app, ["validate", "--json", str(MODELS / "orders.yaml"), str(BAD / "sql_or.yaml")]
    )
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 1
    good, bad = report["files"]
    assert good["ok"] and good["model"] == "orders" and good["access_patterns"] == 15
    (diag,) = bad["diagnostics"]
    assert diag["code"] == "sql-or" and diag["span"]["line"] == 19 and diag["severity"] == "error"


def test_schema_command_write_and_check(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    stale = runner.invoke(app, ["schema", "-o", str(target), "--check"])
    assert stale.exit_code == 1 and "missing" in stale.output
    wrote = runner.invoke(app, ["schema", "-o", str(target)])
    assert wrote.exit_code == 0 and target.read_text() == schema_text()
    fresh = runner.invoke(app, ["schema", "-o", str(target), "--check"])
    assert fresh.exit_code == 0
    target.write_text(target.read_text().replace("asc", "ascending", 1))
    changed = runner.invoke(app, ["schema", "-o", str(target), "--check"])
    assert changed.exit_code == 1 and "stale" in changed.output
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0 and json.loads(printed.stdout) == model_schema()
