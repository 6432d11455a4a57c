"""Benchmark: where `model verify` spends its time, and the ratio to a baseline in the same run.

Starts DynamoDB Local and PostgreSQL once (their start-up is timed), then verifies each model
(default: models/*.yaml) twice on the same engines:

  * current  — what `model verify --postgres` does: the adversarial sample, DynamoDB requests
               on a pool of `--workers` threads, batch writes concurrent;
  * baseline — the same code with the sample's adversarial cases off and one worker (requests
               one after the other), i.e. the cost before the larger sample and the pool;

and a floor: the median round trip of one GetItem on the same DynamoDB Local, times the number
of requests a run sends, is what the requests alone would cost one after the other.

For each run it prints the phases (sample + items, PostgreSQL load, CreateTable, DynamoDB load,
queries, and inside the queries the Python oracle, the PostgreSQL oracle and the wait for
DynamoDB), the total after the engines are up, and current / baseline. The goal of issue 13 is
an example model verified in <= 10 s after the engines are up; the `<=10 s` column says whether
this run met it. Wall seconds depend on the machine's load, so each run also prints the CPU
seconds it cost: this process (`cpu py`, the oracles, boto3, psycopg), the DynamoDB Local JVM
(`cpu jvm`) and the PostgreSQL backend of the run's connection (`cpu pg`), the distinct
requests sent (`requests`, pages included), and the 1-minute load average when it ended.
Compare ratios and CPU seconds, not wall seconds.

`--jvm-flags` runs the current verify once more per flag set, each on a DynamoDB Local of its
own started with those flags (`default`: services.DDB_LOCAL_JVM_FLAGS, `none`: no flags), to
compare the JVM's CPU.

    .venv/bin/python bench/verify.py [MODEL.yaml ...] [--trials 40] [--workers 4]
        [--jvm-flags none default]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.sample.generate import SampleOptions
from modeling.services import DDB_LOCAL_JVM_FLAGS, DynamoDBLocal, PostgresCluster
from modeling.verify.runner import VerifyOptions, verify

print = functools.partial(print, flush=True)  # lines appear as the runs finish
GOAL_SECONDS = 10.0
PHASES = (
    "generate",
    "postgres load",
    "table",
    "dynamodb load",
    "queries",
    "python oracle",
    "postgres oracle",
    "dynamodb wait",
)


JVM_FLAG_SETS = {"default": DDB_LOCAL_JVM_FLAGS, "none": ()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:  # no /proc (macOS): not measured
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_trip(client: Any) -> float:
    """Median seconds of one GetItem (a miss) on a one-item table."""
    name = f"bench-rt-{uuid.uuid4().hex[:6]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        times = []
        for i in range(40):
            t0 = time.perf_counter()
            client.get_item(TableName=name, Key={"PK": {"S": f"k{i}"}})
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    finally:
        client.delete_table(TableName=name)


@dataclasses.dataclass
class Run:
    total: float
    timings: dict[str, float]
    ok: bool
    requests: int
    cpu_py: float
    cpu_jvm: float
    cpu_pg: float
    load: float


def run(
    model_path: Path, client: Any, jvm_pid: int, pg: PostgresCluster, options: VerifyOptions
) -> Run:
    model = load_model(model_path)
    layout, _ = compile_model(model)
    assert layout is not None, model_path
    source = None
    if model.source is not None and model.source.ddl:
        source = Path(model.file or model_path).parent / model.source.ddl
    dsn = pg.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        backend = conn.info.backend_pid
        cpu_pg = cpu_seconds(backend)
        cpu_jvm = cpu_seconds(jvm_pid)
        cpu_py = time.process_time()
        t0 = time.perf_counter()
        report = verify(model, layout, client, pg_conn=conn, source_ddl=source, options=options)
        total = time.perf_counter() - t0
        cpu_py = time.process_time() - cpu_py
        cpu_jvm = cpu_seconds(jvm_pid) - cpu_jvm
        cpu_pg = cpu_seconds(backend) - cpu_pg
    return Run(
        total, dict(report.timings), report.ok, report.requests, cpu_py, cpu_jvm, cpu_pg,
        os.getloadavg()[0],
    )  # fmt: skip


def line(model: str, label: str, r: Run, base_total: float, rt: float) -> str:
    cells = " ".join(f"{r.timings.get(p, 0.0):>13.2f}" for p in PHASES)
    ratio = r.total / base_total if base_total else float("nan")
    goal = "yes" if r.total <= GOAL_SECONDS else "no"
    flag = "" if r.ok else "  (MISMATCH)"
    return (
        f"{model:<14} {label:<12} {cells} {r.total:>8.2f} {ratio:>6.2f} {goal:>7}"
        f" {r.cpu_py:>7.2f} {r.cpu_jvm:>7.2f} {r.cpu_pg:>6.2f}"
        f" {r.requests:>8} {r.requests * rt:>7.2f} {r.load:>5.1f}{flag}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--jvm-flags", nargs="*", choices=sorted(JVM_FLAG_SETS), default=[])
    args = parser.parse_args()
    models = args.models or sorted((Path(__file__).resolve().parents[1] / "models").glob("*.yaml"))

    t0 = time.perf_counter()
    ddb = DynamoDBLocal(startup_timeout=300)  # a loaded machine starts the JVM slowly
    ddb.start()
    ddb_start = time.perf_counter() - t0
    t0 = time.perf_counter()
    pg = PostgresCluster(startup_timeout=300)
    pg.start()
    pg_start = time.perf_counter() - t0
    try:
        client = ddb.client()
        jvm = ddb.pid
        rt = round_trip(client)
        print(f"engines: DynamoDB Local start {ddb_start:.1f} s, PostgreSQL start {pg_start:.1f} s")
        print(f"one GetItem round trip on DynamoDB Local: {rt * 1000:.1f} ms (median of 40)")
        print(f"DynamoDB Local JVM flags: {' '.join(DDB_LOCAL_JVM_FLAGS) or '(none)'}")
        header = f"{'model':<14} {'run':<12} " + " ".join(f"{p[:13]:>13}" for p in PHASES)
        print(
            header + f" {'total':>8} {'ratio':>6} {'<=10 s':>7} {'cpu py':>7} {'cpu jvm':>7}"
            f" {'cpu pg':>6} {'requests':>8} {'floor':>7} {'load':>5}"
        )
        for path in models:
            current = VerifyOptions(trials=args.trials, workers=args.workers)
            baseline = VerifyOptions(
                trials=args.trials, workers=1, sample=SampleOptions(adversarial=False)
            )
            results = {}
            for label, opts in (("baseline", baseline), ("current", current)):
                results[label] = run(path, client, jvm, pg, opts)
            base_total = results["baseline"].total
            for label, result in results.items():
                print(line(path.stem, label, result, base_total, rt))
            for name in args.jvm_flags:
                with DynamoDBLocal(startup_timeout=300, jvm_flags=JVM_FLAG_SETS[name]) as other:
                    result = run(path, other.client(), other.pid, pg, current)
                print(line(path.stem, f"jvm {name}", result, base_total, rt))
    finally:
        pg.stop()
        ddb.stop()


if __name__ == "__main__":
    main()
