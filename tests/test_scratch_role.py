"""Nothing from a model runs as a superuser (issue 18, item 4): `verify --postgres local` and
`migrate demo` run the source DDL and load the rows as a throwaway role that owns the scratch
database and nothing more (`services.ScratchDatabase`). The allow-list (`pg.allow`) keeps
DO / COPY ... PROGRAM out; the role is the second wall, for whatever the list might miss."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.pg.allow import EXTENSIONS
from modeling.sample.generate import SampleOptions, generate
from modeling.services import ScratchDatabase
from modeling.workflows.demo import load_source

pytestmark = pytest.mark.e2e

_DENIED = [
    "COPY (SELECT 1) TO PROGRAM 'touch {marker}-copy'",
    "DO $$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch {marker}-do'; END $$",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_ls_dir('/')",
    "SELECT lo_import('/etc/passwd')",
    "CREATE TABLE f (line text); COPY f FROM '/etc/passwd'",
    "COPY (SELECT 1) TO '/tmp/{marker}-file'",
    "CREATE ROLE intruder SUPERUSER",
    "ALTER ROLE CURRENT_USER SUPERUSER",
    "CREATE DATABASE another",
    "CREATE EXTENSION file_fdw",
    "CREATE EXTENSION dblink",
    "ALTER SYSTEM SET archive_command = 'touch {marker}-archive'",
]


@pytest.fixture
def scratch(postgres: Any) -> Any:
    db = ScratchDatabase(postgres.dsn, "model_test_")
    yield db
    db.drop()


def test_the_scratch_role_is_no_superuser_and_owns_its_database(scratch: Any) -> None:
    with psycopg.connect(scratch.dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, "
            "r.rolbypassrls, pg_get_userbyid(d.datdba) = current_user "
            "FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()"
        ).fetchone()
        assert row == (False, False, False, False, False, True)
        for power in ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"):
            member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (power,))
            assert member.fetchone() == (False,), power


@pytest.mark.parametrize("statement", _DENIED)
def test_code_execution_and_server_files_fail_as_the_scratch_role(
    scratch: Any, statement: str
) -> None:
    marker = f"/tmp/modeling-scratch-{uuid.uuid4().hex}"
    with psycopg.connect(scratch.dsn, autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute(statement.format(marker=marker))
    assert not list(Path("/tmp").glob(Path(marker).name + "*"))


def test_what_a_schema_needs_works_as_the_scratch_role(scratch: Any) -> None:
    with psycopg.connect(scratch.dsn, autocommit=True) as conn:
        for name in sorted(EXTENSIONS):  # all trusted: no superuser creates them
            conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
        conn.execute("CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('a', 'b')")
        conn.execute("CREATE TABLE app.t (id bigint PRIMARY KEY, m app.mood, e citext)")
        conn.execute(
            "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NEW; END $$"
        )
        with conn.transaction():  # the sample-row load switches FKs and triggers off
            conn.execute("SET LOCAL session_replication_role = replica")


def test_drop_removes_the_database_and_the_role(postgres: Any) -> None:
    db = ScratchDatabase(postgres.dsn, "model_test_")
    db.drop()
    db.drop()  # idempotent
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        assert (
            conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (db.name,)).fetchone() is None
        )
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db.name,)).fetchone()
            is None
        )


def test_the_demo_loads_the_do_copy_program_model_as_the_scratch_role(
    postgres: Any, tmp_path: Path
) -> None:
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
    dsn, origin, notes = load_source(postgres.dsn, model, data, ddl)
    assert origin == f"source DDL {ddl}"
    assert any("TO PROGRAM" in n and "skipped" in n for n in notes)  # refused by the list
    assert not list(Path("/tmp").glob(marker.name + "*"))
    with psycopg.connect(dsn) as conn:
        owner, superuser = conn.execute(
            "SELECT tableowner, (SELECT rolsuper FROM pg_roles WHERE rolname = tableowner) "
            "FROM pg_tables WHERE tablename = 'items'"
        ).fetchone() or (None, None)
        assert owner == conn.info.user and superuser is False
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (len(data.of("Item")),)
