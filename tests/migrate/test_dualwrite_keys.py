"""The dual-write repository on an entity whose table key holds more than its identity
(`Payment`: `ACCOUNT#{account_id}` / `PAYMENT#{created_at}#{payment_id}`), on real PostgreSQL
and DynamoDB Local: key changes move the item, every row is addressable by its identity,
deletes are versioned and leave tombstones that no late write can get past, and the runner's
catch-up pass sweeps what its own backfill brought back."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from pathlib import Path
from typing import Any

import ledgerdata
import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from modeling.cli import app
from modeling.migrate import tombstones
from modeling.migrate.audit import audit
from modeling.migrate.runner import Runner, RunOptions

pytestmark = pytest.mark.e2e


def _payment_items(client: Any, table: str, payment_id: Any) -> list[dict[str, Any]]:
    items = client.scan(
        TableName=table,
        FilterExpression="payment_id = :p",
        ExpressionAttributeValues={":p": {"S": str(payment_id)}},
        ConsistentRead=True,
    )["Items"]
    return [i for i in items if "_tombstone" not in i]


def _tombstone_count(client: Any, table: str) -> int:
    return sum(1 for _ in tombstones.tombstones(client, table, ("PK", "SK")))


def _repo(ledger: Any, conn: Any, client: Any, table: str, **flags: bool) -> Any:
    repo = ledger.repository
    return repo.Repository(conn, client, repo.Flags.from_config(flags), table_name=table)


def test_changing_a_sort_key_attribute_moves_the_item_in_one_transaction(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any
) -> None:
    dsn, _ = ledger_db(10)
    table = ledger_table()
    client = dynamodb_local.client()
    with psycopg.connect(dsn, autocommit=True) as conn:
        repo = _repo(ledger, conn, client, table, writeToBothDatabases=True)
        row = ledgerdata.payment(random.Random(5), 2)
        repo.insert("Payment", row)
        before = _payment_items(client, table, row["payment_id"])
        assert len(before) == 1
        later = row["created_at"] + dt.timedelta(days=3)
        stored = repo.update("Payment", {"payment_id": row["payment_id"]}, {"created_at": later})
        assert stored["created_at"] == later
        after = _payment_items(client, table, row["payment_id"])
        # one item for one row, at the new key (before: the old item stayed beside the new one)
        assert len(after) == 1, after
        assert (
            after[0]["SK"] != before[0]["SK"] and later.strftime("%Y-%m-%d") in after[0]["SK"]["S"]
        )
        assert repo.moves == 1 and _tombstone_count(client, table) == 1
        # a late write of the row as it was (its older version, at the old key) cannot come back
        old_version = int(before[0]["_version"]["N"])
        assert repo._write_row("Payment", row, old_version) is False
        assert len(_payment_items(client, table, row["payment_id"])) == 1


def test_get_update_and_delete_by_identity_alone(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any
) -> None:
    dsn, _ = ledger_db(10)
    table = ledger_table()
    client = dynamodb_local.client()
    mod = ledger.repository
    assert mod.FULL_KEY_ATTRIBUTES == {"Payment": ("account_id", "created_at")}
    assert "Payment: account_id, created_at" in mod.__doc__
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = ledgerdata.payment(random.Random(6), 2)
        both = _repo(ledger, conn, client, table, writeToBothDatabases=True)
        both.insert("Payment", row)
        ident = {"payment_id": row["payment_id"]}
        # phase 2 reads DynamoDB: the key attributes come from PostgreSQL (before: MissingValue)
        reader = _repo(
            ledger, conn, client, table, writeToBothDatabases=True, readFromNewDatabase=True
        )
        got = reader.get("Payment", ident)
        assert got is not None and got["amount"] == row["amount"]
        assert reader.update("Payment", ident, {"status": "refunded"})["status"] == "refunded"
        assert reader.get("Payment", ident)["status"] == "refunded"
        # phase 3: PostgreSQL is no longer written; the identity alone is refused, plainly
        new_only = _repo(ledger, conn, client, table, writeToNewDatabase=True)
        with pytest.raises(mod.KeyRequired, match="needs account_id, created_at"):
            new_only.get("Payment", ident)
        full = {**ident, "account_id": row["account_id"], "created_at": row["created_at"]}
        assert new_only.get("Payment", full)["status"] == "refunded"
        # delete by identity: PostgreSQL row and item both gone (before: the item stayed)
        assert reader.delete("Payment", ident) is True
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM payments WHERE payment_id = %s", (row["payment_id"],))
            assert cur.fetchone() == (0,)
        assert _payment_items(client, table, row["payment_id"]) == []
        assert reader.get("Payment", ident) is None
        assert reader.delete("Payment", ident) is False


class _Gate:
    """A DynamoDB client whose next write waits until released: a dual write landing late."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.armed = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if name not in ("put_item", "transact_write_items", "delete_item"):
            return attr

        def call(**kwargs: Any) -> Any:
            if self.armed.is_set():
                self.armed.clear()
                self.holding.set()
                assert self.release.wait(30)
            return attr(**kwargs)

        return call


