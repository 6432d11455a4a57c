"""PostgreSQL values DynamoDB (or Python) cannot hold, on PostgreSQL 15 + DynamoDB Local (issue 18,
"no silent loss"): `infinity` / years past 9999 in timestamp, timestamptz and date columns,
numeric NaN / Infinity, numbers outside DynamoDB's 38 digits or magnitude range, float8
NaN / Infinity, an item over 400 KB, a key over DynamoDB's key limits.

Each such row becomes a dead-letter record naming the column and the reason; every other row
of the same chunk is written; the report's counts are exact; `validate` counts the rows as
dead-lettered, not missing; the same for `migrate export` and the dual-write repository.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.plan import make_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.verify.dynamo import create_table

pytestmark = pytest.mark.e2e

READINGS = """\
model: readings
table:
  name: Readings
source:
  dialect: postgres
entities:
  Reading:
    table: readings
    key: [reading_id]
    attributes:
      reading_id: integer
      label: string
      taken_at: {type: datetime, timezone: false}
      logged_at: datetime
      day: date
      amount: decimal
      ratio: float
      note: {type: string, required: false}
access_patterns:
  get_reading:
    entity: Reading
    where: {reading_id: "="}
    unique: true
  by_label:
    entity: Reading
    where: {label: "="}
"""

DDL = """CREATE TABLE readings (
    reading_id bigint PRIMARY KEY, label text NOT NULL,
    taken_at timestamp NOT NULL, logged_at timestamptz NOT NULL, day date NOT NULL,
    amount numeric NOT NULL, ratio float8 NOT NULL, note text)"""

GOOD = "'L', '2024-01-02 03:04:05', '2024-01-02 03:04:05+00', '2024-01-02', 1.5, 0.25, NULL"

# id -> (the column, its hostile SQL value): every other column of the row holds a good value
HOSTILE: dict[int, tuple[str, str]] = {
    1001: ("taken_at", "'infinity'::timestamp"),
    1002: ("taken_at", "'-infinity'::timestamp"),
    1003: ("taken_at", "'10000-01-01 00:00:00'::timestamp"),
    1004: ("logged_at", "'infinity'::timestamptz"),
    1005: ("logged_at", "'-infinity'::timestamptz"),
    1006: ("logged_at", "'12000-06-01 00:00:00+00'::timestamptz"),
    1007: ("day", "'infinity'::date"),
    1008: ("day", "'-infinity'::date"),
    1009: ("day", "'20000-01-01'::date"),
    1010: ("amount", "'NaN'::numeric"),
    1011: ("amount", "'Infinity'::numeric"),
    1012: ("amount", "'-Infinity'::numeric"),
    1013: ("amount", "123456789012345678901234567890123456789::numeric"),  # 39 digits
    1014: ("amount", "1e126::numeric"),
    1015: ("amount", "1e-131::numeric"),
    1016: ("ratio", "'NaN'::float8"),
    1017: ("ratio", "'Infinity'::float8"),
    1018: ("ratio", "'-Infinity'::float8"),
    1019: ("note", "repeat('x', 410000)"),
    1020: ("label", "repeat('k', 3000)"),  # the by_label index key: over 2048 bytes
}

GOOD_IDS = [*range(1, 41), *range(2001, 2021)]


@pytest.fixture
def readings(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> Any:
    path = tmp_path / "readings.yaml"
    path.write_text(READINGS, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        # good rows before and after the hostile ones, so each chunk mixes both
        conn.execute(f"INSERT INTO readings SELECT i, {GOOD} FROM generate_series(1, 40) i")
        for rid, (column, value) in HOSTILE.items():
            conn.execute(
                f"INSERT INTO readings SELECT {rid}, {GOOD}",
            )
            conn.execute(f"UPDATE readings SET {column} = {value} WHERE reading_id = {rid}")
        conn.execute(f"INSERT INTO readings SELECT i, {GOOD} FROM generate_series(2001, 2020) i")
    table = f"Readings-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), layout, table)
    module = transformers.generate(layout, model)
    return model, layout, dsn, table, module


def _dead(path: Path) -> dict[int, dict[str, Any]]:
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    by_id = {int(r["key"][0]): r for r in records}
    assert len(by_id) == len(records), records  # one record per row
    return by_id


def _assert_dead_letters(dead: dict[int, dict[str, Any]]) -> None:
    assert sorted(dead) == sorted(HOSTILE)
    for rid, (column, _) in HOSTILE.items():
        reason = dead[rid]["reason"]
        expected = {1019: "ItemTooLarge: the item is 41", 1020: "GSI1PK is 3008 bytes"}.get(
            rid, f"{column}: "
        )
        assert expected in reason, (rid, reason)
        assert dead[rid]["entity"] == "Reading"


def test_migrate_run_dead_letters_each_hostile_value_and_writes_every_good_row(
    readings: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout, dsn, table, module = readings
    client = dynamodb_local.client()
    make_plan(dsn, model, tmp_path / "plan", chunk_size=25)
    with psycopg.connect(dsn) as conn:  # after the plan: read by the catch-up pass only
        conn.execute(f"INSERT INTO readings SELECT 3001, {GOOD}")
        conn.execute("UPDATE readings SET logged_at = 'infinity' WHERE reading_id = 3001")
    options = RunOptions(progress=False, dead_letter=tmp_path / "dead.jsonl", batch_size=10)
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run(
        tmp_path / "plan"
    )
    dead = _dead(tmp_path / "dead.jsonl")
    late = dead.pop(3001)
    assert late["reason"].startswith("UnreadableValue: logged_at: the source holds 'infinity'")
    _assert_dead_letters(dead)
    ids = sorted(int(i["reading_id"]["N"]) for i in client.scan(TableName=table)["Items"])
    assert ids == GOOD_IDS
    assert report.rows_read == len(GOOD_IDS) + len(HOSTILE)  # the backfill's
    assert report.catch_up_rows >= 1 and report.catch_up_written == 0
    assert report.items_written == len(GOOD_IDS)
    assert report.dead_letters == len(HOSTILE) + 1
    result = validate(
        model, layout, dsn, client, None, table, dead_letter=tmp_path / "dead.jsonl", module=module
    )
    totals = result.totals()
    assert (totals["missing"], totals["extra"]) == (0, 0), result.markdown()
    assert totals["excused"] == len(HOSTILE) + 1 and totals["checked"] == len(GOOD_IDS)


@pytest.mark.parametrize("sample", [None, 500], ids=["full", "sample"])
def test_validate_counts_hostile_rows_as_untransformable_without_a_dead_letter_file(
    readings: Any, dynamodb_local: Any, sample: int | None
) -> None:
    """Before any run: `validate` reads every hostile row without failing, and names each one
    (not missing, not a crash); the good rows are missing (nothing was written yet)."""
    model, layout, dsn, table, module = readings
    client = dynamodb_local.client()
    result = validate(model, layout, dsn, client, sample, table, module=module)
    ev = result.entities["Reading"]
    assert ev.untransformable == len(HOSTILE)
    assert ev.sql_count == len(GOOD_IDS) + len(HOSTILE)
    assert result.totals()["missing"] == len(GOOD_IDS)
    problems = {int(e["key"][0]): e["problem"] for e in ev.examples}
    assert problems and set(problems) <= set(HOSTILE)
    for rid, problem in problems.items():  # the first ones met (random order with a sample)
        column, value = HOSTILE[rid]
        if "::timestamp" in value or "::date" in value:
            assert problem.startswith(f"UnreadableValue: {column}: the source holds '"), problem


def test_migrate_export_dead_letters_each_hostile_value_and_exports_every_good_row(
    readings: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    from modeling.migrate import export as ex
    from modeling.migrate.runner import table_key_names
    from modeling.migrate.sink import Sink

    model, layout, dsn, table, module = readings
    make_plan(dsn, model, tmp_path / "plan", chunk_size=25)
    dead = tmp_path / "dead.jsonl"
    options = ex.ExportOptions(progress=False, dead_letter=dead, batch_size=10)
    report = ex.Exporter(model, layout, dsn, options, module=module).run(
        tmp_path / "export", tmp_path / "plan"
    )
    _assert_dead_letters(_dead(dead))
    assert report.dead_letters == len(HOSTILE) and report.items == len(GOOD_IDS)
    client = dynamodb_local.client()
    ex.load_export(tmp_path / "export", Sink(client, table, table_key_names(layout), len))
    ids = sorted(int(i["reading_id"]["N"]) for i in client.scan(TableName=table)["Items"])
    assert ids == GOOD_IDS
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    totals = result.totals()
    assert (totals["missing"], totals["extra"], totals["excused"]) == (0, 0, len(HOSTILE))


def test_the_cli_run_and_validate_exit_0_with_every_hostile_row_dead_lettered(
    readings: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """`migrate run` exits 0 with dead letters (documented: the report counts them and names
    the file); `validate --full --dead-letter` then passes (exit 0), without it fails (exit 1)
    naming the rows as untransformable. No traceback anywhere."""
    import os
    import subprocess
    import sys

    from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY

    model, _layout, dsn, table, _module = readings
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    target = ["--source", dsn, "--endpoint", dynamodb_local.endpoint_url, "--table", table]
    dead = tmp_path / "dead.jsonl"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "modeling.cli", "migrate", *args, str(model.file)]
        done = subprocess.run(
            [*command, *target], env=env, capture_output=True, text=True, timeout=120
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    ran = cli("run", "--json", "--chunk-size", "25", "--dead-letter", str(dead),
              "--checkpoint", str(tmp_path / "ckpt"))  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert (report["dead_letters"], report["items_written"]) == (len(HOSTILE), len(GOOD_IDS))
    _assert_dead_letters(_dead(dead))
    ok = cli("validate", "--full", "--json", "--dead-letter", str(dead))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = cli("validate", "--full", "--json")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert json.loads(bad.stdout)["entities"]["Reading"]["untransformable"] == len(HOSTILE)


def test_the_worker_lambda_dead_letters_each_hostile_row_and_writes_the_rest(
    readings: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One SQS message of keys mixing good and hostile rows: the good ones are written, each
    hostile one dead-lettered with its column (not the whole message failed and retried)."""
    import importlib

    from generated_pkg import write_and_import

    from modeling.emit.migration_stack import emit_migration_stack
    from modeling.emit.transformers import emit_transformers

    model, layout, dsn, table, _module = readings
    files = {**emit_transformers(layout, model), **emit_migration_stack(layout, model)}
    worker = importlib.import_module(
        f"{write_and_import(files, tmp_path / 'pkg', '_readings')}.migration.worker"
    )
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setattr(worker, "_CONN", None)
    written: list[list[dict[str, Any]]] = []
    monkeypatch.setattr(worker, "_dead_letters", lambda _s3, _mid, dead: written.append(dead))
    client = dynamodb_local.client()
    ids = [1, 2, *HOSTILE, 2001]
    message = {"model": "readings", "entity": "Reading", "chunk": "c", "keys": [[str(i)] for i in ids]}  # fmt: skip
    out = worker.process(message, client, None, "m-1")
    assert out == {"rows": len(ids), "items": 3, "dead_letters": len(HOSTILE), "retries": 0}
    (dead,) = written
    _assert_dead_letters({int(r["key"][0]): r for r in dead})
    got = sorted(int(i["reading_id"]["N"]) for i in client.scan(TableName=table)["Items"])
    assert got == [1, 2, 2001]


