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