@pytest.mark.parametrize("late", ["update", "key change"])
def test_a_late_dual_write_cannot_bring_a_deleted_row_back(
    late: str, ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any
) -> None:
    dsn, _ = ledger_db(10)
    table = ledger_table()
    client = dynamodb_local.client()
    gate = _Gate(client)
    row = ledgerdata.payment(random.Random(7), 2)
    ident = {"payment_id": row["payment_id"]}
    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
        slow = _repo(ledger, a, gate, table, writeToBothDatabases=True)
        fast = _repo(ledger, b, client, table, writeToBothDatabases=True)
        fast.insert("Payment", row)
        change = (
            {"status": "captured"}
            if late == "update"
            else {"created_at": row["created_at"] + dt.timedelta(hours=1)}
        )
        gate.armed.set()
        writer = threading.Thread(target=slow.update, args=("Payment", ident, change))
        writer.start()
        assert gate.holding.wait(30)  # the update committed in PostgreSQL, its item not yet
        assert fast.delete("Payment", ident) is True  # PostgreSQL and DynamoDB
        gate.release.set()  # now the update's DynamoDB write lands, after the delete
        writer.join()
    # before: the unconditional delete left no trace and the late put recreated the item
    assert _payment_items(client, table, row["payment_id"]) == []
    assert slow.stale_writes == 1


