"""The chaos run: a random application (inserts, updates, key changes, deletes through the
generated repository) concurrently with the backfill and the catch-up pass, the runner killed
(SIGKILL, or the signals given, in turn) and resumed, its writes throttled; then the full audit.
With `vary`, each resume has another batch size and concurrency (an operator retrying with
other options); with `kill_in_catch_up`, one more kill lands after the last chunk, in the
catch-up pass or its tombstone sweep. Used by tests/migrate/test_chaos.py (small) and
bench/chaos.py (large)."""

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


def _all_done(ckpt: Path) -> bool:
    """Every chunk of the checkpoint's own plan is checkpointed (the backfill is over)."""
    manifest = ckpt / "plan" / "manifest.json"
    if not manifest.is_file():
        return False
    entities = json.loads(manifest.read_text())["entities"].values()
    return _done(ckpt) >= sum(len(e["chunks"]) for e in entities)


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
    signals: tuple[int, ...] = (signal.SIGKILL,),
    vary: bool = False,
    kill_in_catch_up: bool = False,
) -> ChaosResult:
    started = time.monotonic()
    rng = random.Random(seed)
    ckpt = tmp / "ckpt"
    base = [
        sys.executable, str(RUNNER), str(generated.model.file), "--source", dsn,
        "--endpoint", endpoint, "--table", table, "--checkpoint", str(ckpt),
        "--chunk-size", str(chunk_size), "--throttle", str(throttle), "--seed", str(seed),
    ]  # fmt: skip

    def command() -> list[str]:
        size, workers_ = (
            (rng.choice((7, 25, batch_size)), rng.choice((1, 2, 3)))
            if vary
            else (
                batch_size,
                2,
            )
        )
        return [*base, "--batch-size", str(size), "--concurrency", str(workers_)]

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
        for n in range(kills):
            before = _done(ckpt)
            proc = subprocess.Popen(
                command(), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            want = before + rng.randrange(1, 4)
            while _done(ckpt) < want and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            if proc.poll() is None:
                os.kill(proc.pid, signals[n % len(signals)])
            proc.wait()
            killed.append(_done(ckpt))
        if kill_in_catch_up:
            # after the last chunk's checkpoint, before `catch_up_done`: the catch-up or sweep
            proc = subprocess.Popen(
                command(), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if _all_done(ckpt):
                    time.sleep(rng.uniform(0, 0.05))
                    break
                time.sleep(0.005)
            if proc.poll() is None:
                os.kill(proc.pid, signals[len(killed) % len(signals)])
                killed.append(_done(ckpt))
            proc.wait()
        final = subprocess.run(
            command(), cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
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
