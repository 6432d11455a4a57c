"""`model migrate plan/run/validate` with an output path that cannot be used: exit 2 naming the
path, never a traceback (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.cli import app


@pytest.mark.e2e
def test_migrate_paths_in_the_way_exit_2(
    shop: Any,
    source_db: Any,
    make_table: Any,
    dynamodb_local: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DYNAMODB_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DYNAMODB_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", DYNAMODB_REGION)
    dsn, _ = source_db(200)
    table = make_table()
    model = str(shop.model.file)
    file = tmp_path / "file"
    file.write_text("x")
    endpoint = ["--endpoint", dynamodb_local.endpoint_url, "--table", table]
    cases = [
        ["plan", model, "--source", dsn, "--out", str(file)],
        ["plan", model, "--source", dsn, "--out", str(file / "plan")],
        ["run", model, "--source", dsn, *endpoint, "--checkpoint", str(file / "cp")],
        ["validate", model, "--source", dsn, *endpoint, "--report", str(file / "r")],
    ]
    for args in cases:
        result = CliRunner().invoke(app, ["migrate", *args])
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
        # the path, what is wrong with it, and what to do (the checkpoint says it its own way)
        assert "error: " in result.output and str(file) in result.output, result.output
        assert "cannot use" in result.output or "not a directory" in result.output
        assert "hint: " in result.output
