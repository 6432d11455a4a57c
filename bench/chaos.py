"""The chaos run at a larger size: a random application through the dual-write repository
during the backfill and catch-up, the runner killed -9 and resumed, writes throttled.

Run: .venv/bin/python bench/chaos.py [--payments 50000] [--kills 4] [--workers 4]
     [--throttle 0.2] [--seed 0]

Same harness as tests/migrate/test_chaos.py (tests/migrate/chaos.py), on a throwaway
PostgreSQL 15 and DynamoDB Local started here. Prints the application's operations, the
runner's retries and the audit (missing, mismatched, stale, orphaned, resurrected: all 0, or
exit 1), and the application's rate next to the run's.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "migrate"))
sys.path.insert(0, str(ROOT / "tests"))

import ledgerdata  # noqa: E402
from chaos import run_chaos  # noqa: E402
from generated_pkg import write_and_import  # noqa: E402

from modeling.api import load_model  # noqa: E402
from modeling.compile import compile_model  # noqa: E402
from modeling.emit.repository import emit_repository  # noqa: E402
from modeling.emit.transformers import emit_transformers  # noqa: E402
from modeling.services import DynamoDBLocal, PostgresCluster  # noqa: E402
from modeling.verify.dynamo import create_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=50_000)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--throttle", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(ledgerdata.MODEL)
    layout, _ = compile_model(model)
    assert layout is not None
    with tempfile.TemporaryDirectory() as tmp, PostgresCluster() as pg, DynamoDBLocal() as ddb:
        files = {**emit_transformers(layout, model), **emit_repository(layout, model)}
        name = write_and_import(files, Path(tmp) / "pkg", "_bench_ledger")
        generated = SimpleNamespace(
            model=model,
            layout=layout,
            module=importlib.import_module(f"{name}.transformers"),
            repository=importlib.import_module(f"{name}.repository"),
        )
        dsn = pg.create_database()
        counts = ledgerdata.load(dsn, args.payments, args.seed)
        client = ddb.client()
        table = f"Ledger-{uuid.uuid4().hex[:8]}"
        create_table(client, layout, table)
        result = run_chaos(
            generated,
            dsn,
            ddb.endpoint_url,
            client,
            table,
            Path(tmp),
            kills=args.kills,
            workers=args.workers,
            throttle=args.throttle,
            chunk_size=max(500, args.payments // 20),
            batch_size=250,
            seed=args.seed,
            timeout=3_600,
        )
    a, app = result.audit, result.app
    print(f"rows loaded: {sum(counts.values())}; kills at chunks {result.kills}")
    print(f"application: {json.dumps(app.as_dict(), sort_keys=True)}")
    print(
        f"runner (last run): {result.report['items_written']} items, retries "
        f"{result.report['retries']}, injected {result.report['injected']}, tombstones "
        f"{result.report['tombstones']}, stale removed {result.report['stale_removed']}"
    )
    print(f"application ops/s: {app.total / result.seconds:.1f} over {result.seconds:.1f} s")
    print(
        f"audit: rows {a.rows}, items {a.items}, missing {a.missing}, mismatched {a.mismatched}, "
        f"stale {a.stale}, orphaned {a.orphaned}, resurrected {a.resurrected}, "
        f"tombstones {a.tombstones}: {'ok' if a.ok and not app.errors else 'FAIL'}"
    )
    return 0 if a.ok and not app.errors else 1


if __name__ == "__main__":
    sys.exit(main())
