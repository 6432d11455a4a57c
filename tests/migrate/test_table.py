"""The target table (issue 15, item 8): a missing table is a clear error with the command that
creates it; `migrate create-table` and `migrate run --create-table` create it from the compiled
definition (create-table.json), idempotently; a table whose keys or indexes differ is an error
naming the difference; `migrate run > log` prints plain progress lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from modeling.api import compile_file, table_requests
from modeling.emit.cloudformation import emit_cloudformation
from modeling.migrate.table import differences

REPO = Path(__file__).resolve().parents[2]


def _requests(shop: Any) -> dict[str, Any]:
    return table_requests(shop.layout, shop.model)[0]


def _described(request: dict[str, Any]) -> dict[str, Any]:
    """DescribeTable's shape of a table created exactly from `request`."""
    return {
        "TableName": request["TableName"],
        "KeySchema": request["KeySchema"],
        "AttributeDefinitions": request["AttributeDefinitions"],
        "TableStatus": "ACTIVE",
        "GlobalSecondaryIndexes": [
            {**g, "IndexStatus": "ACTIVE"} for g in request.get("GlobalSecondaryIndexes", [])
        ],
    }


# --------------------------------------------------------------------------- the definition


@pytest.mark.parametrize("name", ["orders", "catalog", "saas"])
def test_table_requests_are_the_generated_create_table_json(name: str) -> None:
    model, layout = compile_file(REPO / "models" / f"{name}.yaml")
    create, post = table_requests(layout, model)
    files = emit_cloudformation(layout, model)
    assert create == json.loads(files["create-table.json"])
    assert post == json.loads(files["post-create-table.json"])
    renamed, renamed_post = table_requests(layout, model, "Other")
    assert renamed["TableName"] == "Other"
    assert all(call["TableName"] == "Other" for call in renamed_post.values())
    assert {**renamed, "TableName": create["TableName"]} == create


def test_differences_name_each_difference(shop: Any) -> None:
    request = _requests(shop)
    same = _described(request)
    assert differences(request, same) == []

    swapped = {**same, "KeySchema": list(reversed(request["KeySchema"]))}
    (diff,) = differences(request, swapped)
    assert diff.startswith("key schema is ") and "the model needs" in diff

    gsis = request["GlobalSecondaryIndexes"]
    assert gsis, "the shop model has GSIs"
    missing = {**same, "GlobalSecondaryIndexes": same["GlobalSecondaryIndexes"][1:]}
    assert differences(request, missing) == [
        f"GSI {gsis[0]['IndexName']} ({', '.join(k['AttributeName'] + ' ' + k['KeyType'] for k in gsis[0]['KeySchema'])}) is missing"
    ]
    extra = {
        **same,
        "GlobalSecondaryIndexes": [
            *same["GlobalSecondaryIndexes"],
            {"IndexName": "Legacy", "KeySchema": gsis[0]["KeySchema"]},
        ],
    }
    assert differences(request, extra) == ["GSI Legacy is not in the model"]
    keys_only = {
        **same,
        "GlobalSecondaryIndexes": [
            {**g, "Projection": {"ProjectionType": "KEYS_ONLY"}}
            for g in same["GlobalSecondaryIndexes"]
        ],
    }
    found = differences(request, keys_only)
    assert len(found) == len(gsis) and all("projects KEYS_ONLY" in d for d in found)
    retyped = {
        **same,
        "AttributeDefinitions": [
            {**d, "AttributeType": "N"}
            if d["AttributeName"] == request["KeySchema"][0]["AttributeName"]
            else d
            for d in request["AttributeDefinitions"]
        ],
    }
    pk = request["KeySchema"][0]["AttributeName"]
    assert differences(request, retyped) == [f"key attribute {pk} is N; the model needs S"]


# --------------------------------------------------------------------------- CLI, e2e


