"""The whole pipeline on the real DDL corpus: init --from-ddl → validate → compile → verify.

Seeded models are ours (their patterns come from the seeder), so every step must succeed and
`model verify` must agree with both oracles, on DynamoDB Local and PostgreSQL. Found by this
test: the generated PostgreSQL schema declared foreign keys before the referenced table existed
(any child listed before its parent), tables of two schemas with one name collided in the
fallback schema, and a dump's psql meta-commands / `search_path` reset broke the source DDL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling.cli import app

CORPUS = Path("/work/shared/ddl")
FAST = ["chinook-autoinc-ddl", "northwind-ddl", "identity-pgdump-mini", "pagila-schema"]


def _corpus_file(stem: str, tmp_path: Path) -> Path:
    src = CORPUS / f"{stem}.sql"
    if not src.is_file():
        pytest.skip(f"{src} not present")
    dst = tmp_path / src.name
    shutil.copyfile(src, dst)
    return dst


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback from {args}: {result.exception!r}"
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("stem", FAST)
def test_seeded_model_validates_compiles_and_verifies(
    stem: str, tmp_path: Path, dynamodb_local: Any, postgres: Any
) -> None:
    ddl = _corpus_file(stem, tmp_path)
    model = tmp_path / f"{stem}.yaml"
    code, _, err = _cli("init", "--from-ddl", str(ddl), "-o", str(model))
    assert code == 0, err
    code, _, err = _cli("validate", str(model))
    assert code == 0, err
    code, _, err = _cli("compile", str(model), "-o", str(tmp_path / "out"))
    assert code == 0, err
    assert json.loads((tmp_path / "out" / "layout.json").read_text())["plans"]
    code, out, err = _cli(
        "verify",
        str(model),
        "--endpoint",
        dynamodb_local.endpoint_url,
        "--postgres",
        postgres.dsn,
        "--trials",
        "8",
        "--json",
    )
    report = json.loads(out)
    bad = {p["pattern"]: p["failures"][:1] for p in report["patterns"] if p["status"] != "ok"}
    assert code == 0 and report["ok"], (bad, err)
    assert report["postgres"], "the PostgreSQL oracle did not run"
    assert all(p["oracle_trials"] == 8 for p in report["patterns"])


def _model(tmp_path: Path, text: str) -> Any:
    from modeling.api import load_model

    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_model(path)


def test_generated_schema_declares_foreign_keys_after_every_table(tmp_path: Path) -> None:
    from modeling.verify.postgres import create_statements

    model = _model(
        tmp_path,
        "model: fkeys\n"
        "entities:\n"
        "  Child:\n"
        "    key: [child_id]\n"
        "    attributes: {child_id: integer, parent_id: {type: integer, references: Parent}}\n"
        "  Parent:\n"
        "    key: [parent_id]\n"
        "    attributes: {parent_id: integer}\n"
        "access_patterns:\n"
        "  get_child: {entity: Child, where: {child_id: '='}}\n",
    )
    statements = create_statements(model)
    creates = [i for i, s in enumerate(statements) if s.startswith("CREATE TABLE")]
    alters = [i for i, s in enumerate(statements) if s.startswith("ALTER TABLE")]
    assert len(creates) == 2 and len(alters) == 1
    assert max(creates) < min(alters)
    assert "REFERENCES" in statements[alters[0]] and "REFERENCES" not in statements[creates[0]]


@pytest.mark.e2e
def test_fallback_schema_keeps_same_named_tables_apart(tmp_path: Path, postgres: Any) -> None:
    import psycopg

    from modeling.sample.generate import SampleOptions, generate
    from modeling.verify import postgres as pgv

    model = _model(
        tmp_path,
        "model: fkeys\n"
        "entities:\n"
        "  AuthUser:\n"
        "    schema: auth\n"
        "    table: users\n"
        "    key: [id]\n"
        "    attributes: {id: uuid, org_id: {type: integer, references: Org}}\n"
        "  PublicUser:\n"
        "    schema: public\n"
        "    table: users\n"
        "    key: [id]\n"
        "    attributes: {id: uuid}\n"
        "  Org:\n"
        "    key: [org_id]\n"
        "    attributes: {org_id: integer}\n"
        "access_patterns:\n"
        "  get_user: {entity: AuthUser, where: {id: '='}}\n",
    )
    data = generate(model, SampleOptions(seed=1))
    broken = tmp_path / "broken.sql"  # a source DDL that cannot hold the rows → the fallback
    broken.write_text("\\connect other\nCREATE TABLE nope (x int);\nSELECT no_such_function();\n")
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, broken)
        assert schema.origin == "generated from the model"
        assert "no_such_function" in schema.notes[0]
        assert schema.tables["AuthUser"] != schema.tables["PublicUser"]
        for name in ("AuthUser", "PublicUser", "Org"):
            table = schema.tables[name].expression().sql("postgres")
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert row is not None and row[0] == len(data.of(name)) > 0


@pytest.mark.e2e
def test_source_dump_with_meta_commands_and_empty_search_path_is_used(
    tmp_path: Path, postgres: Any
) -> None:
    import psycopg

    from modeling.sample.generate import SampleOptions, generate
    from modeling.verify import postgres as pgv

    ddl = tmp_path / "dump.sql"
    ddl.write_text(
        "SELECT pg_catalog.set_config('search_path', '', false);\n"
        "DROP DATABASE IF EXISTS shop;\nCREATE DATABASE shop;\n\\connect shop\n"
        "CREATE TABLE public.items (item_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " label text NOT NULL);\n"
    )
    model = _model(
        tmp_path,
        "model: shop\nsource: {ddl: dump.sql}\nentities:\n"
        "  Item:\n    table: items\n    key: [item_id]\n"
        "    attributes: {item_id: integer, label: string}\n"
        "access_patterns:\n  get_item: {entity: Item, where: {item_id: '='}}\n",
    )
    data = generate(model, SampleOptions(seed=2))
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, ddl)
        assert schema.origin == f"source DDL {ddl}", schema.notes
        row = conn.execute("SELECT count(*) FROM public.items").fetchone()
        assert row is not None and row[0] == len(data.of("Item")) > 0
