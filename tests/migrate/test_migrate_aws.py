"""AWS mode: the generated publisher and worker Lambdas in-process (moto S3/SQS, the real
PostgreSQL and DynamoDB Local) and the stack (cfn-lint, least privilege)."""

from __future__ import annotations

import importlib
import json
import math
import uuid
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import ClientError
from cfnlint.api import ManualArgs, lint
from generated_pkg import write_and_import

from modeling.emit.migration_stack import emit_migration_stack, stack_template
from modeling.emit.transformers import emit_transformers
from modeling.migrate.plan import make_plan, upload_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.verify.dynamo import create_table

ROOT = Path(__file__).resolve().parents[2]


def _import_generated(shop: Any, tmp: Path) -> tuple[Any, Any]:
    files = {
        **emit_transformers(shop.layout, shop.model),
        **emit_migration_stack(shop.layout, shop.model),
    }
    name = write_and_import(files, tmp / "pkg", "_aws")
    return (
        importlib.import_module(f"{name}.migration.publisher"),
        importlib.import_module(f"{name}.migration.worker"),
    )


def _drain(sqs: Any, queue_url: str, worker: Any) -> tuple[int, int]:
    """Feed the queue to the worker as Lambda's event source would; (messages, failures)."""
    seen = failed = 0
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return seen, failed
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"]} for m in got]}
        result = worker.handler(event, None)
        bad = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        failed += len(bad)
        seen += len(got)
        for m in got:
            if m["MessageId"] not in bad:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_publisher_and_worker_move_a_plan_through_sqs_into_the_table(
    shop: Any, source_db: Any, dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    dsn, counts = source_db(3_000)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE customers SET balance = 'NaN' WHERE customer_id = 3")
    plan = make_plan(dsn, shop.model, tmp_path / "plan", chunk_size=400)
    publisher, worker = _import_generated(shop, tmp_path)
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint_url)  # not mocked
    with mock_aws():
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        ddb = boto3.client("dynamodb")  # DynamoDB Local, under moto's credentials
        table = f"ShopMig-{uuid.uuid4().hex[:8]}"
        create_table(ddb, shop.layout, table)
        s3.create_bucket(Bucket="plans-bucket")
        queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
        upload_plan(tmp_path / "plan", "s3://plans-bucket/runs/one")
        monkeypatch.setenv("QUEUE_URL", queue_url)
        monkeypatch.setenv("DSN", dsn)
        monkeypatch.setenv("IDS_PER_MESSAGE", "150")
        monkeypatch.setenv("TABLE_NAME", table)
        monkeypatch.setenv("DEAD_LETTER_BUCKET", "plans-bucket")

        out = publisher.handler({"bucket": "plans-bucket", "prefix": "runs/one"}, None)
        expected = sum(math.ceil(c.rows / 150) for c in plan.chunks())
        assert out["messages"] == expected
        assert out["send_calls"] == sum(
            math.ceil(math.ceil(c.rows / 150) / 10) for c in plan.chunks()
        )  # SendMessageBatch of 10 per call, per chunk
        # the marker is the plan's, taken before its keys were listed; the publisher writes
        # nothing to the plan bucket (plan objects are write-once)
        assert out["marker"] == plan.marker and plan.marker is not None and plan.marker > 0
        run = {"marker": out["marker"]}
        with pytest.raises(ClientError):
            s3.head_object(Bucket="plans-bucket", Key="runs/one/run.json")

        seen, failed = _drain(sqs, queue_url, worker)
        assert (seen, failed) == (expected, 0)

        # a partial batch: only the bad message is reported for retry
        good = {"model": "shopmig", "entity": "Customer", "chunk": "x", "keys": [["1"], ["2"]]}
        bad = {"model": "shopmig", "entity": "NoSuchEntity", "chunk": "x", "keys": [["1"]]}
        result = worker.handler(
            {"Records": [{"messageId": "ok-1", "body": json.dumps(good)},
                         {"messageId": "bad-1", "body": json.dumps(bad)}]},
            None,
        )  # fmt: skip
        assert result == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}

        keys = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket="plans-bucket", Prefix="dead-letters/")["Contents"]
        ]
        dead = tmp_path / "dead.jsonl"
        dead.write_bytes(
            b"".join(s3.get_object(Bucket="plans-bucket", Key=k)["Body"].read() for k in keys)
        )
        (record,) = [json.loads(x) for x in dead.read_text().splitlines()]
        assert (
            record["entity"] == "Customer"
            and record["key"] == [3]
            and "balance" in record["reason"]
        )

        # a row changed after the publisher's marker whose newer item never arrived (a lost
        # dual-write race): stale until the catch-up pass runs with the publisher's marker
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE orders SET status = 'shipped', total = total + 1 WHERE ctid = "
                         "(SELECT ctid FROM orders LIMIT 1)")  # fmt: skip
        stale = validate(
            shop.model, shop.layout, dsn, ddb, None, table, dead_letter=dead, module=shop.module
        )
        assert stale.entities["Order"].stale == 1
        options = RunOptions(
            progress=False, catch_up_only=run["marker"], dead_letter=tmp_path / "cu.jsonl"
        )
        report = Runner(
            shop.model, shop.layout, dsn, ddb, tmp_path / "cu", options, table, shop.module
        ).run()
        assert (report.catch_up_rows, report.catch_up_written, report.rows_read) == (1, 1, 0)

        result_v = validate(
            shop.model, shop.layout, dsn, ddb, None, table, dead_letter=dead, module=shop.module
        )
        assert result_v.ok, result_v.markdown()
        assert result_v.totals()["checked"] == sum(counts.values()) - 1


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


