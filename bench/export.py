"""`model migrate export` vs `model migrate run` in the same run: items/s and peak RSS.

Run: .venv/bin/python bench/export.py [--rows 100000] [--big-rows 0] [--concurrency 4]

One throwaway PostgreSQL and DynamoDB Local (started here), the shop model's rows
(tests/migrate/shopdata.py). Both commands run as subprocesses with the same --concurrency:

  run     `model migrate run` into an empty table (plan + backfill + catch-up), its JSON report
  export  `model migrate export -o DIR` (plan + read + convert + gzip DynamoDB JSON files)

Peak RSS is each subprocess's own VmHWM. `--big-rows N` repeats the export at N rows to show
that its memory does not grow with the row count (files are streamed and rolled). Ends with
`export vs run: N.Nx` (items/s of export / of run) and the compressed vs uncompressed bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "migrate"))

import shopdata  # noqa: E402
from migrate import _hwm_kb, _new_table, run_ceiling, run_runner  # noqa: E402

from modeling.api import load_model  # noqa: E402
from modeling.compile import compile_model  # noqa: E402
from modeling.migrate import transformers  # noqa: E402
from modeling.services import DynamoDBLocal, PostgresCluster  # noqa: E402


def run_export(dsn: str, concurrency: int, work: Path) -> tuple[dict[str, Any], float]:
    """`model migrate export` as a subprocess: (its JSON report, its peak RSS in MB)."""
    command = [
        sys.executable, "-m", "modeling.cli", "migrate", "export", str(shopdata.MODEL),
        "--source", dsn, "-o", str(work / "export"), "--dead-letter", str(work / "dead.jsonl"),
        "--concurrency", str(concurrency), "--file-size-mb", "16", "--json",
    ]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    out, err = work / "export.json", work / "export-stderr.txt"
    peak_kb = 0
    with out.open("wb") as fh, err.open("wb") as eh:
        proc = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=fh, stderr=eh)
        while proc.poll() is None:
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(f"model migrate export failed:\n{err.read_text()[-3000:]}")
    return json.loads(out.read_text()), peak_kb / 1024


def _line(label: str, report: dict[str, Any], rss: float) -> str:
    rate = report["items_per_second"]
    return (
        f"{label}: {report['totals']['items']} items in {report['seconds']:.1f} s = "
        f"{rate:,.0f} items/s, {len(report['files'])} file(s), "
        f"{report['totals']['bytes'] / 1e6:.1f} MB gzip of "
        f"{report['totals']['uncompressed_bytes'] / 1e6:.1f} MB, peak RSS {rss:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    model = load_model(shopdata.MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    module = transformers.generate(layout, model)
    with (
        PostgresCluster() as pg,
        DynamoDBLocal(max_heap="4g") as ddb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        client = ddb.client()
        print(f"loading {args.rows} rows ...", flush=True)
        dsn = pg.create_database()
        shopdata.load(dsn, args.rows)
        # warm-up (not counted): DynamoDB Local's JVM runs its first writes slowly
        warm = _new_table(client, layout)
        run_ceiling(dsn, client, warm, model, module, args.concurrency)
        client.delete_table(TableName=warm)

        run, rss_run = run_runner(
            dsn, ddb.endpoint_url, _new_table(client, layout), args.concurrency, Path(tmp) / "run"
        )
        run_rate = run["items_written"] / run["seconds"]
        print(
            f"run:    {run['items_written']} items in {run['seconds']:.1f} s = "
            f"{run_rate:,.0f} items/s, peak RSS {rss_run:.0f} MB",
            flush=True,
        )
        export, rss_export = run_export(dsn, args.concurrency, Path(tmp) / "export")
        print(_line("export", export, rss_export), flush=True)
        rss_big = None
        if args.big_rows:
            big = pg.create_database()
            print(f"loading {args.big_rows} rows ...", flush=True)
            shopdata.load(big, args.big_rows)
            big_report, rss_big = run_export(big, args.concurrency, Path(tmp) / "big")
            print(_line(f"export at {args.big_rows}", big_report, rss_big), flush=True)
        print(f"export vs run: {export['items_per_second'] / run_rate:.1f}x")
        sizes = f"{rss_export:.0f} MB" + (f" / {rss_big:.0f} MB" if rss_big else "")
        print(f"peak RSS export {sizes} vs run {rss_run:.0f} MB")
        print(
            "gzip: "
            f"{export['totals']['uncompressed_bytes'] / max(1, export['totals']['bytes']):.1f}x"
            " smaller than the DynamoDB JSON ImportTable bills"
        )


if __name__ == "__main__":
    main()
