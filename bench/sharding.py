"""What reading a sharded partition costs: the generated client's `orders_by_status` on the
sharded model (tests/fixtures/models/sharded_orders.yaml, 3 shards, one Query per shard in
parallel, merged) against the same model compiled unsharded (no write rate), same rows, same
DynamoDB Local, in the same run.

Run: .venv/bin/python bench/sharding.py [--orders 20000] [--repeat 5] [--page 100]

Prints per layout the seconds to read every order of one status (all pages), to page through
it `--page` at a time, and the sharded/unsharded ratios. The ratio is what matters: DynamoDB
Local is one process, so parallel shard Queries gain less here than on the service.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import random
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "migrate"))

from generated_pkg import write_and_import  # noqa: E402

from modeling.api import check_text  # noqa: E402
from modeling.compile import compile_model  # noqa: E402
from modeling.emit.client import emit_client  # noqa: E402
from modeling.emit.transformers import emit_transformers  # noqa: E402
from modeling.services import DynamoDBLocal  # noqa: E402
from modeling.verify.dynamo import LoadResult, create_table, write_items  # noqa: E402

MODEL = ROOT / "tests" / "fixtures" / "models" / "sharded_orders.yaml"


def _compiled(text: str) -> tuple[Any, Any]:
    result = check_text(text, str(MODEL))
    assert result.ok and result.model is not None
    layout, _ = compile_model(result.model)
    assert layout is not None
    return result.model, layout


def _timed(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args()
    text = MODEL.read_text("utf-8")
    variants = {
        "sharded": _compiled(text),
        "unsharded": _compiled(text.replace("writes_per_second: 5000", "writes_per_second: 10")),
    }
    rng = random.Random(0)
    rows = [
        {
            "order_id": n,
            "status": rng.choice(("pending", "paid", "shipped", "cancelled")),
            "created_at": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(365)),
            "total": Decimal(rng.randint(100, 99_999)) / 100,
        }
        for n in range(args.orders)
    ]
    results: dict[str, tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, DynamoDBLocal() as ddb:
        client = ddb.client()
        for name, (model, layout) in variants.items():
            files = {**emit_transformers(layout, model), **emit_client(layout, model)}
            package = write_and_import(files, Path(tmp) / name, f"_bench_shard_{name}")
            t = importlib.import_module(f"{package}.transformers")
            generated = importlib.import_module(f"{package}.client")
            table = f"Shard-{uuid.uuid4().hex[:8]}"
            create_table(client, layout, table)
            write_items(client, table, [t.TO_ITEM["Order"](r) for r in rows], LoadResult())
            api = generated.Client(table, client)
            count = len(api.orders_by_status("paid"))

            def paged(api: Any = api) -> None:
                cursor = None
                while True:
                    _, cursor = api.orders_by_status_page(
                        "paid", cursor=cursor, page_size=args.page
                    )
                    if cursor is None:
                        return

            whole = _timed(lambda api=api: api.orders_by_status("paid"), args.repeat)
            pages = _timed(paged, args.repeat)
            results[name] = (whole, pages, count)
    for name, (whole, pages, count) in results.items():
        shards = variants[name][1].plan("orders_by_status").sharded
        print(
            f"{name:10} shards {shards or 1}: {count} rows; all at once {whole:.3f} s, "
            f"pages of {args.page} {pages:.3f} s"
        )
    s, u = results["sharded"], results["unsharded"]
    assert s[2] == u[2], "both layouts must return the same rows"
    print(f"ratio sharded/unsharded: all at once {s[0] / u[0]:.2f}, paged {s[1] / u[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
