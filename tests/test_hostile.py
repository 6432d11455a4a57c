"""Hostile input (issue 18): no code execution from a model's DDL, paths stay in the model's
directory, no tracebacks from CLI paths."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from modeling.pg.allow import verdict
from modeling.verify.postgres import source_statements


@pytest.mark.parametrize(
    "sql",
    [
        "DO $$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'; END $$",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'",
        "COPY t FROM '/etc/passwd'",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CO'||'PY x'; END $$",
        "CREATE EXTENSION plpython3u",
        "CREATE EXTENSION dblink",
        "ALTER SYSTEM SET archive_command = 'rm -rf /'",
        "GRANT ALL ON t TO public",
        "SET ROLE nobody",
        "SET session_preload_libraries = 'evil'",
        "CREATE TABLE t (x text DEFAULT pg_read_file('/etc/passwd'))",
        "CREATE TABLE t AS SELECT pg_ls_dir('/')",
        "CREATE TABLE t2 AS SELECT 1",
        "SELECT no_such_function()",
        "LOAD 'evil.so'",
    ],
)
def test_statements_that_do_not_build_a_schema_are_skipped(sql: str) -> None:
    v = verdict(sql)
    assert not v.run and v.reason


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE public.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)",
        "CREATE UNIQUE INDEX i ON t (x)",
        "ALTER TABLE ONLY t ADD CONSTRAINT pk PRIMARY KEY (x)",
        "CREATE TYPE mood AS ENUM ('a', 'b')",
        "CREATE DOMAIN year AS integer CHECK (VALUE > 1900)",
        "CREATE SEQUENCE s START 1",
        "CREATE SCHEMA auth",
        "COMMENT ON TABLE t IS 'x'",
        "SET search_path = public",
        "SELECT pg_catalog.set_config('search_path', '', false)",
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
        "CREATE FUNCTION lu() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.t = now();"
        " RETURN NEW; END $$",
    ],
)
def test_schema_building_statements_run(sql: str) -> None:
    assert verdict(sql).run, verdict(sql).reason


def test_skipped_statements_are_counted_and_named() -> None:
    src = (
        "CREATE TABLE t (x int);\nDO $$ BEGIN PERFORM 1; END $$;\n"
        "COPY t TO PROGRAM 'touch /tmp/x';\nCOPY t FROM stdin;\n1\n\\.\n"
    )
    statements = source_statements(src)
    assert statements.run == ["CREATE TABLE t (x int)"]
    assert [line for line, _, _ in statements.skipped] == [2, 3]
    note = statements.note("schema.sql")
    assert note is not None and "2 statement(s) skipped" in note
    assert "DO $$" in note and "TO PROGRAM" in note


@pytest.mark.e2e
def test_prepare_never_runs_a_do_block_or_copy_to_program(tmp_path: Path, postgres: Any) -> None:
    import psycopg

    from modeling.api import load_model
    from modeling.sample.generate import SampleOptions, generate
    from modeling.verify import postgres as pgv

    marker = Path(f"/tmp/modeling-hostile-{uuid.uuid4().hex}")
    ddl = tmp_path / "schema.sql"
    ddl.write_text(
        "CREATE TABLE items (item_id bigint PRIMARY KEY, label text NOT NULL);\n"
        f"DO $$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch {marker}-do'; END $$;\n"
        f"COPY (SELECT 1) TO PROGRAM 'touch {marker}-copy';\n"
    )
    (tmp_path / "m.yaml").write_text(
        "model: shop\nsource: {ddl: schema.sql}\nentities:\n"
        "  Item:\n    table: items\n    key: [item_id]\n"
        "    attributes: {item_id: integer, label: string}\n"
        "access_patterns:\n  get_item: {entity: Item, where: {item_id: '='}}\n"
    )
    model = load_model(tmp_path / "m.yaml")
    data = generate(model, SampleOptions(seed=2))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, ddl)
    assert not Path(f"{marker}-do").exists()
    assert not Path(f"{marker}-copy").exists()
    assert schema.origin == f"source DDL {ddl}", schema.notes
    assert any("2 statement(s) skipped" in n and "TO PROGRAM" in n for n in schema.notes)


def _write_model(directory: Path, ddl: str) -> Path:
    path = directory / "m.yaml"
    path.write_text(
        f"model: shop\nsource: {{ddl: {ddl!r}}}\nentities:\n"
        "  Item:\n    key: [item_id]\n    attributes: {item_id: integer}\n"
        "access_patterns:\n  get_item: {entity: Item, where: {item_id: '='}}\n"
    )
    return path


def test_a_ddl_path_outside_the_models_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modeling.api import check_file

    monkeypatch.delenv("MODELING_ALLOW_DDL_OUTSIDE", raising=False)
    for ddl in ("../../../../../../../../../../etc/passwd", "/etc/passwd"):
        result = check_file(_write_model(tmp_path, ddl))
        assert result.model is None
        assert [d.code for d in result.diagnostics.errors] == ["ddl-outside-model-dir"]
    # a symlink in the model's directory that points out of it is refused too
    (tmp_path / "link.sql").symlink_to("/etc/passwd")
    result = check_file(_write_model(tmp_path, "link.sql"))
    assert [d.code for d in result.diagnostics.errors] == ["ddl-outside-model-dir"]
    # inside (a subdirectory) is fine
    (tmp_path / "ddl").mkdir()
    (tmp_path / "ddl" / "s.sql").write_text("CREATE TABLE item (item_id int);\n")
    assert check_file(_write_model(tmp_path, "ddl/s.sql")).model is not None
    # a sibling directory (models/ beside ddl/) is fine when run from the directory holding both
    (tmp_path / "models").mkdir()
    sibling = _write_model(tmp_path / "models", "../ddl/s.sql")
    assert [d.code for d in check_file(sibling).diagnostics.errors] == ["ddl-outside-model-dir"]
    monkeypatch.chdir(tmp_path)
    assert check_file(sibling).model is not None
    # the explicit allow
    monkeypatch.setenv("MODELING_ALLOW_DDL_OUTSIDE", "1")
    assert check_file(_write_model(tmp_path, "/etc/passwd")).model is not None


def test_validate_refuses_the_outside_ddl_with_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from modeling.cli import app

    result = CliRunner().invoke(app, ["validate", str(_write_model(tmp_path, "/etc/passwd"))])
    assert result.exit_code == 2
    assert "ddl-outside-model-dir" in result.output and "Traceback" not in result.output


REPO = Path(__file__).resolve().parents[1]
CATALOG = str(REPO / "models" / "catalog.yaml")
SHOP_DDL = str(REPO / "tests" / "fixtures" / "ddl" / "shop.sql")


def _invoke(*args: str) -> Any:
    from typer.testing import CliRunner

    from modeling.cli import app

    return CliRunner().invoke(app, list(args))


def _output_cases(tmp: Path) -> list[tuple[list[str], Path]]:
    file = tmp / "file"
    file.write_text("x")
    return [
        (["compile", CATALOG, "-o", str(file)], file),  # an existing file as the output directory
        (["compile", CATALOG, "-o", str(file / "out")], file / "out"),  # a file as a parent
        (["docs", CATALOG, "-o", str(file / "site")], file / "site"),
        (["schema", "-o", str(file / "s.json")], file),
        (["init", "--from-ddl", SHOP_DDL, "-o", str(file / "m.yaml")], file),
        (["compile", CATALOG, "-o", "/sys/kernel/modeling-out"], Path("/sys/kernel/modeling-out")),
        (["schema", "-o", "/sys/kernel/modeling-schema.json"], Path("/sys/kernel")),
    ]


@pytest.mark.parametrize("case", range(7))
def test_an_unusable_output_path_exits_2_naming_it(case: int, tmp_path: Path) -> None:
    args, named = _output_cases(tmp_path)[case]
    if str(named).startswith("/sys") and not Path("/sys/kernel").is_dir():
        pytest.skip("no /sys/kernel")
    result = _invoke(*args)
    output = result.output
    assert result.exit_code == 2, (args, output, result.exception)
    assert "Traceback" not in output and not isinstance(result.exception, OSError)
    assert "error: cannot use" in output and str(named) in output
    assert "hint:" in output


@pytest.mark.parametrize(
    "command",
    [
        ["verify", CATALOG],
        ["migrate", "create-table", CATALOG],
        ["migrate", "run", CATALOG, "--source", "postgresql://x@127.0.0.1:1/x"],
        ["migrate", "validate", CATALOG, "--source", "postgresql://x@127.0.0.1:1/x"],
    ],
)
@pytest.mark.parametrize("url", ["not-a-url", "http://", "http://localhost:99999"])
def test_a_bad_endpoint_exits_2(command: list[str], url: str) -> None:
    result = _invoke(*command, "--endpoint", url)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "--endpoint" in result.output and url in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_init_says_when_the_model_it_writes_names_a_ddl_that_will_be_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELING_ALLOW_DDL_OUTSIDE", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ddl = elsewhere / "shop.sql"
    ddl.write_text(Path(SHOP_DDL).read_text())
    out = tmp_path / "project" / "m.yaml"
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")  # holds the model, not the DDL
    result = _invoke("init", "--from-ddl", str(ddl), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "ddl-outside-model-dir" in result.output
    inside = _invoke("init", "--from-ddl", str(ddl), "-o", str(elsewhere / "m.yaml"))
    assert inside.exit_code == 0 and "ddl-outside-model-dir" not in inside.output


# --------------------------------------------------------------------------- migrate flags


@pytest.mark.parametrize("command", ["run", "validate"])
@pytest.mark.parametrize(
    ("column", "says"),
    [
        ("nope", "is not an attribute of any entity"),
        ("slug", "is not a required integer or datetime"),
    ],
)
def test_a_version_column_that_versions_nothing_is_refused(
    command: str, column: str, says: str
) -> None:
    """`--version-column nope` used to fall back to xmin for every entity without a word."""
    result = _invoke(
        "migrate",
        command,
        CATALOG,
        "--source",
        "postgresql://x@127.0.0.1:1/x",
        "--version-column",
        column,
    )
    assert result.exit_code == 2, result.output
    assert f"--version-column {column!r}" in result.output and says in result.output
    assert "hint:" in result.output and "Traceback" not in result.output


def test_a_version_column_some_entity_has_passes_the_flag_check() -> None:
    result = _invoke(
        "migrate",
        "validate",
        CATALOG,
        "--source",
        "postgresql://x@127.0.0.1:1/x",
        "--endpoint",
        "http://127.0.0.1:1",
        "--version-column",
        "updated_at",
    )
    assert result.exit_code == 2  # the endpoint is closed: the run gets past the flag check
    assert "--version-column" not in result.output


def test_a_negative_catch_up_marker_is_refused() -> None:
    result = _invoke(
        "migrate",
        "run",
        CATALOG,
        "--source",
        "postgresql://x@127.0.0.1:1/x",
        "--catch-up-only",
        "-5",
    )
    assert result.exit_code == 2
    assert "--catch-up-only" in result.output


def test_a_refused_request_is_not_blamed_on_the_endpoint_or_credentials() -> None:
    """A key collision made BatchGetItem fail with ValidationException, which was reported as
    "check --endpoint, credentials and --table"."""
    from botocore.exceptions import ClientError

    from modeling.migrate.errors import aws_failure

    def _client_error_hint(exc: ClientError) -> str:
        return str(aws_failure(exc).hint)

    def error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}}, "BatchGetItem")

    assert "credentials worked" in _client_error_hint(error("ValidationException"))
    assert "credentials" in _client_error_hint(error("UnrecognizedClientException"))
    assert "--table" in _client_error_hint(error("ResourceNotFoundException"))


@pytest.mark.e2e
def test_batch_get_of_colliding_keys_reads_each_item_once(dynamodb_local: Any) -> None:
    """Two rows that make one item key: BatchGetItem refuses a request naming a key twice,
    so `migrate validate` stopped with a DynamoDB error instead of reporting the collision."""
    from modeling.migrate.validate import batch_get

    client = dynamodb_local.client()
    table = f"collide-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=table, Item={"PK": {"S": "A"}, "v": {"N": "1"}})
    key = {"PK": {"S": "A"}}
    found = batch_get(client, table, [key, dict(key), {"PK": {"S": "B"}}], ["PK"])
    assert list(found.values()) == [{"PK": {"S": "A"}, "v": {"N": "1"}}]
