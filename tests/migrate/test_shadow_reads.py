"""Shadow reads for any access pattern (issue 15 item 4): the repository reads a pattern from
the store the phase says and, for a sampled share of reads, from the other one too, counting
mismatches per pattern and logging the first differences (PostgreSQL 15, DynamoDB Local)."""

from __future__ import annotations

import logging
import random
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.migrate.runner import Runner, RunOptions

pytestmark = pytest.mark.e2e


def _pg_payments(conn: Any, account_id: int) -> list[dict[str, Any]]:
    """The application's existing query for `payments_of_account`."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT * FROM payments WHERE account_id = %s ORDER BY created_at, payment_id",
            (account_id,),
        )
        return cur.fetchall()


def test_shadow_reads_compare_any_pattern_at_a_sample_rate(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any, tmp_path: Any, caplog: Any
) -> None:
    dsn, counts = ledger_db(200)
    table = ledger_table()
    ddb = dynamodb_local.client()
    options = RunOptions(progress=False, chunk_size=1_000, concurrency=1)
    Runner(
        ledger.model, ledger.layout, dsn, ddb, tmp_path / "c", options, table, ledger.module
    ).run()
    client = ledger.client.Client(table, ddb)
    mod = ledger.repository
    flags = mod.Flags.from_config({"writeToBothDatabases": True, "shadowRead": True})
    with psycopg.connect(dsn, autocommit=True) as conn:
        repo = mod.Repository(conn, ddb, flags, table_name=table, shadow_rate=1.0)
        accounts = range(1, counts["Account"] + 1)
        for a in accounts:  # a query pattern, an ordered list of rows from each store
            rows = repo.read(
                "payments_of_account",
                lambda a=a: client.payments_of_account(a, consistent_read=True),
                lambda a=a: _pg_payments(conn, a),
            )
            assert [r["account_id"] for r in rows] == [a] * len(rows)
        stats = repo.shadow_stats["payments_of_account"]
        assert stats == {"reads": len(accounts), "compared": len(accounts), "mismatches": 0}

        # the stores drift: an amount changed in DynamoDB only, a payment gone from it
        victim, gone = _pg_payments(conn, 1)[:2]
        key = ledger.module.payment_table_key
        ddb.update_item(
            TableName=table,
            Key=key(victim),
            UpdateExpression="SET amount = :a",
            ExpressionAttributeValues={":a": {"N": "123456.78"}},
        )
        ddb.delete_item(TableName=table, Key=key(gone))
        with caplog.at_level(logging.WARNING):
            repo.read(
                "payments_of_account",
                lambda: client.payments_of_account(1, consistent_read=True),
                lambda: _pg_payments(conn, 1),
            )
        assert repo.shadow_stats["payments_of_account"]["mismatches"] == 1
        assert f"{victim['payment_id']}') differs in amount" in caplog.text
        assert f"{gone['payment_id']}') missing in DynamoDB" in caplog.text
        # get goes through the same machinery (its own pattern name)
        assert repo.get("Payment", {"payment_id": gone["payment_id"]}) is not None
        assert repo.shadow_stats["get:Payment"]["mismatches"] == 1

        # a sample rate: only that share of reads also reads the other store
        sampled = mod.Repository(
            conn, ddb, flags, table_name=table, shadow_rate=0.25, rng=random.Random(4)
        )
        for _ in range(200):
            sampled.read(
                "payments_of_account",
                lambda: client.payments_of_account(2),
                lambda: _pg_payments(conn, 2),
            )
        s = sampled.shadow_stats["payments_of_account"]
        assert s["reads"] == 200 and 30 <= s["compared"] <= 70 and s["mismatches"] == 0
        off = mod.Repository(conn, ddb, flags, table_name=table, shadow_rate=0.0)
        off.read(
            "payments_of_account",
            lambda: client.payments_of_account(2),
            lambda: _pg_payments(conn, 2),
        )
        assert off.shadow_stats["payments_of_account"]["compared"] == 0
        with pytest.raises(mod.ConfigurationError, match="between 0 and 1"):
            mod.Repository(conn, ddb, flags, table_name=table, shadow_rate=2.0)