def test_backfill_writes_after_deletes_and_key_changes_are_swept_by_the_catch_up(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = ledger_db(250)
    table = ledger_table()
    client = dynamodb_local.client()
    app_conn = psycopg.connect(dsn, autocommit=True)
    repo = _repo(ledger, app_conn, client, table, writeToBothDatabases=True)
    deleted: set[tuple[Any, ...]] = set()
    moved: list[Any] = []

    def after_read(entity: str, rows: list[dict[str, Any]]) -> None:
        # the race, made certain: rows the backfill has read but not yet written are deleted
        # or moved to another key by the application
        if entity != "Payment":
            return
        with lock:  # one connection: one application thread at a time
            app_ops(rows)

    lock = threading.Lock()

    def app_ops(rows: list[dict[str, Any]]) -> None:
        for i, r in enumerate(rows[::7]):
            ident = {"payment_id": r["payment_id"]}
            if i % 2:
                repo.delete("Payment", ident)
                deleted.add((r["payment_id"],))
            else:
                repo.update(
                    "Payment", ident, {"created_at": r["created_at"] + dt.timedelta(days=1)}
                )
                moved.append(r["payment_id"])

    run = lambda **kw: Runner(  # noqa: E731
        ledger.model,
        ledger.layout,
        dsn,
        client,
        tmp_path / "ckpt",
        RunOptions(progress=False, chunk_size=100, concurrency=2, **kw),
        table,
        ledger.module,
    ).run()
    run(catch_up=False, after_read=after_read)
    assert deleted and moved
    before = audit(
        ledger.model, ledger.layout, ledger.module, dsn, client, table, {"Payment": deleted}
    )
    # the backfill's BatchWriteItem brought deleted rows back and left moved rows' old keys
    assert before.resurrected == len(deleted) and before.orphaned == len(moved), before.examples
    report = run()  # resumed: every chunk done, the catch-up pass and its sweep run
    assert report.tombstones == len(deleted) + len(moved)
    assert report.stale_removed == len(deleted) + len(moved)
    after = audit(
        ledger.model, ledger.layout, ledger.module, dsn, client, table, {"Payment": deleted}
    )
    assert after.ok, after.as_dict()
    assert after.rows == sum(counts.values()) - len(deleted) == after.items
    assert after.tombstones == len(deleted) + len(moved)
    with app_conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT count(*) AS n FROM payments")
        assert cur.fetchone()["n"] == counts["Payment"] - len(deleted)
    app_conn.close()

    # after the cutover the tombstones are purged by a documented command
    models = str(ledgerdata.MODEL)
    endpoint = dynamodb_local.endpoint_url
    cli = CliRunner()
    args = ["migrate", "tombstones", "purge", models, "--endpoint", endpoint, "--table", table]
    dry = cli.invoke(app, [*args, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) == {"deleted": 0, "table": table, "tombstones": after.tombstones}
    assert _tombstone_count(client, table) == after.tombstones
    done = cli.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"{after.tombstones} tombstone(s) deleted" in done.stdout
    assert _tombstone_count(client, table) == 0
    final = audit(
        ledger.model, ledger.layout, ledger.module, dsn, client, table, {"Payment": deleted}
    )
    assert final.ok and final.tombstones == 0 and final.items == after.items


def test_phase_3_finds_the_item_by_identity_through_a_lookup_pattern(
    ledger_db: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """With a pattern that reads Payment by `payment_id`, the repository addresses it by
    identity alone after the cutover: get, update (a key change included) and delete."""
    import importlib

    from generated_pkg import write_and_import

    from modeling.api import load_model
    from modeling.compile import compile_model
    from modeling.emit.client import emit_client
    from modeling.emit.repository import emit_repository
    from modeling.emit.transformers import emit_transformers
    from modeling.verify.dynamo import create_table

    text = ledgerdata.MODEL.read_text(encoding="utf-8")
    text += (
        '  payment_by_id:\n    entity: Payment\n    where: {payment_id: "="}\n    unique: true\n'
    )
    (tmp_path / "ledger.yaml").write_text(text, encoding="utf-8")
    model = load_model(tmp_path / "ledger.yaml")
    layout, diags = compile_model(model)
    assert layout is not None, diags.sorted()
    assert not [d for d in diags if d.code == "identity-needs-key-attributes"]
    files = {
        **emit_transformers(layout, model),
        **emit_repository(layout, model),
        **emit_client(layout, model),
    }
    name = write_and_import(files, tmp_path / "pkg", "_ledger_lookup")
    mod = importlib.import_module(f"{name}.repository")
    assert mod.IDENTITY_LOOKUPS == {"Payment": ("payment_by_id", {"payment_id": "payment_id"})}
    dsn, _ = ledger_db(4)
    table = f"LedgerLookup-{tmp_path.name[-8:]}"
    client = dynamodb_local.client()
    create_table(client, layout, table)
    with psycopg.connect(dsn, autocommit=True) as conn:
        flags = mod.Flags.from_config({"writeToNewDatabase": True})
        repo = mod.Repository(conn, client, flags, table_name=table)
        row = ledgerdata.payment(random.Random(9), 2)
        repo.insert("Payment", row)
        ident = {"payment_id": row["payment_id"]}
        # before: KeyRequired ("needs account_id, created_at")
        got = repo.get("Payment", ident)
        assert got is not None and got["amount"] == row["amount"]
        later = row["created_at"] + dt.timedelta(hours=5)
        assert repo.update("Payment", ident, {"created_at": later})["created_at"] == later
        assert repo.moves == 1
        assert repo.get("Payment", ident)["created_at"] == later
        assert len(_payment_items(client, table, row["payment_id"])) == 1
        assert repo.delete("Payment", ident) is True
        assert _payment_items(client, table, row["payment_id"]) == []
        assert repo.get("Payment", ident) is None
        assert repo.delete("Payment", ident) is False
        # a payment that never existed: not found, not an error
        assert (
            repo.get(
                "Payment", {"payment_id": ledgerdata.payment(random.Random(1), 1)["payment_id"]}
            )
            is None
        )