@pytest.mark.parametrize(
    "model_file", ["models/orders.yaml", "models/saas.yaml", "tests/migrate/shop.yaml"]
)
def test_stack_is_cfn_lint_clean_and_least_privilege(model_file: str) -> None:
    from modeling.api import load_model
    from modeling.compile import compile_model

    model = load_model(ROOT / model_file)
    layout, _ = compile_model(model)
    assert layout is not None
    files = emit_migration_stack(layout, model)
    matches = lint(files["migration/stack.yaml"], config=ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches if m.rule.severity in ("error", "warning")] == []

    t = stack_template(layout, model)
    res = t["Resources"]
    queue = res["WorkQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DeadLetterQueue", "Arn"]
    }
    for fn in ("PublisherFunction", "WorkerFunction"):
        props = res[fn]["Properties"]
        assert props["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
        assert props["VpcConfig"] == {
            "SubnetIds": {"Ref": "SubnetIds"},
            "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
        }
    # only the worker reads PostgreSQL: the publisher takes the plan's marker, not a new one
    assert res["WorkerFunction"]["Properties"]["Environment"]["Variables"]["DSN_SECRET_ARN"] == {
        "Ref": "DsnSecretArn"
    }
    assert (
        "DSN_SECRET_ARN" not in res["PublisherFunction"]["Properties"]["Environment"]["Variables"]
    )
    assert t["Parameters"]["ReservedConcurrency"]["Default"] == 3
    mapping = res["WorkerEventSource"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for role in ("PublisherRole", "WorkerRole"):
        for statement in _statements(t, role):
            assert statement["Resource"] != "*" and "*" not in json.dumps(statement["Action"])
    worker_actions = {a for s in _statements(t, "WorkerRole") for a in s["Action"]}
    assert (
        "dynamodb:BatchWriteItem" in worker_actions and "dynamodb:DeleteItem" not in worker_actions
    )
    (ddb_statement,) = [
        s for s in _statements(t, "WorkerRole") if s["Action"][0].startswith("dynamodb:")
    ]
    assert "table/${TableName}" in ddb_statement["Resource"]["Fn::Sub"]