def _env(dynamodb_local: Any) -> dict[str, str]:
    from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY

    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
        "MODELING_PROGRESS_INTERVAL": "0.05",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "modeling.cli", "migrate", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_run_before_the_table_exists_exits_2_with_the_command_that_creates_it(
    shop: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    table = f"Missing-{uuid.uuid4().hex[:8]}"
    model = str(shop.model.file)
    endpoint = dynamodb_local.endpoint_url
    env = _env(dynamodb_local)
    # the source is never read: the table is checked first, so this fails in seconds
    run = _cli(env, "run", model, "--source", "postgresql://127.0.0.1:1/none",
               "--endpoint", endpoint, "--table", table, "--checkpoint", str(tmp_path / "c"))  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "ResourceNotFoundException" not in run.stderr
    assert f"error: table {table} does not exist at {endpoint}" in run.stderr
    assert (
        f"hint: create it with `model migrate create-table {model} --endpoint {endpoint} "
        f"--table {table}`, or rerun `migrate run` with --create-table"
    ) in run.stderr
    validate = _cli(env, "validate", model, "--source", "postgresql://127.0.0.1:1/none",
                    "--endpoint", endpoint, "--table", table)  # fmt: skip
    assert validate.returncode == 2 and f"table {table} does not exist" in validate.stderr

    # the hint's command works, and says so when run again
    created = _cli(env, "create-table", model, "--endpoint", endpoint, "--table", table, "--json")
    assert created.returncode == 0, created.stderr
    status = json.loads(created.stdout)
    assert status["state"] == "created" and status["table"] == table
    described = dynamodb_local.client().describe_table(TableName=table)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert differences(table_requests(shop.layout, shop.model, table)[0], described) == []
    again = _cli(env, "create-table", model, "--endpoint", endpoint, "--table", table)
    assert again.returncode == 0, again.stderr
    assert "exists with the model's key schema and indexes; nothing to do" in again.stdout


def test_create_table_refuses_a_table_with_other_keys(shop: Any, dynamodb_local: Any) -> None:
    table = f"Other-{uuid.uuid4().hex[:8]}"
    client = dynamodb_local.client()
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    env = _env(dynamodb_local)
    out = _cli(env, "create-table", str(shop.model.file), "--endpoint",
               dynamodb_local.endpoint_url, "--table", table)  # fmt: skip
    assert out.returncode == 2
    assert f"table {table} at {dynamodb_local.endpoint_url} exists but differs" in out.stderr
    request = _requests(shop)
    assert "key schema is id HASH; the model needs " in out.stderr
    for gsi in request["GlobalSecondaryIndexes"]:
        assert f"GSI {gsi['IndexName']} (" in out.stderr


def test_run_create_table_backfills_and_prints_progress_lines_without_a_tty(
    shop: Any, source_db: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(3_000)
    table = f"Created-{uuid.uuid4().hex[:8]}"
    env = _env(dynamodb_local)
    run = _cli(env, "run", str(shop.model.file), "--source", dsn, "--endpoint",
               dynamodb_local.endpoint_url, "--table", table, "--create-table",
               "--chunk-size", "200", "--batch-size", "50",
               "--checkpoint", str(tmp_path / "ckpt"), "--dead-letter", str(tmp_path / "dl"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"created table {table} at {dynamodb_local.endpoint_url}" in run.stderr
    assert f"items written {sum(counts.values())}" in run.stdout
    lines = [x for x in run.stderr.splitlines() if x.startswith("migrate run: ")]
    assert lines, run.stderr  # before: nothing at all when stderr is not a terminal
    chunks = sum(-(-n // 200) for n in counts.values())
    final = lines[-1]
    assert final.startswith(f"migrate run: chunks {chunks}/{chunks}, rows ")
    total = sum(counts.values())
    assert f"rows {total:,}/{total:,} (100.0%), items {total:,}, " in final
    assert "items/s, done in " in final
    assert all(" items/s, ETA " in x for x in lines[:-1])
    assert "\x1b[" not in run.stderr  # no terminal control codes in a log file

    again = _cli(env, "run", str(shop.model.file), "--source", dsn, "--endpoint",
                 dynamodb_local.endpoint_url, "--table", table, "--create-table",
                 "--checkpoint", str(tmp_path / "ckpt"), "--dead-letter", str(tmp_path / "dl"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"table {table} at {dynamodb_local.endpoint_url} exists" in again.stderr