def test_the_dual_write_repository_refuses_a_hostile_value_and_commits_nothing(
    readings: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """The repository writes PostgreSQL in a transaction and reads the row back: a value the
    row cannot carry to DynamoDB (here `infinity` sent as text) fails the call, and the
    transaction rolls back, so neither store holds a row the other lacks (no silent loss);
    a good row through the same repository is written to both."""
    import importlib

    from generated_pkg import write_and_import

    from modeling.emit.repository import emit_repository
    from modeling.emit.transformers import emit_transformers

    model, layout, dsn, table, _module = readings
    files = {**emit_transformers(layout, model), **emit_repository(layout, model)}
    repo_mod = importlib.import_module(
        f"{write_and_import(files, tmp_path / 'pkg', '_readings_repo')}.repository"
    )
    client = dynamodb_local.client()
    flags = repo_mod.Flags.from_config({"writeToBothDatabases": True})
    good = {"reading_id": 5001, "label": "L", "taken_at": "2024-01-02 03:04:05",
            "logged_at": "2024-01-02 03:04:05+00", "day": "2024-01-02", "amount": 1,
            "ratio": 0.5, "note": None}  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        repo = repo_mod.Repository(conn, client, flags, table_name=table)
        with pytest.raises(psycopg.DataError):
            repo.insert("Reading", {**good, "reading_id": 5002, "taken_at": "infinity"})
        repo.insert("Reading", good)
        stored = conn.execute("SELECT reading_id FROM readings WHERE reading_id > 5000").fetchall()
    assert stored == [(5001,)]
    ids = [int(i["reading_id"]["N"]) for i in client.scan(TableName=table)["Items"]]
    assert ids == [5001]


def test_an_infinity_key_is_planned_and_dead_lettered_not_a_failed_run(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """A key column holding `infinity`: `migrate plan` cuts chunks on the key values (they
    are read as text, so the plan is made), and the run dead-letters that one row with the
    reason while the other rows of its chunk are written."""
    text = READINGS.replace("key: [reading_id]", "key: [taken_at]")
    path = tmp_path / "by_time.yaml"
    path.write_text(text, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        conn.execute(f"INSERT INTO readings SELECT i, {GOOD} FROM generate_series(1, 5) i")
        conn.execute("UPDATE readings SET taken_at = taken_at + reading_id * interval '1 hour'")
        conn.execute("UPDATE readings SET taken_at = 'infinity' WHERE reading_id = 3")
    make_plan(dsn, model, tmp_path / "plan", chunk_size=10)
    table = f"ByTime-{uuid.uuid4().hex[:8]}"
    client = dynamodb_local.client()
    create_table(client, layout, table)
    module = transformers.generate(layout, model)
    options = RunOptions(progress=False, dead_letter=tmp_path / "dead.jsonl", batch_size=10)
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run(
        tmp_path / "plan"
    )
    ids = sorted(int(i["reading_id"]["N"]) for i in client.scan(TableName=table)["Items"])
    assert ids == [1, 2, 4, 5]
    records = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text("utf-8").splitlines()]
    assert len(records) == 1 and "infinity" in records[0]["reason"], records
    assert (report.items_written, report.dead_letters) == (4, 1)
