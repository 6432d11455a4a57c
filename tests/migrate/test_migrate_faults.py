"""Faults on the real services: poison rows, throttling and 5xx, `kill -9` and resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from botocore.exceptions import ClientError

from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]


def _runner(shop: Any, dsn: str, client: Any, table: str, tmp: Path, **kw: Any) -> Runner:
    options = RunOptions(progress=False, dead_letter=tmp / "dead.jsonl", **kw)
    return Runner(shop.model, shop.layout, dsn, client, tmp / "ckpt", options, table, shop.module)


def test_poison_rows_are_dead_lettered_with_reasons_and_the_rest_migrates(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(3_000)
    oid = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO order_lines VALUES (NULL, 1, 'SKU-NULL', 1, 1.5, '{}'), "
            "(%s, NULL, 'SKU-NULL2', 1, 1.5, '{}')",
            (oid,),
        )
        conn.execute(
            "INSERT INTO orders VALUES (%s, 1, 'paid', 10, now(), '{}'::jsonb, repeat('x', 500000))",
            (oid,),
        )
        conn.execute("UPDATE customers SET balance = 'NaN' WHERE customer_id IN (7, 8)")
    client = dynamodb_local.client()
    table = make_table()
    report = _runner(shop, dsn, client, table, tmp_path, chunk_size=700).run()

    records = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_entity.setdefault(r["entity"], []).append(r)
    assert sorted(r["key"] for r in by_entity["Customer"]) == [[7], [8]]
    assert all(
        "InvalidValue" in r["reason"] and "balance" in r["reason"] for r in by_entity["Customer"]
    )
    (big,) = by_entity["Order"]
    assert big["key"] == [str(oid)] and big["reason"].startswith("ItemTooLarge")
    assert big["row"]["notes"].endswith("(500000 chars)")  # an excerpt, not the whole value
    nulls = by_entity["LineItem"]
    assert len(nulls) == 2 and all(r["reason"].startswith("NULL key") for r in nulls)
    assert report.dead_letters == 5
    total = sum(counts.values()) + 3  # + the big order and the two NULL-key lines
    assert report.items_written == total - 5 + 0  # the NaN customers were loaded, then poisoned

    # everything else migrated: the poison rows are excused by the dead-letter file only
    excused = validate(
        shop.model,
        shop.layout,
        dsn,
        client,
        None,
        table,
        dead_letter=tmp_path / "dead.jsonl",
        module=shop.module,
    )
    assert excused.ok, excused.markdown()
    assert excused.totals()["excused"] == 5
    strict = validate(shop.model, shop.layout, dsn, client, None, table, module=shop.module)
    assert not strict.ok
    assert strict.entities["Customer"].untransformable == 2


class FlakyClient:
    """A DynamoDB client whose BatchWriteItem fails ~20% of the time: throttling or a 5xx
    error (nothing written), or half the items returned as UnprocessedItems."""

    def __init__(self, client: Any, seed: int = 3) -> None:
        self._client = client
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
            roll = self._rng.random()
            if roll < 0.2:
                self.injected += 1
        if roll < 0.07:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "BatchWriteItem",
            )
        if roll < 0.12:
            raise ClientError(
                {
                    "Error": {"Code": "InternalServerError", "Message": "boom"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                "BatchWriteItem",
            )
        if roll < 0.2:
            ((table, requests),) = kwargs["RequestItems"].items()
            half = len(requests) // 2
            if half:
                self._client.batch_write_item(RequestItems={table: requests[:half]})
            return {"UnprocessedItems": {table: requests[half:]}}
        return self._client.batch_write_item(**kwargs)


def test_injected_throttling_and_5xx_lose_nothing_and_retries_are_counted(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(6_000)
    table = make_table()
    flaky = FlakyClient(dynamodb_local.client())
    runner = _runner(shop, dsn, flaky, table, tmp_path, chunk_size=1_000, concurrency=3)
    runner.sink.base_delay = 0.005  # keep the test fast; the backoff shape is unit-tested
    report = runner.run()
    assert flaky.injected >= 0.1 * flaky.calls > 10  # about 20% of the calls failed
    assert report.retries == flaky.injected
    assert report.items_written == sum(counts.values())
    result = validate(
        shop.model, shop.layout, dsn, dynamodb_local.client(), None, table, module=shop.module
    )
    assert result.ok, result.markdown()
    assert result.totals()["checked"] == sum(counts.values())


def _done(ckpt: Path) -> int:
    root = ckpt / "done"
    return len(list(root.rglob("chunk-*.json"))) if root.is_dir() else 0


def test_kill_9_at_several_points_then_resume_leaves_nothing_missing(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = source_db(20_000)
    table = make_table()
    ckpt = tmp_path / "ckpt"
    command = [
        sys.executable, "-m", "modeling.cli", "migrate", "run", str(shop.model.file),
        "--source", dsn, "--endpoint", dynamodb_local.endpoint_url, "--table", table,
        "--checkpoint", str(ckpt), "--chunk-size", "500", "--batch-size", "250",
        "--concurrency", "2", "--max-wcu", "4000", "--dead-letter", str(tmp_path / "dead.jsonl"),
        "--json",
    ]  # fmt: skip
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    n_chunks = (
        -(-counts["Customer"] // 500) + -(-counts["Order"] // 500) + -(-counts["LineItem"] // 500)
    )
    kills = []
    for target in (0, 3, n_chunks // 2):  # at start-up/planning, early, half-way
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while _done(ckpt) <= target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02 if target else 0.3)
            if target == 0:
                break
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills.append(_done(ckpt))
    assert kills[-1] < n_chunks  # really killed half-way, not at the end
    final = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    skipped = sum(e["chunks_skipped"] for e in report["entities"].values())
    done = sum(e["chunks_done"] for e in report["entities"].values())
    assert skipped == kills[-1] > 0
    assert skipped + done == n_chunks
    result = validate(
        shop.model, shop.layout, dsn, dynamodb_local.client(), None, table, module=shop.module
    )
    assert result.ok, result.markdown()
    totals = result.totals()
    assert totals["missing"] == 0 and totals["mismatched"] == 0
    assert totals["checked"] == sum(counts.values())
