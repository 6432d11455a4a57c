"""Operator mistakes against a running migration, on PostgreSQL 15 + DynamoDB Local (issue 18,
the adversarial pass over `migrate run`).

Two runs on one checkpoint directory (a second terminal, a retried CI job): before, both ran;
each skipped the chunks the other had checkpointed and read the other's `run.json`, so the run
that finished last skipped the catch-up pass the first had marked done, while its own late
writes (of rows read before the first one's catch-up) could still replace newer items.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from modeling.migrate.errors import MigrationError
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate


def _runner(shop: Any, dsn: str, client: Any, table: str, ckpt: Path, **kw: Any) -> Runner:
    options = RunOptions(progress=False, dead_letter=ckpt.parent / "dead.jsonl", **kw)
    return Runner(shop.model, shop.layout, dsn, client, ckpt, options, table, shop.module)


def test_a_second_run_on_a_checkpoint_in_use_is_refused(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(200)
    client, table, ckpt = dynamodb_local.client(), make_table(), tmp_path / "ckpt"
    reading, release = threading.Event(), threading.Event()

    def hold(entity: str, rows: list[dict[str, Any]]) -> None:
        reading.set()
        assert release.wait(60)

    first = _runner(
        shop, dsn, client, table, ckpt, concurrency=1, batch_size=50, chunk_size=50, after_read=hold
    )
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(first.run()))
    thread.start()
    try:
        assert reading.wait(60)
        with pytest.raises(MigrationError, match="another `migrate run` is using") as refused:
            _runner(shop, dsn, client, table, ckpt, concurrency=1).run()
        assert "--checkpoint" in (refused.value.hint or "")
    finally:
        release.set()
        thread.join(120)
    assert outcome and outcome[0].items_written == sum(counts.values())
    # once the first run is over the checkpoint is free: the resume finds every chunk done
    again = _runner(shop, dsn, client, table, ckpt, concurrency=1).run()
    assert again.items_written == 0 and all(
        e.chunks_done == 0 and e.chunks_skipped > 0 for e in again.entities.values()
    )
    result = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert result.ok and result.totals()["missing"] == 0, result.markdown()


def test_a_full_disk_under_a_checkpoint_file_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC names no file: before, `atomic_write` (plans, checkpoints, run.json) let an
    OSError without a filename through, which the CLI's path errors cannot place (traceback).
    The old file stays whole and no temporary file is left."""
    import errno
    import os

    from modeling.migrate import plan

    target = tmp_path / "ckpt" / "run.json"
    plan.atomic_write(target, b"{}")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(plan.os, "fsync", full)
    with pytest.raises(MigrationError, match="No space left on device") as refused:
        plan.atomic_write(target, b'{"marker": 5}')
    assert str(target) in str(refused.value) and "free space" in (refused.value.hint or "")
    assert target.read_bytes() == b"{}"
    assert [p.name for p in target.parent.iterdir()] == ["run.json"]


def test_a_full_disk_under_an_export_file_is_a_located_error(tmp_path: Path) -> None:
    """`migrate export` writing its gzip parts onto a full disk (`/dev/full` behind the part's
    name): before, an OSError traceback naming no file."""
    from modeling.migrate.export import PartWriter

    closed: list[Any] = []
    writer = PartWriter(tmp_path, cap=1 << 20, on_close=lambda *a: closed.append(a))
    (tmp_path / "data" / "part-000000.json.gz").symlink_to("/dev/full")
    with pytest.raises(MigrationError, match="No space left on device") as refused:
        for _ in range(2_000):
            writer.write(b'{"Item": {"PK": {"S": "x"}}}\n')
        writer.close()
    assert "part-000000.json.gz" in str(refused.value) and refused.value.hint
    assert closed == []  # the part is never recorded as finished
