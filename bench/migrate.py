"""Items/s of `model migrate run` vs the naive method vs a bare BatchWriteItem loop; peak RSS.

Run: .venv/bin/python bench/migrate.py [--rows 100000] [--big-rows 1000000] [--naive-rows 5000]
     [--concurrency 4] [--segments 8]

Everything in one run against the same throwaway PostgreSQL and DynamoDB Local (started here):

  runner   `model migrate run` as a subprocess (plan + backfill + catch-up), items/s from its
           JSON report; peak RSS of that subprocess (its VmHWM, polled) at --rows and --big-rows
  naive    one SELECT and one PutItem per ID, 3 threads (what the issue calls the naive
           method), over --naive-rows keys of the same data spread evenly over every entity in
           proportion to its rows (it is slow; a sample of its rate is enough)
  ceiling  a bare BatchWriteItem loop (25 per call, no reads, no conversion) over items
           prebuilt from the same rows: the target's own limit. Measured twice, through
           boto3 and through the runner's wire client, each with as many requests in flight
           as the runner keeps (4 x --concurrency); `vs ceiling` divides by the faster one
  validate `model migrate validate --full` as a subprocess on the runner's table (parallel
           Scan, --segments, and a server-side cursor), items/s = items checked / its seconds

Each writer gets its own empty table, after a warm-up write of the data to a scratch table
(DynamoDB Local's JVM is several times slower on its first writes). Ends with `vs naive: N.Nx` (runner/naive, goal >= 10x),
`vs ceiling: N.Nx` (runner/ceiling, goal >= 0.8x), `validate vs run: N.Nx` (validate --full /
runner at --rows, goal >= 0.8x) and `peak RSS 100k/1M: A MB / B MB`. Pass
smaller --big-rows on a small machine; the output then says which sizes were measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "migrate"))

import shopdata  # noqa: E402

from modeling.api import load_model  # noqa: E402
from modeling.compile import compile_model  # noqa: E402
from modeling.core.limits import BATCH_WRITE_ITEMS  # noqa: E402
from modeling.extraction import extraction_queries  # noqa: E402
from modeling.migrate import transformers  # noqa: E402
from modeling.migrate.plan import make_plan, read_chunk  # noqa: E402
from modeling.migrate.sink import client_config  # noqa: E402
from modeling.migrate.source import EntityReader, Source  # noqa: E402
from modeling.migrate.versioning import version_sources  # noqa: E402
from modeling.migrate.wire import WireClient  # noqa: E402
from modeling.services import (  # noqa: E402
    DYNAMODB_ACCESS_KEY,
    DYNAMODB_REGION,
    DYNAMODB_SECRET_KEY,
    DynamoDBLocal,
    PostgresCluster,
)
from modeling.verify.dynamo import create_table  # noqa: E402


def _new_table(client: Any, layout: Any) -> str:
    name = f"Bench-{uuid.uuid4().hex[:8]}"
    create_table(client, layout, name)
    return name


def run_runner(
    dsn: str, endpoint: str, table: str, concurrency: int, work: Path
) -> tuple[dict[str, Any], float]:
    """`model migrate run` as a subprocess: (its JSON report, its peak RSS in MB)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    command = [
        sys.executable, "-m", "modeling.cli", "migrate", "run", str(shopdata.MODEL),
        "--source", dsn, "--endpoint", endpoint, "--table", table,
        "--checkpoint", str(work / "ckpt"), "--dead-letter", str(work / "dead.jsonl"),
        "--concurrency", str(concurrency), "--json",
    ]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    out, err = work / "report.json", work / "stderr.txt"
    peak_kb = 0
    with out.open("wb") as fh, err.open("wb") as eh:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=eh)
        while proc.poll() is None:
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(f"model migrate run failed:\n{err.read_text()[-3000:]}")
    return json.loads(out.read_text()), peak_kb / 1024


