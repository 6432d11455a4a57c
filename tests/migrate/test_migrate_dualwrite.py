"""The dual-write repository: the flags walked in order, and a concurrent writer during the
backfill leaving 0 stale items (real PostgreSQL and DynamoDB Local)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate


def _pg_name(dsn: str, cid: int) -> str | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT full_name FROM customers WHERE customer_id = %s", (cid,)
        ).fetchone()
    return None if row is None else row[0]


def _ddb_item(client: Any, table: str, cid: int) -> dict[str, Any] | None:
    got = client.scan(
        TableName=table,
        FilterExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"N": str(cid)}},
    )["Items"]
    return got[0] if got else None


def _customer(cid: int, name: str) -> dict[str, Any]:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return {
        "customer_id": cid,
        "email": f"c{cid}@x.example",
        "full_name": name,
        "balance": 5,
        "created_at": now,
        "updated_at": now,
    }


def test_the_three_flags_walked_in_order_send_reads_and_writes_where_each_phase_says(
    generated_package: Any, source_db: Any, make_table: Any, dynamodb_local: Any, caplog: Any
) -> None:
    repo_mod = generated_package
    dsn, _ = source_db(50)
    table = make_table()
    client = dynamodb_local.client()
    conn = psycopg.connect(dsn, autocommit=True)
    Flags = repo_mod.Flags

    def repo(**flags: bool) -> Any:
        return repo_mod.Repository(conn, client, Flags.from_config(flags), table_name=table)

    # phase 0: PostgreSQL only
    r0 = repo()
    r0.insert("Customer", _customer(9001, "zero"))
    assert _pg_name(dsn, 9001) == "zero" and _ddb_item(client, table, 9001) is None
    assert r0.get("Customer", {"customer_id": 9001})["full_name"] == "zero"

    # phase 1: writeToBothDatabases; reads still from PostgreSQL
    r1 = repo(writeToBothDatabases=True)
    r1.update("Customer", {"customer_id": 9001}, {"full_name": "one"})
    item = _ddb_item(client, table, 9001)
    assert _pg_name(dsn, 9001) == "one" and item is not None
    assert item["full_name"] == {"S": "one"} and int(item["_version"]["N"]) > 0
    client.update_item(  # make the stores differ to see which one a read uses
        TableName=table,
        Key={"PK": item["PK"], "SK": item["SK"]},
        UpdateExpression="SET full_name = :n",
        ExpressionAttributeValues={":n": {"S": "only-in-dynamodb"}},
    )
    assert r1.get("Customer", {"customer_id": 9001})["full_name"] == "one"
    shadow = repo(writeToBothDatabases=True, shadowRead=True)
    with caplog.at_level(logging.WARNING):
        assert shadow.get("Customer", {"customer_id": 9001})["full_name"] == "one"
    assert shadow.shadow_mismatches == 1
    assert "full_name" in caplog.text and "shadow read" in caplog.text

    # phase 2: + readFromNewDatabase; writes still to both
    r2 = repo(writeToBothDatabases=True, readFromNewDatabase=True)
    assert r2.get("Customer", {"customer_id": 9001})["full_name"] == "only-in-dynamodb"
    r2.update("Customer", {"customer_id": 9001}, {"full_name": "two"})
    assert _pg_name(dsn, 9001) == "two"
    assert r2.get("Customer", {"customer_id": 9001})["full_name"] == "two"
    in_sync = repo(writeToBothDatabases=True, readFromNewDatabase=True, shadowRead=True)
    in_sync.get("Customer", {"customer_id": 9001})
    assert in_sync.shadow_mismatches == 0

    # phase 3: writeToNewDatabase; PostgreSQL is no longer written
    r3 = repo(writeToNewDatabase=True, readFromNewDatabase=True)
    r3.update("Customer", {"customer_id": 9001}, {"full_name": "three"})
    r3.put("Customer", _customer(9002, "new-only"))
    assert _pg_name(dsn, 9001) == "two" and _pg_name(dsn, 9002) is None
    assert r3.get("Customer", {"customer_id": 9001})["full_name"] == "three"
    assert r3.get("Customer", {"customer_id": 9002})["full_name"] == "new-only"
    conn.close()


@pytest.fixture
def flags_cls(generated_package: Any) -> Any:
    return generated_package.Flags


def test_flags_from_env_and_invalid_combinations(flags_cls: Any) -> None:
    env = {"MODEL_WRITE_TO_BOTH_DATABASES": "1", "MODEL_READ_FROM_NEW_DATABASE": "true"}
    f = flags_cls.from_env(env)
    assert (f.write_to_both, f.read_from_new, f.write_to_new) == (True, True, False)
    assert f.writes_postgres and f.writes_dynamodb and f.reads_dynamodb
    with pytest.raises(ValueError, match="readFromNewDatabase needs"):
        flags_cls.from_config({"readFromNewDatabase": True})
    with pytest.raises(ValueError, match="unknown flags"):
        flags_cls.from_config({"writeToBothDatabase": True})
    # the version column is the repository's (version_column= / MODEL_VERSION_COLUMN), not a flag:
    # a config carrying it would be silently ignored, so it is refused
    with pytest.raises(ValueError, match="unknown flags"):
        flags_cls.from_config({"versionColumn": "updated_at"})
    assert not flags_cls.from_env({}).writes_dynamodb


def test_concurrent_writer_through_the_repository_leaves_no_stale_items(
    shop: Any,
    generated_package: Any,
    source_db: Any,
    make_table: Any,
    dynamodb_local: Any,
    tmp_path: Path,
) -> None:
    dsn, counts = source_db(8_000)
    table = make_table()
    client = dynamodb_local.client()
    flags = generated_package.Flags.from_config({"writeToBothDatabases": True})
    app_conn = psycopg.connect(dsn, autocommit=True)
    repo = generated_package.Repository(app_conn, client, flags, table_name=table)
    lock = threading.Lock()
    raced: list[int] = []

    def app_update(cid: int, rng: random.Random) -> None:
        with lock:
            repo.update(
                "Customer",
                {"customer_id": cid},
                {"full_name": f"renamed {rng.random():.9f}", "updated_at": dt.datetime.now(dt.UTC)},
            )

    def after_read(entity: str, rows: list[dict[str, Any]]) -> None:
        # the race, made certain: the app updates rows the backfill has read but not written
        if entity == "Customer":
            rng = random.Random(len(raced))
            for row in rows[::25]:
                app_update(row["customer_id"], rng)
                raced.append(row["customer_id"])

    stop = threading.Event()

    def background_writer() -> None:  # and random updates all along the backfill
        rng = random.Random(7)
        while not stop.is_set():
            app_update(rng.randrange(1, counts["Customer"] + 1), rng)

    writer = threading.Thread(target=background_writer)
    writer.start()
    try:
        options = RunOptions(
            progress=False, chunk_size=1_000, concurrency=3, catch_up=False, after_read=after_read
        )
        Runner(
            shop.model, shop.layout, dsn, client, tmp_path / "ckpt", options, table, shop.module
        ).run()
    finally:
        stop.set()
        writer.join()
    assert len(raced) >= counts["Customer"] // 25

    # without the catch-up pass the backfill's BatchWriteItem left older versions behind
    before = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert before.entities["Customer"].stale >= len(raced) // 2

    # the catch-up pass (the run resumed: every chunk skipped) rewrites them conditionally
    options = RunOptions(progress=False, chunk_size=1_000, concurrency=3)
    report = Runner(
        shop.model, shop.layout, dsn, client, tmp_path / "ckpt", options, table, shop.module
    ).run()
    assert sum(e.chunks_skipped for e in report.entities.values()) > 0
    assert report.catch_up_written >= before.entities["Customer"].stale
    after = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert after.ok, after.markdown()
    assert after.totals()["stale"] == 0 and after.totals()["mismatched"] == 0
    assert after.totals()["checked"] == sum(counts.values())
    with app_conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT count(*) AS n FROM customers WHERE full_name LIKE 'renamed %%'")
        assert cur.fetchone()["n"] > 0
    app_conn.close()
