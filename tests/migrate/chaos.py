"""The chaos run: a random application (inserts, updates, key changes, deletes through the
generated repository) concurrently with the backfill and the catch-up pass, the runner killed
with SIGKILL and resumed, its writes throttled; then the full audit. Used by
tests/migrate/test_chaos.py (small) and bench/chaos.py (large)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeling.migrate.audit import Audit, audit
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY
from modeling.workflows.appsim import App, AppStats

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("chaos_runner.py")


@dataclass
class ChaosResult:
    audit: Audit
    app: AppStats
    kills: list[int]  # chunks done at each kill
    report: dict[str, Any]  # the last run's report
    seconds: float


def _done(ckpt: Path) -> int:
    root = ckpt / "done"
    return len(list(root.rglob("chunk-*.json"))) if root.is_dir() else 0


def run_chaos(
    generated: Any,  # model, layout, module (transformers), repository
    dsn: str,
    endpoint: str,
    client: Any,
    table: str,
    tmp: Path,
    *,
    kills: int = 2,
    workers: int = 2,
    throttle: float = 0.2,
    chunk_size: int = 100,
    batch_size: int = 50,
    seed: int = 0,
    timeout: float = 300,
) -> ChaosResult:
    started = time.monotonic()
    rng = random.Random(seed)
    ckpt = tmp / "ckpt"
    command = [
        sys.executable, str(RUNNER), str(generated.model.file), "--source", dsn,
        "--endpoint", endpoint, "--table", table, "--checkpoint", str(ckpt),
        "--chunk-size", str(chunk_size), "--batch-size", str(batch_size),
        "--throttle", str(throttle), "--seed", str(seed),
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    app = App(generated.model, generated.repository, dsn, client, table, seed=seed)
    finish = app.start(workers)
    killed: list[int] = []
    try:
        for _ in range(kills):
            before = _done(ckpt)
            proc = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            want = before + rng.randrange(1, 4)
            while _done(ckpt) < want and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed.append(_done(ckpt))
        final = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
        if final.returncode != 0:
            raise AssertionError(final.stderr)
        report = json.loads(final.stdout)
        time.sleep(0.3)  # the application keeps going after the run ends
    finally:
        stats = finish()
    result = audit(
        generated.model,
        generated.layout,
        generated.module,
        dsn,
        client,
        table,
        stats.deleted,
    )
    return ChaosResult(result, stats, killed, report, time.monotonic() - started)