def run_validate(
    dsn: str, endpoint: str, table: str, segments: int, work: Path
) -> tuple[dict[str, Any], float]:
    """`model migrate validate --full` as a subprocess on the runner's table: (its JSON report,
    its peak RSS in MB)."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    command = [
        sys.executable, "-m", "modeling.cli", "migrate", "validate", str(shopdata.MODEL),
        "--source", dsn, "--endpoint", endpoint, "--table", table, "--full",
        "--segments", str(segments), "--json",
    ]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    out, err = work / "validation.json", work / "validate-stderr.txt"
    peak_kb = 0
    with out.open("wb") as fh, err.open("wb") as eh:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=fh, stderr=eh)
        while proc.poll() is None:
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(
            f"model migrate validate failed (exit {proc.returncode}):\n"
            f"{out.read_text()[-2000:]}\n{err.read_text()[-3000:]}"
        )
    report: dict[str, Any] = json.loads(out.read_text())
    return report, peak_kb / 1024


def _hwm_kb(pid: int) -> int:
    """The process's own peak RSS (VmHWM), 0 once it has exited.

    Not `wait4`'s ru_maxrss: that survives execve, so a child forked from this (large)
    benchmark process would report the parent's size.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _boto_client(ddb: Any, pool: int) -> Any:
    import boto3

    return boto3.client("dynamodb", **{**ddb.client_kwargs(), "config": client_config(pool)})


def _wire_client(ddb: Any, pool: int) -> Any:
    """The runner's BatchWriteItem path (botocore's signer, no serializer) to DynamoDB Local."""
    from botocore.credentials import Credentials

    return WireClient(
        ddb.client(),
        Credentials(DYNAMODB_ACCESS_KEY, DYNAMODB_SECRET_KEY),
        max_pool_connections=pool,
    )


def naive_sample(dsn: str, model: Any, n: int, work: Path) -> list[tuple[str, tuple[str, ...]]]:
    """About n keys spread evenly over every entity, in proportion to its rows (the same mix
    of small and large items the runner writes)."""
    plan = make_plan(dsn, model, work)
    total = sum(e.count for e in plan.entities.values())
    picked: list[tuple[str, tuple[str, ...]]] = []
    for name, ep in plan.entities.items():
        keys = [k for c in ep.chunks for k in read_chunk(work, c)]
        want = max(1, round(n * ep.count / total)) if keys else 0
        step = max(1, len(keys) // want) if want else 1
        picked += [(name, k) for k in keys[::step][:want]]
    return picked


def run_naive(
    dsn: str, client: Any, table: str, model: Any, module: Any, ids: list[tuple[str, Any]]
) -> float:
    """One SELECT and one PutItem per ID, 3 threads."""
    versions = version_sources(model, None)
    readers = {e.name: EntityReader.build(model, e.name, versions[e.name]) for e in model.entities}
    local = threading.local()
    sources: list[Source] = []
    lock = threading.Lock()
    written = 0

    def one(job: tuple[str, tuple[Any, ...]]) -> None:
        nonlocal written
        if not hasattr(local, "source"):
            local.source = Source(dsn, readers)
            with lock:
                sources.append(local.source)
        entity, key = job
        for row, version in local.source.rows_by_keys(entity, [key]):
            item = module.TO_ITEM[entity](row)
            item["_version"] = {"N": str(version)}
            client.put_item(TableName=table, Item=item)
            with lock:
                written += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(one, ids))
    seconds = time.perf_counter() - started
    for s in sources:
        s.close()
    if written != len(ids):
        raise SystemExit(f"naive: {written} of {len(ids)} sampled keys were written")
    return written / seconds


