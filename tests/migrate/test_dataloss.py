"""The silent-loss cases of issue 18 on PostgreSQL 15 + DynamoDB Local: each now ends in a
refusal or in 0 missing.

1. a key that is not unique in the source (a guessed `key:`): `migrate plan` lists its keys and
   `migrate run` dead-letters every row of them, also rows duplicated after the plan;
2. re-planning with another chunk size between a kill and the resume: refused (the checkpoint
   is bound to the plan's sha256);
3. a row committed after `migrate plan` and before `migrate run --plan`: written by the
   catch-up pass (the marker is the plan's);
plus the catch-up's conditional write, which never replaces another row's item, and damaged
plan / checkpoint / dead-letter files, which are exit 2 with a hint, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.migrate import transformers
from modeling.migrate.errors import MigrationError
from modeling.migrate.plan import load_plan, make_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.sink import ItemCollision, Sink
from modeling.migrate.validate import validate
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY
from modeling.verify.dynamo import create_table

REPO = Path(__file__).resolve().parents[2]

CARTS = """\
model: carts
table:
  name: Carts
source:
  dialect: postgres
entities:
  Cart:
    table: carts
    key: [cart_id]
    attributes:
      cart_id: integer
      status: {type: string, enum: [open, paid]}
      total: decimal
access_patterns:
  get_cart:
    entity: Cart
    where: {cart_id: "="}
    unique: true
