"""End to end on the real PostgreSQL and DynamoDB Local: backfill 50,000+ rows and validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate


def test_55k_rows_over_three_entities_migrate_and_validate(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(55_000)
    table = make_table()
    client = dynamodb_local.client()
    options = RunOptions(
        concurrency=4, chunk_size=5_000, dead_letter=tmp_path / "dead.jsonl", progress=False
    )
    runner = Runner(
        shop.model, shop.layout, dsn, client, tmp_path / "ckpt", options, table, shop.module
    )
    report = runner.run()
    total = sum(counts.values())
    assert total >= 50_000 and len(counts) == 3
    assert report.rows_read == total
    assert report.items_written == total
    assert report.dead_letters == 0
    assert {n: e.rows_read for n, e in report.entities.items()} == counts
    assert not (tmp_path / "dead.jsonl").exists()

    result = validate(
        shop.model, shop.layout, dsn, client, sample=None, table_name=table, module=shop.module
    )
    assert result.ok, result.markdown()
    assert result.totals()["checked"] == total
    assert {n: e.item_count for n, e in result.entities.items()} == counts


def test_cli_plan_run_validate_and_a_tampered_item_fails_validation(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    import json
    import os
    import subprocess
    import sys

    from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY

    dsn, counts = source_db(2_000)
    table = make_table()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    model = str(shop.model.file)
    endpoint = ["--endpoint", dynamodb_local.endpoint_url, "--table", table]

    def model_cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "modeling.cli", "migrate", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    plan = model_cli(
        "plan",
        model,
        "--source",
        dsn,
        "--out",
        str(tmp_path / "plan"),
        "--chunk-size",
        "300",
        "--json",
    )
    assert plan.returncode == 0, plan.stderr
    manifest = json.loads(plan.stdout)
    assert {n: e["count"] for n, e in manifest["entities"].items()} == counts
    assert all(c["rows"] <= 300 for e in manifest["entities"].values() for c in e["chunks"])
    line_chunk = manifest["entities"]["LineItem"]["chunks"][0]
    header = (tmp_path / "plan" / line_chunk["file"]).read_text().splitlines()[0]
    assert header == "order_id,line_no"  # composite keys: one CSV column per key attribute

    run = model_cli("run", model, "--source", dsn, *endpoint, "--plan", str(tmp_path / "plan"),
                    "--checkpoint", str(tmp_path / "ckpt"), "--dead-letter", str(tmp_path / "dl.jsonl"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"items written {sum(counts.values())}" in run.stdout

    ok = model_cli(
        "validate", model, "--source", dsn, *endpoint, "--full", "--report", str(tmp_path / "rep")
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Result: **OK**" in (tmp_path / "rep" / "validation.md").read_text()
    assert json.loads((tmp_path / "rep" / "validation.json").read_text())["totals"][
        "checked"
    ] == sum(counts.values())

    client = dynamodb_local.client()
    item = client.scan(TableName=table, Limit=1)["Items"][0]
    client.put_item(TableName=table, Item={**item, "_version": {"N": "1"}, "extra": {"S": "x"}})
    bad = model_cli("validate", model, "--source", dsn, *endpoint, "--full", "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert (
        report["ok"] is False
        and report["totals"]["mismatched"] == 1
        and report["totals"]["stale"] == 1
    )