def run_ceiling(
    dsn: str, client: Any, table: str, model: Any, module: Any, concurrency: int
) -> tuple[int, float]:
    """A bare BatchWriteItem loop over prebuilt items (built before the clock starts)."""
    import psycopg
    from psycopg.rows import dict_row

    items: list[dict[str, Any]] = []
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        for e in model.entities:
            q = extraction_queries(model, e.name)
            with conn.cursor(name=f"bench_{e.name.lower()}") as cur:
                cur.execute(q.first_page, {"limit": None})  # LIMIT NULL: every row
                for row in cur:
                    item = module.TO_ITEM[e.name](row)
                    item["_version"] = {"N": "1"}
                    items.append(item)
    batches = [items[i : i + BATCH_WRITE_ITEMS] for i in range(0, len(items), BATCH_WRITE_ITEMS)]

    def write(batch: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": it}} for it in batch]
        while requests:
            resp = client.batch_write_item(RequestItems={table: requests})
            requests = resp.get("UnprocessedItems", {}).get(table, [])

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(write, batches))
    return len(items), len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--segments", type=int, default=8, help="validate --full segments")
    args = parser.parse_args()

    model = load_model(shopdata.MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    module = transformers.generate(layout, model)
    with (
        PostgresCluster() as pg,
        DynamoDBLocal(max_heap="6g") as ddb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        client = ddb.client()
        print(f"loading {args.rows} rows ...", flush=True)
        dsn = pg.create_database()
        shopdata.load(dsn, args.rows)

        # warm-up (not counted): the JVM behind DynamoDB Local runs its first writes slowly
        warm = _new_table(client, layout)
        run_ceiling(dsn, client, warm, model, module, args.concurrency)
        client.delete_table(TableName=warm)

        small_table = _new_table(client, layout)
        report, rss_small = run_runner(
            dsn, ddb.endpoint_url, small_table, args.concurrency, Path(tmp) / "small"
        )
        runner_rate = report["items_written"] / report["seconds"]
        print(
            f"runner:  {report['items_written']} items in {report['seconds']:.1f} s = {runner_rate:,.0f} items/s"
            f" (concurrency {args.concurrency}, retries {report['retries']}), peak RSS {rss_small:.0f} MB"
        )
        checked, rss_validate = run_validate(
            dsn, ddb.endpoint_url, small_table, args.segments, Path(tmp) / "small"
        )
        validate_rate = checked["totals"]["checked"] / checked["seconds"]
        print(
            f"validate: {checked['totals']['checked']} items in {checked['seconds']:.1f} s ="
            f" {validate_rate:,.0f} items/s (--full, {args.segments} Scan segments),"
            f" peak RSS {rss_validate:.0f} MB"
        )

        sample = naive_sample(dsn, model, args.naive_rows, Path(tmp) / "naive-plan")
        naive_rate = run_naive(dsn, client, _new_table(client, layout), model, module, sample)
        mix = ", ".join(
            f"{sum(1 for e, _ in sample if e == x.name)} {x.name}" for x in model.entities
        )
        print(
            f"naive:   {naive_rate:,.0f} items/s (one SELECT + one PutItem per ID, 3 threads,"
            f" {len(sample)} IDs: {mix})"
        )

        in_flight = 4 * args.concurrency  # the runner's default --write-concurrency
        ceilings = {}
        for label, writer in (
            ("boto3", _boto_client(ddb, in_flight)),
            ("wire", _wire_client(ddb, in_flight)),
        ):
            n, ceilings[label] = run_ceiling(
                dsn, writer, _new_table(client, layout), model, module, in_flight
            )
            print(
                f"ceiling: {n} prebuilt items = {ceilings[label]:,.0f} items/s"
                f" (bare BatchWriteItem through {label}, {in_flight} threads)"
            )
        ceiling_rate = max(ceilings.values())

        rss_big = None
        if args.big_rows:
            ddb_big = ddb  # same DynamoDB Local; a fresh database for the rows
            print(f"loading {args.big_rows} rows ...", flush=True)
            dsn_big = pg.create_database()
            shopdata.load(dsn_big, args.big_rows)
            big, rss_big = run_runner(
                dsn_big,
                ddb_big.endpoint_url,
                _new_table(client, layout),
                args.concurrency,
                Path(tmp) / "big",
            )
            print(
                f"runner at {args.big_rows}: {big['items_written']} items in {big['seconds']:.1f} s"
                f" = {big['items_written'] / big['seconds']:,.0f} items/s, peak RSS {rss_big:.0f} MB"
            )

    print(f"vs naive: {runner_rate / naive_rate:.1f}x")
    print(f"vs ceiling: {runner_rate / ceiling_rate:.1f}x")
    print(f"validate vs run: {validate_rate / runner_rate:.1f}x")
    small = f"{args.rows // 1000}k"
    big_label = (
        f"{args.big_rows / 1e6:g}M" if args.big_rows >= 1_000_000 else f"{args.big_rows // 1000}k"
    )
    big_text = f"{rss_big:.0f} MB" if rss_big is not None else "not measured"
    note = (
        ""
        if (args.rows, args.big_rows) == (100_000, 1_000_000)
        else f"   (measured at {small}/{big_label} rows, not 100k/1M)"
    )
    print(f"peak RSS 100k/1M: {rss_small:.0f} MB / {big_text}{note}")


if __name__ == "__main__":
    main()
