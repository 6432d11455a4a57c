"""`model migrate export` on PostgreSQL 15 and DynamoDB Local: the files hold exactly the items
`migrate run` writes, they load (through the runner's sink) into a table that `migrate validate
--full` finds complete, and the catch-up pass from the export's marker brings up rows changed
afterwards. With moto: the files go to S3 and `--start` imports them (moto's ImportTable reads
the gzip DynamoDB JSON under the data prefix)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from modeling.cli import app
from modeling.migrate import export as ex
from modeling.migrate.runner import Runner, RunOptions, table_key_names
from modeling.migrate.sink import Sink
from modeling.migrate.validate import validate

HOSTILE = [
    # separators of key templates and JSON/CSV, quotes, backslashes, control characters
    (90_001, "a#b|c\"d'e\\f\tg\nh", "x@example.com"),
    # unicode: astral plane, combining marks, right-to-left, a lone BOM
    (90_002, "Ōtsuka 🚀 é\u0301 \u05e9\u05dc\u05d5\u05dd \ufeff", "ünï@exämple.com"),
    (90_003, "", "empty-name@example.com"),  # an empty (non-key) string
]


def _hostile_rows(dsn: str) -> uuid.UUID:
    """Hostile strings, a NULL-able column left NULL, a poison row (NaN) and a NULL key."""
    oid = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        for cid, name, email in HOSTILE:
            conn.execute(
                "INSERT INTO customers VALUES (%s, %s, %s, 1.5, now(), now())", (cid, email, name)
            )
        conn.execute(
            "INSERT INTO orders VALUES (%s, 90001, 'paid', 10, now(), %s::jsonb, NULL)",
            (oid, json.dumps({"k#|": 'v\n"🚀', "nested": {"a": [1, None, "x"]}})),
        )
        conn.execute("UPDATE customers SET balance = 'NaN' WHERE customer_id = 7")  # poison
        conn.execute("INSERT INTO order_lines VALUES (NULL, 1, 'SKU-NULL', 1, 1.5, '{}')")
    return oid


def _scan(client: Any, table: str) -> dict[str, Any]:
    items: dict[str, Any] = {}
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        for item in page["Items"]:
            items[json.dumps([item["PK"], item["SK"]], sort_keys=True)] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_export_loads_into_dynamodb_local_validates_and_catches_up(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(500)
    _hostile_rows(dsn)
    out = tmp_path / "export"
    dead = tmp_path / "dead.jsonl"
    args = ["migrate", "export", str(shop.model.file), "--source", dsn, "-o", str(out),
            "--chunk-size", "150", "--batch-size", "60", "--file-size-mb", "0.005",
            "--dead-letter", str(dead)]  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    manifest = json.loads((out / ex.MANIFEST).read_text())

    # the manifest describes the files on disk: items, bytes, sha256; files rolled at the cap
    assert len(manifest["files"]) > 2
    lines_total = 0
    for f in manifest["files"]:
        data = (out / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
        plain = gzip.decompress(data)
        assert len(plain) == f["uncompressed_bytes"]
        lines = plain.splitlines()
        assert len(lines) == f["items"]
        assert all(set(json.loads(line)) == {"Item"} for line in lines)
        lines_total += len(lines)
    for f in manifest["files"][:-1]:  # every file but the last reached the 0.005 MB cap
        assert f["bytes"] >= 0.005 * 1024 * 1024
    assert sorted(p.name for p in (out / ex.DATA).iterdir()) == [
        Path(f["file"]).name for f in manifest["files"]
    ]
    source_rows = sum(counts.values()) + len(HOSTILE) + 2  # + the order and the NULL-key line
    assert manifest["totals"]["items"] == lines_total == source_rows - 2  # NaN, NULL key
    assert manifest["totals"]["dead_letters"] == 2
    assert manifest["totals"]["rows_read"] == source_rows
    assert report["marker"] == manifest["marker"] and isinstance(manifest["marker"], int)
    records = [json.loads(line) for line in dead.read_text().splitlines()]
    assert sorted((r["entity"], r["reason"].split(":")[0]) for r in records) == [
        ("Customer", "InvalidValue"),
        ("LineItem", "NULL key"),
    ]
    assert report["import_request"]["InputFormat"] == "DYNAMODB_JSON"
    assert json.loads((out / ex.REQUEST).read_text()) == report["import_request"]
    # the human report: counts, the request, the follow-ups and the catch-up command
    human = CliRunner().invoke(
        app, ["migrate", "export", str(shop.model.file), "--source", dsn, "-o",
              str(tmp_path / "again"), "--dead-letter", str(tmp_path / "again.jsonl")],
    )  # fmt: skip
    assert human.exit_code == 0, human.output
    assert f"total: {lines_total} items" in human.stdout
    assert '"InputFormat": "DYNAMODB_JSON"' in human.stdout
    # its own plan, so its own marker (not older than the first export's)
    marker = re.search(r"--catch-up-only (\d+) --sweep-orphans", human.stdout)
    assert marker is not None and int(marker.group(1)) >= manifest["marker"]
    assert "update_continuous_backups" in human.stdout  # what ImportTable cannot set

    # load the files into DynamoDB Local through the runner's sink (no ImportTable there)
    client = dynamodb_local.client()
    imported = make_table()
    sink = Sink(client, imported, table_key_names(shop.layout), shop.module.item_size)
    loaded = ex.load_export(out, sink)
    assert loaded.items == lines_total and loaded.files == len(manifest["files"])
    full = validate(
        shop.model, shop.layout, dsn, client, None, imported, dead_letter=dead, module=shop.module
    )
    assert full.ok, full.markdown()
    totals = full.totals()
    assert totals["missing"] == 0 and totals["mismatched"] == 0 and totals["excused"] == 2

    # the same items as `migrate run` writes, attribute for attribute (versions included)
    backfilled = make_table()
    Runner(
        shop.model, shop.layout, dsn, client, tmp_path / "ckpt-run",
        RunOptions(progress=False, dead_letter=tmp_path / "run-dead.jsonl", catch_up=False),
        backfilled, shop.module,
    ).run()  # fmt: skip
    assert _scan(client, imported) == _scan(client, backfilled)
    hostile = _scan(client, imported)
    names = {i["full_name"]["S"] for i in hostile.values() if "full_name" in i}
    assert {name for _, name, _ in HOSTILE} <= names

    # rows changed after the export: the catch-up pass from the marker brings them up; rows
    # deleted, or whose key changed, leave their imported item: the orphan sweep removes it
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE customers SET full_name = 'changed #|🚀' WHERE customer_id = 1")
        conn.execute(
            "INSERT INTO orders VALUES (%s, 2, 'pending', 3, now(), '{}'::jsonb, 'late')",
            (uuid.uuid4(),),
        )
        conn.execute("DELETE FROM customers WHERE customer_id = 5")
        line = conn.execute(
            "SELECT order_id, line_no FROM order_lines WHERE order_id IS NOT NULL LIMIT 1"
        ).fetchone()
        assert line is not None
        conn.execute(
            "UPDATE order_lines SET line_no = 999 WHERE order_id = %s AND line_no = %s", line
        )
    stale = validate(
        shop.model, shop.layout, dsn, client, None, imported, dead_letter=dead, module=shop.module
    )
    t = stale.totals()
    assert (t["missing"], t["mismatched"], t["extra"]) == (2, 1, 2), t
    catch_up = RunOptions(
        progress=False, dead_letter=dead, catch_up_only=manifest["marker"], sweep_orphans=True
    )
    done = Runner(
        shop.model, shop.layout, dsn, client, tmp_path / "ckpt", catch_up, imported, shop.module
    ).run()
    assert done.catch_up_written >= 3
    assert done.orphans_removed == 2 and done.orphans_unswept == []
    assert done.orphans_scanned >= lines_total
    again = validate(
        shop.model, shop.layout, dsn, client, None, imported, dead_letter=dead, module=shop.module
    )
    assert again.ok, again.markdown()
    t = again.totals()
    assert (t["missing"], t["mismatched"], t["extra"]) == (0, 0, 0)


def test_export_to_s3_and_start_the_import(
    shop: Any, source_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto: files uploaded under prefix/data/, the manifest beside them (not under the
    prefix ImportTable reads), `--start` creates the table from them with every item."""
    import boto3
    from moto import mock_aws

    dsn, counts = source_db(300)
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="exports")
        args = ["migrate", "export", str(shop.model.file), "--source", dsn,
                "--s3", "s3://exports/shop/2026-12-04", "--file-size-mb", "0.01",
                "--dead-letter", str(tmp_path / "dead.jsonl"), "--table", "ShopImported"]  # fmt: skip
        result = CliRunner().invoke(app, [*args, "--start", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        keys = sorted(
            o["Key"] for o in s3.list_objects_v2(Bucket="exports", Prefix="shop/")["Contents"]
        )
        assert keys == sorted(
            ["shop/2026-12-04/" + ex.MANIFEST]
            + ["shop/2026-12-04/" + f["file"] for f in report["files"]]
        )
        source = report["import_request"]["S3BucketSource"]
        assert source == {"S3Bucket": "exports", "S3KeyPrefix": "shop/2026-12-04/data/"}
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        arn = report["started"]["ImportArn"]
        status = dynamodb.describe_import(ImportArn=arn)["ImportTableDescription"]
        for _ in range(100):
            if status["ImportStatus"] != "IN_PROGRESS":
                break
            status = dynamodb.describe_import(ImportArn=arn)["ImportTableDescription"]
        assert status["ImportStatus"] == "COMPLETED", status
        assert status["ImportedItemCount"] == sum(counts.values()) == report["totals"]["items"]
        assert dynamodb.describe_table(TableName="ShopImported")["Table"]["ItemCount"] == sum(
            counts.values()
        )
        # a second export into the same prefix is refused: ImportTable would read both
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 2
        assert "already holds objects" in again.output


def test_a_key_change_after_the_export_is_a_move_the_sweep_completes(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """ledger: a Payment's table key holds `created_at`, so changing it moves the item (same
    identity, another key). The catch-up writes the new item; the sweep removes the old one
    (its row converts to another key) and leaves every other item alone."""
    dsn, counts = ledger_db(150)
    out = tmp_path / "export"
    options = ex.ExportOptions(progress=False, dead_letter=tmp_path / "dead.jsonl")
    report = ex.Exporter(ledger.model, ledger.layout, dsn, options, module=ledger.module).run(out)
    assert report.items == sum(counts.values())
    client = dynamodb_local.client()
    table = ledger_table()
    sink = Sink(client, table, table_key_names(ledger.layout), ledger.module.item_size)
    ex.load_export(out, sink)
    with psycopg.connect(dsn) as conn:
        moved = conn.execute(
            "UPDATE payments SET created_at = created_at + interval '1 day' "
            "WHERE payment_id = (SELECT payment_id FROM payments ORDER BY 1 LIMIT 1) RETURNING payment_id"
        ).fetchone()
    assert moved is not None
    before = len(_scan(client, table))
    options_run = RunOptions(
        progress=False,
        dead_letter=tmp_path / "dead.jsonl",
        catch_up_only=report.marker,
        sweep_orphans=True,
    )
    done = Runner(
        ledger.model, ledger.layout, dsn, client, tmp_path / "ckpt", options_run, table,
        ledger.module,
    ).run()  # fmt: skip
    assert done.catch_up_written == 1 and done.orphans_removed == 1
    assert len(_scan(client, table)) == before  # one item moved: +1 new, -1 old
    result = validate(ledger.model, ledger.layout, dsn, client, None, table, module=ledger.module)
    assert result.ok, result.markdown()
    assert result.totals()["extra"] == 0
