"""`migrate run --catch-up-only MARKER` on PostgreSQL 15: a marker ahead of the database is
refused. A mistyped marker (one digit too many) made the catch-up pass look for rows changed
at or after a transaction that had not happened: it found none, rewrote nothing, and the run
reported success while every change since the export stayed missing (issue 18)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.migrate.errors import MigrationError
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.versioning import take_marker


def test_a_marker_ahead_of_the_database_is_refused(
    shop: Any, source_db: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, _ = source_db(20)
    with psycopg.connect(dsn, autocommit=True) as conn:
        now = take_marker(conn)
    client = dynamodb_local.client()

    def run(marker: int) -> Any:
        options = RunOptions(progress=False, catch_up_only=marker)
        return Runner(
            shop.model, shop.layout, dsn, client, tmp_path / f"ckpt{marker}", options,
            "never-written", shop.module,
        ).run()  # fmt: skip

    with pytest.raises(MigrationError, match=f"ahead of the source database.*{now}"):
        run(now * 10 + 7)  # the marker with a digit too many
    with pytest.raises(MigrationError, match="ahead"):
        run((now + 1000) % 2**32)