"""


class Killed(Exception):
    """Stands for `kill -9` in the middle of a run (raised from the after-read hook)."""


def _runner(shop: Any, dsn: str, client: Any, table: str, ckpt: Path, **kw: Any) -> Runner:
    options = RunOptions(progress=False, dead_letter=ckpt.parent / "dead.jsonl", **kw)
    return Runner(shop.model, shop.layout, dsn, client, ckpt, options, table, shop.module)


def test_replanning_between_a_kill_and_the_resume_is_refused(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(662)
    client, table = dynamodb_local.client(), make_table()
    plan_dir, ckpt = tmp_path / "plan", tmp_path / "ckpt"
    make_plan(dsn, shop.model, plan_dir, chunk_size=50)
    reads = [0]

    def kill_after_four(entity: str, rows: list[dict[str, Any]]) -> None:
        reads[0] += 1
        if reads[0] > 4:
            raise Killed

    with pytest.raises(Killed):
        _runner(
            shop, dsn, client, table, ckpt, batch_size=50, concurrency=1, after_read=kill_after_four
        ).run(plan_dir)
    finished = list((ckpt / "done").rglob("chunk-*.json"))
    assert 0 < len(finished) < 14  # killed part-way: some chunks are checkpointed

    # re-planned with another chunk size: the same chunk names now hold other keys
    make_plan(dsn, shop.model, plan_dir, chunk_size=30)
    with pytest.raises(MigrationError, match="belongs to another plan") as refused:
        _runner(shop, dsn, client, table, ckpt).run(plan_dir)
    assert "chunk size 50" in str(refused.value) and "--checkpoint" in (refused.value.hint or "")

    # what the hint says: a new checkpoint directory, and nothing is missing
    report = _runner(shop, dsn, client, table, tmp_path / "ckpt2").run(plan_dir)
    assert report.items_written == sum(counts.values())
    result = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert result.ok and result.totals()["missing"] == 0, result.markdown()


def test_a_row_committed_between_plan_and_run_is_written_by_the_catch_up(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(300)
    client, table = dynamodb_local.client(), make_table()
    plan = make_plan(dsn, shop.model, tmp_path / "plan", chunk_size=100)
    assert plan.marker is not None
    with psycopg.connect(dsn) as conn:  # after the plan listed the keys, before the run
        conn.execute(
            "INSERT INTO customers VALUES (999999, 'late@example.com', 'Late', 1.5, now(), now())"
        )
    report = _runner(shop, dsn, client, table, tmp_path / "ckpt").run(tmp_path / "plan")
    assert report.marker == plan.marker
    assert report.catch_up_written >= 1
    (item,) = client.scan(
        TableName=table,
        FilterExpression="email = :e",
        ExpressionAttributeValues={":e": {"S": "late@example.com"}},
    )["Items"]
    assert item["customer_id"] == {"N": "999999"}
    result = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert result.ok, result.markdown()
    assert result.totals()["missing"] == 0
    assert result.totals()["checked"] == sum(counts.values()) + 1


@pytest.fixture
def carts(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> Any:
    path = tmp_path / "carts.yaml"
    path.write_text(CARTS, encoding="utf-8")
    model = load_model(path)
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    dsn = postgres.create_database()
    with psycopg.connect(dsn) as conn:
        # no primary key: the model's `key:` is a guess the source does not enforce
        conn.execute("CREATE TABLE carts (cart_id bigint NOT NULL, status text NOT NULL, total numeric NOT NULL)")  # fmt: skip
        conn.execute("INSERT INTO carts SELECT i, 'open', i FROM generate_series(1, 180) i")
        conn.execute("INSERT INTO carts SELECT i, 'paid', i + 0.5 FROM generate_series(1, 7) i")
    table = f"Carts-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), layout, table)
    module = transformers.generate(layout, model)
    return model, layout, dsn, table, module


def test_duplicate_source_keys_are_dead_lettered_never_silently_replaced(
    carts: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout, dsn, table, module = carts
    client = dynamodb_local.client()
    plan = make_plan(dsn, model, tmp_path / "plan", chunk_size=40)
    cart = plan.entities["Cart"]
    assert (cart.count, cart.duplicate_rows) == (173, 14)  # 7 keys held by two rows each
    assert cart.duplicates is not None and cart.duplicates.rows == 7
    with psycopg.connect(dsn) as conn:  # a duplicate that appears after the plan
        conn.execute("INSERT INTO carts VALUES (50, 'paid', 99)")
    options = RunOptions(progress=False, dead_letter=tmp_path / "dead.jsonl")
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, table, module).run(
        tmp_path / "plan"
    )
    records = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(r["key"][0] for r in records) == sorted([*range(1, 8), *range(1, 8), 50, 50])
    assert all(r["reason"].startswith("DuplicateKey: 2 rows of carts") for r in records)
    assert report.dead_letters == 16
    items = client.scan(TableName=table, Select="COUNT")["Count"]
    assert items == report.items_written == 188 - 16  # every other row has its own item
    assert {"cart_id": {"N": "1"}} not in [
        {"cart_id": i["cart_id"]} for i in client.scan(TableName=table)["Items"]
    ]
    result = validate(
        model, layout, dsn, client, None, table, dead_letter=tmp_path / "dead.jsonl", module=module
    )
    assert result.totals()["missing"] == 0, result.markdown()


def test_the_export_dead_letters_duplicate_keys_as_the_run_does(
    carts: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """`migrate export` reuses the run's duplicate handling: the plan's duplicates file and a
    duplicate that appears after the plan are dead-lettered, never one row of a key exported."""
    from modeling.migrate import export as ex
    from modeling.migrate.runner import table_key_names
    from modeling.migrate.sink import Sink

    model, layout, dsn, table, module = carts
    make_plan(dsn, model, tmp_path / "plan", chunk_size=40)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO carts VALUES (50, 'paid', 99)")
    dead = tmp_path / "dead.jsonl"
    options = ex.ExportOptions(progress=False, dead_letter=dead, batch_size=25)
    report = ex.Exporter(model, layout, dsn, options, module=module).run(
        tmp_path / "export", tmp_path / "plan"
    )
    records = [json.loads(x) for x in dead.read_text().splitlines()]
    assert sorted(r["key"][0] for r in records) == sorted([*range(1, 8), *range(1, 8), 50, 50])
    assert all(r["reason"].startswith("DuplicateKey: 2 rows of carts") for r in records)
    assert report.dead_letters == 16 and report.items == 188 - 16
    client = dynamodb_local.client()
    ex.load_export(tmp_path / "export", Sink(client, table, table_key_names(layout), len))
    result = validate(model, layout, dsn, client, None, table, dead_letter=dead, module=module)
    assert result.totals()["missing"] == 0 and result.totals()["extra"] == 0, result.markdown()


def test_the_catch_up_never_replaces_another_rows_item(
    carts: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    _model, _layout, _dsn, table, module = carts
    client = dynamodb_local.client()
    sink = Sink(client, table, ("PK", "SK"), module.item_size)
    mine = module.TO_ITEM["Cart"]({"cart_id": 1, "status": "open", "total": 1})
    mine["_version"] = {"N": "5"}
    client.put_item(TableName=table, Item=mine)
    # another row's item under the same key (what a key without the identity would produce)
    other = {**mine, "cart_id": {"N": "2"}, "_version": {"N": "9"}}
    with pytest.raises(ItemCollision) as hit:
        sink.put_if_newer(other, {"cart_id": other["cart_id"], "_type": other["_type"]})
    assert hit.value.existing["cart_id"] == {"N": "1"}
    stored = client.get_item(TableName=table, Key={"PK": mine["PK"], "SK": mine["SK"]})["Item"]
    assert stored["cart_id"] == {"N": "1"} and stored["_version"] == {"N": "5"}
    newer = {**mine, "total": {"N": "7"}, "_version": {"N": "6"}}
    assert sink.put_if_newer(newer, {"cart_id": mine["cart_id"], "_type": mine["_type"]})
    assert not sink.put_if_newer(mine, {"cart_id": mine["cart_id"], "_type": mine["_type"]})


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "modeling.cli", "migrate", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_damaged_plans_checkpoints_and_dead_letters_exit_2_with_a_hint(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, _ = source_db(120)
    table = make_table()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    model = str(shop.model.file)
    target = ["--source", dsn, "--endpoint", dynamodb_local.endpoint_url, "--table", table]
    plan_dir = tmp_path / "plan"
    make_plan(dsn, shop.model, plan_dir, chunk_size=40)
    manifest = (plan_dir / "manifest.json").read_text()
    chunk = load_plan(plan_dir).chunks()[0]

    def run(name: str) -> subprocess.CompletedProcess[str]:
        ckpt = ["--checkpoint", str(tmp_path / name)]
        return _cli("run", model, *target, "--plan", str(plan_dir), *ckpt, env=env)

    cases: dict[str, tuple[str, Any]] = {}
    (plan_dir / "manifest.json").write_text(manifest[: len(manifest) // 2])  # partial
    cases["partial manifest"] = ("not valid JSON", run("c1"))
    (plan_dir / "manifest.json").write_text(json.dumps({"manifest_version": 2, "model": 1}))
    cases["corrupt manifest"] = ("malformed manifest", run("c2"))
    (plan_dir / "manifest.json").write_text(manifest)
    data = (plan_dir / chunk.file).read_bytes()
    (plan_dir / chunk.file).unlink()
    cases["deleted chunk"] = ("does not exist", run("c3"))
    (plan_dir / chunk.file).write_bytes(data)
    (tmp_path / "c4").mkdir()
    (tmp_path / "c4" / "run.json").write_text("\x00garbage{")
    cases["garbage run.json"] = ("not valid JSON", run("c4"))
    dead = tmp_path / "dead.jsonl"
    dead.write_text('{"entity": "Customer", "key": [1], "reason": "x"}\n{garbage\n')
    cases["garbage dead-letter line"] = (
        f"{dead}:2: not valid JSON",
        _cli("validate", model, *target, "--dead-letter", str(dead), env=env),
    )
    for name, (message, done) in cases.items():
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert message in done.stderr and "hint:" in done.stderr, (name, done.stderr)
        assert "Traceback" not in done.stderr, (name, done.stderr)
    # and the repaired plan runs
    ok = run("c5")
    assert ok.returncode == 0, ok.stderr


def test_the_worker_lambda_dead_letters_duplicate_keys_too(
    carts: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from generated_pkg import write_and_import

    from modeling.emit.migration_stack import emit_migration_stack
    from modeling.emit.transformers import emit_transformers

    model, layout, dsn, table, _module = carts
    files = {**emit_transformers(layout, model), **emit_migration_stack(layout, model)}
    worker = importlib.import_module(
        f"{write_and_import(files, tmp_path / 'pkg', '_carts')}.migration.worker"
    )
    monkeypatch.setenv("DSN", dsn)
    monkeypatch.setenv("TABLE_NAME", table)
    client = dynamodb_local.client()
    # keys 1 and 2 are held by two rows each, 10 and 11 by one: one message, as the publisher
    # sends a chunk's keys (a plan leaves 1 and 2 out; a row duplicated later still arrives)
    message = {"model": "carts", "entity": "Cart", "chunk": "c", "keys": [["1"], ["2"], ["10"], ["11"]]}  # fmt: skip
    out = worker.process(message, client, None, "m-1")
    assert out == {"rows": 6, "items": 2, "dead_letters": 4, "retries": 0}
    # the plan's duplicates file arrives marked: every row is dead-lettered
    marked = {**message, "keys": [["3"]], "duplicates": True}
    assert worker.process(marked, client, None, "m-2")["dead_letters"] == 2
    ids = sorted(int(i["cart_id"]["N"]) for i in client.scan(TableName=table)["Items"])
    assert ids == [10, 11]
