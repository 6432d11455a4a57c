"""Hostile rows on PostgreSQL 15 + DynamoDB Local: each is written exactly or dead-lettered
with its reason and counted, and `migrate validate` compares every row with its item.

Found by an adversarial pass over the migration (issue 18):
- a jsonb value nesting more than 31 maps/lists: DynamoDB refused the whole BatchWriteItem
  ("Nesting Levels have exceeded supported limits") and the run stopped, every other row of
  the batch unwritten;
- a jsonb value nesting ~3,000 levels: psycopg's JSON reader raised RecursionError while the
  batch was fetched (the run and validate stopped with a traceback);
- a jsonb map key that is empty (`{"": 1}`: "Empty attribute name") or over 64 KB: the same;
- a `numeric[]` set holding `1.0` and `1.00` (or `0` and `-0`): DynamoDB refuses a set with
  duplicates, again for the whole request;
- a dead-lettered row with a binary key: the record's key was `<16 bytes>`, so validate
  excused every row with a 16-byte key and reported their items as extra (and a missing one
  as fine); long text keys sharing their first 200 characters were told apart no better.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.runner import DeadLetters, Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY
from modeling.verify.dynamo import create_table

REPO = Path(__file__).resolve().parents[2]

VAULT = """\
model: vault
table:
  name: Vault
source:
  dialect: postgres
entities:
  Blob:
    table: blobs
    key: [blob_id]
    attributes:
      blob_id: binary
      body: {type: string, required: false}
      doc: {type: map, required: false}
      amounts: {type: set<decimal>, required: false}
  Tag:
    table: tags
    key: [name]
    attributes:
      name: string
      note: {type: string, required: false}
access_patterns:
  get_blob:
    entity: Blob
    where: {blob_id: "="}
    unique: true
  get_tag:
    entity: Tag
    where: {name: "="}
    unique: true
"""

LONG = "x" + "y" * 300  # two keys sharing their first 301 characters


def _nest(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


@pytest.fixture
def vault(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> Any:
    path = tmp_path / "vault.yaml"
    path.write_text(VAULT, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE blobs (blob_id bytea PRIMARY KEY, body text, doc jsonb, amounts numeric[])"
        )
        conn.execute("CREATE TABLE tags (name text NOT NULL, note text)")  # no index: 3000 B keys
        conn.execute(
            "INSERT INTO blobs SELECT decode(md5(i::text), 'hex'), 'b' || i, '{\"a\": 1}', "
            "'{1,2}' FROM generate_series(1, 30) i"
        )
        bad = {
            "big": ("repeat('x', 500000)", None, None),  # over 400 KB
            "deep32": ("'deep'", '{"d": ' + _nest(31) + "}", None),  # 32 containers
            "deep3000": ("'deeper'", _nest(3000), None),  # past Python's JSON reader
            "huge": ("'huge'", '{"x": 1e400}', None),  # past DynamoDB's numbers
            "nameless": ("'nameless'", '{"a": {"": 1}}', None),  # an empty attribute name
            "longname": ("'longname'", '{"' + "k" * 70_000 + '": 1}', None),  # over 64 KB
        }
        for name, (body, doc, amounts) in bad.items():
            conn.execute(
                f"INSERT INTO blobs VALUES (decode(md5(%s), 'hex'), {body}, %s::jsonb, %s)",
                (name, doc, amounts),
            )
        good = {  # written exactly
            "deep31": ('{"a": ' + _nest(30) + "}", None),  # 31 containers: DynamoDB's most
            "twins": (None, "{1.0,1.00,1,0,-0,2.50,2.5}"),  # one number each in the set
        }
        for name, (doc, amounts) in good.items():
            conn.execute(
                "INSERT INTO blobs VALUES (decode(md5(%s), 'hex'), %s, %s::jsonb, %s::numeric[])",
                (name, name, doc, amounts),
            )
        conn.execute("INSERT INTO blobs VALUES ('\\x', 'empty id', NULL, NULL)")
        conn.execute(
            "INSERT INTO tags VALUES ('a#b', 'hash'), ('a', 'prefix'), ('', 'empty'), "
            "('caf\u00e9', 'nfc'), ('cafe\u0301', 'nfd'), (repeat('k', 3000), 'too long'), "
            "(%s, 'l1'), (%s, 'l2')",
            (LONG + "1", LONG + "2"),
        )
    table = f"Vault-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), layout, table)
    return model, layout, dsn, table, transformers.generate(layout, model)


def _run(vault: Any, client: Any, tmp_path: Path) -> Any:
    model, layout, dsn, table, module = vault
    options = RunOptions(progress=False, dead_letter=tmp_path / "dead.jsonl", batch_size=7)
    return Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run()


def test_hostile_rows_are_written_exactly_or_dead_lettered_and_counted(
    vault: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout, dsn, table, module = vault
    client = dynamodb_local.client()
    report = _run(vault, client, tmp_path)
    records = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    reasons = sorted((r["entity"], r["reason"].split(":")[0]) for r in records)
    assert reasons == [
        ("Blob", "InvalidValue"),  # 1e400
        ("Blob", "InvalidValue"),  # 32 nested containers
        ("Blob", "InvalidValue"),  # an empty map key
        ("Blob", "InvalidValue"),  # a map key over 64 KB
        ("Blob", "ItemTooLarge"),
        ("Blob", "UnreadableValue"),  # 3000 nested arrays
        ("Tag", "InvalidKey"),  # 3000-byte key
    ], records
    assert any("nests more than 31 maps/lists" in r["reason"] for r in records)
    assert any("a map holds an empty key" in r["reason"] for r in records)
    assert any("a map holds a key of 70000 bytes" in r["reason"] for r in records)
    assert report.dead_letters == 7
    assert report.rows_read == 39 + 8
    in_table = client.scan(TableName=table, Select="COUNT")["Count"]
    assert report.items_written == 39 + 8 - 7 == in_table
    items = client.scan(TableName=table)["Items"]
    by_body = {i["body"]["S"]: i for i in items if "body" in i}
    assert sorted(Decimal(n) for n in by_body["twins"]["amounts"]["NS"]) == [0, 1, Decimal("2.5")]
    deep: Any = by_body["deep31"]["doc"]["M"]["a"]
    for _ in range(30):
        deep = deep["L"][0]
    assert deep == {"N": "1"}
    names = sorted(i["name"]["S"] for i in items if "name" in i)
    assert names == sorted(["", "a", "a#b", "caf\u00e9", "cafe\u0301", LONG + "1", LONG + "2"])
    result = validate(
        model, layout, dsn, client, None, table, dead_letter=tmp_path / "dead.jsonl", module=module
    )
    assert result.ok, result.markdown()
    totals = result.totals()
    assert (totals["checked"], totals["excused"], totals["missing"]) == (40, 7, 0)


def test_validate_names_the_missing_row_of_a_binary_key_beside_a_dead_lettered_one(
    vault: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout, dsn, table, module = vault
    client = dynamodb_local.client()
    _run(vault, client, tmp_path)
    dead = tmp_path / "dead.jsonl"
    # lost items: a row with a 16-byte key (as the dead-lettered Blobs have) and a row whose
    # long text key shares its first 301 characters and its length with another row's
    lost = [i for i in client.scan(TableName=table)["Items"] if i.get("body") == {"S": "b7"}]
    lost += [i for i in client.scan(TableName=table)["Items"] if i.get("name") == {"S": LONG + "2"}]
    assert len(lost) == 2
    for item in lost:
        client.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})
    for sample in (None, 1000):
        result = validate(
            model, layout, dsn, client, sample, table, dead_letter=dead, module=module
        )
        assert not result.ok
        blob, tag = result.entities["Blob"], result.entities["Tag"]
        assert (blob.missing, blob.extra, blob.excused, blob.checked) == (1, 0, 6, 33), (
            result.markdown()
        )
        assert (tag.missing, tag.excused) == (1, 1), result.markdown()
    # the dead-lettered long key excuses itself only: its twin of the same length is checked
    with dead.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(DeadLetters.record("Tag", (LONG + "1",), "hand-written", None)))
        fh.write("\n")
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    assert result.entities["Tag"].missing == 1 and result.entities["Tag"].excused == 2


def test_a_full_disk_under_the_dead_letter_file_stops_the_run_cleanly_and_it_resumes(
    vault: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """ENOSPC (`/dev/full` stands for a full disk) while the dead letters are appended: before,
    an OSError traceback (it names no file, so the CLI's path mapping let it through). Now a
    located error, exit 2, no chunk checkpointed past what was recorded; the resume with
    space writes every row or dead-letters it."""
    model, layout, dsn, table, module = vault
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    ckpt = tmp_path / "ckpt"
    args = [sys.executable, "-m", "modeling.cli", "migrate", "run", str(model.file)]
    args += ["--source", dsn, "--endpoint", dynamodb_local.endpoint_url, "--table", table]
    args += ["--checkpoint", str(ckpt), "--batch-size", "7", "--json"]

    def run(dead: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args, "--dead-letter", dead], cwd=REPO, env=env, capture_output=True, text=True
        )

    full = run("/dev/full")
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr
    assert "/dev/full" in full.stderr and "No space left on device" in full.stderr
    assert "hint:" in full.stderr
    dead = tmp_path / "dead.jsonl"
    again = run(str(dead))
    assert again.returncode == 0, again.stderr
    client = dynamodb_local.client()
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    assert result.ok, result.markdown()
    assert result.totals()["missing"] == 0 and result.totals()["excused"] == 7


def test_rows_with_a_null_key_committed_after_the_plan_are_dead_lettered_and_counted(
    vault: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """Before, only a plan that had counted NULL-key rows read them back, and at most its
    count + 1,000: the rows committed after a plan that had none were neither written (no
    chunk lists them, the catch-up reads by key) nor dead-lettered nor counted."""
    from modeling.migrate.plan import make_plan

    model, layout, dsn, table, module = vault
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE tags ALTER COLUMN name DROP NOT NULL")
    plan = make_plan(dsn, model, tmp_path / "plan", chunk_size=10)
    assert plan.entities["Tag"].null_keys == 0
    with psycopg.connect(dsn) as conn:  # after the plan, before the run
        conn.execute("INSERT INTO tags SELECT NULL, 'n' || i FROM generate_series(1, 3) i")
    client = dynamodb_local.client()
    dead = tmp_path / "dead.jsonl"
    options = RunOptions(progress=False, dead_letter=dead, batch_size=7)
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run(
        tmp_path / "plan"
    )
    records = [json.loads(x) for x in dead.read_text().splitlines()]
    nulls = [r for r in records if r["reason"] == "NULL key: name is NULL"]
    assert sorted(r["row"]["note"] for r in nulls) == ["n1", "n2", "n3"]
    assert report.entities["Tag"].dead_letters == 1 + 3  # the 3000-byte key and the NULLs
    assert report.entities["Tag"].rows_read == 8 + 3
    for sample in (None, 100):
        result = validate(
            model, layout, dsn, client, sample, table, dead_letter=dead, module=module
        )
        tag = result.entities["Tag"]
        assert (tag.sql_count, tag.item_count, tag.excused) == (11, 7, 4), result.markdown()
        assert result.ok, result.markdown()


def test_the_worker_lambda_records_dead_letter_keys_as_the_runner_does(
    vault: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker Lambda wrote `str(bytes)` excerpts as keys (`b'\\xd8...'`): validate, given
    its dead letters, excused none of its rows. Both now write `dead_letter_key`."""
    import importlib

    from generated_pkg import write_and_import

    from modeling.emit.migration_stack import emit_migration_stack
    from modeling.emit.transformers import emit_transformers

    model, layout, dsn, table, module = vault
    files = {**emit_transformers(layout, model), **emit_migration_stack(layout, model)}
    worker = importlib.import_module(
        f"{write_and_import(files, tmp_path / 'pkg', '_vault')}.migration.worker"
    )
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setattr(worker, "_CONN", None)
    written: list[list[dict[str, Any]]] = []
    monkeypatch.setattr(worker, "_dead_letters", lambda _s3, _mid, dead: written.append(dead))
    with psycopg.connect(dsn) as conn:
        keys = [[r[0]] for r in conn.execute("SELECT blob_id::text FROM blobs ORDER BY 1")]
    client = dynamodb_local.client()
    message = {"model": "vault", "entity": "Blob", "chunk": "c", "keys": keys}
    out = worker.process(message, client, None, "m-1")
    assert (out["rows"], out["items"], out["dead_letters"]) == (39, 33, 6)
    dead = tmp_path / "worker-dead.jsonl"
    dead.write_text("".join(json.dumps(r) + "\n" for r in written[0]), encoding="utf-8")
    assert all(r["key"][0].startswith("\\x") and len(r["key"][0]) == 34 for r in written[0])
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    blob = result.entities["Blob"]
    assert (blob.excused, blob.missing, blob.extra, blob.untransformable) == (6, 0, 0, 0), (
        result.markdown()
    )
    assert blob.ok, result.markdown()
