"""`model diff --apply` item passes at a larger size, one Scan segment (the baseline) vs
several, on DynamoDB Local: the backfill of a new GSI's key attributes, the re-key of an
entity, the copies written when a GSI is replaced by relationship copies (write-copies: a put
per copy, then the sweep and census), and the new-table path's copy-items and its catch-up (an
incremental pass over an unchanged table: both tables read, nothing written).

Run: .venv/bin/python bench/evolve.py [--customers 3000] [--orders 9000] [--segments 4]

Same designs as tests/evolve/test_diff_apply.py and tests/evolve/test_diff_designs.py. Each run
gets its own table seeded with the same items. Prints items/s per pass and segment count,
`segments vs 1: N.Nx` per pass, the catch-up vs the copy (`catch-up vs copy: N.Nx`), and
whether every item is accounted for (lost 0, stale 0; else exit 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "evolve"))

from test_diff_apply import NEW_GSI, NEW_REKEY, OLD  # noqa: E402
from test_diff_designs import FEWEST, STRATEGY  # noqa: E402

from modeling import api  # noqa: E402
from modeling.compile.evolution import Design, classify  # noqa: E402
from modeling.migrate import evolve  # noqa: E402
from modeling.migrate import transformers as loader  # noqa: E402
from modeling.migrate.table import ensure_table  # noqa: E402
from modeling.migrate.versioning import VERSION_ATTRIBUTE  # noqa: E402
from modeling.services import DynamoDBLocal  # noqa: E402


def _design(directory: Path, name: str, text: str) -> Design:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    model, layout = api.compile_file(path)
    return Design(model, layout, str(path))


def _items(design: Design, customers: int, orders: int) -> list[dict[str, Any]]:
    module = loader.generate(design.layout, design.model)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(customers):
        row = {
            "customer_id": uuid.UUID(int=i + 1),
            "email": f"c{i}@example.com",
            "status": "active" if i % 3 else "blocked",
            "created_at": base + dt.timedelta(minutes=i),
        }
        out.append(module.TO_ITEM["Customer"](row))
    for i in range(orders):
        row = {
            "order_id": uuid.UUID(int=10**9 + i),
            "customer_id": uuid.UUID(int=i % customers + 1),
            "placed_at": base + dt.timedelta(seconds=i),
            "total": Decimal(i) / 4,
            "note": None,
        }
        out.append(module.TO_ITEM["Order"](row))
    for n, item in enumerate(out):
        item[VERSION_ATTRIBUTE] = {"N": str(n + 1)}
    return out


def _shop(design: Design, customers: int, orders: int) -> list[dict[str, Any]]:
    """The strategy model's items (integer keys), each with a `_version`."""
    module = loader.generate(design.layout, design.model)
    out = [
        module.TO_ITEM["Customer"]({"customer_id": i, "name": f"c{i}"}) for i in range(customers)
    ]
    out += [
        module.TO_ITEM["Order"](
            {"order_id": o, "customer_id": o % customers, "notes": "n", "total": Decimal(o)}
        )
        for o in range(orders)
    ]
    for n, item in enumerate(out):
        item[VERSION_ATTRIBUTE] = {"N": str(n + 1)}
    return out


def _seed(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for i in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        )


def _pass(
    ddb: Any,
    old: Design,
    new: Design,
    items: list[Any],
    action: str,
    segments: int,
    before: tuple[str, ...] | None = None,
) -> float:
    """Items/s of step `action`, after the runnable steps `before` (default: every other
    runnable step that is not a clean-up)."""
    client = ddb.client()
    table = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_table(client, old.model, old.layout, table)
    _seed(client, table, items)
    ev = classify(old, new)
    target = f"{table}-v2"
    steps = evolve.runbook(ev, table, target)
    setup = [
        s.number
        for s in steps
        if s.runnable
        and not s.cleanup
        and (s.action in before if before is not None else s.action != action)
    ]
    if setup:
        evolve.apply(ev, steps, client, table, only=setup, segments=segments)
    (step,) = [s for s in steps if s.action == action]
    started = time.monotonic()
    (result,) = evolve.apply(ev, steps, client, table, only=[step.number], segments=segments)
    seconds = time.monotonic() - started
    report = result.report
    assert report is not None
    touched = sum(report.scanned.values())
    print(
        f"{action:12} segments={segments}: {touched} items in {seconds:.1f} s "
        f"({touched / seconds:.0f} items/s); lost {report.lost}, stale {report.stale}"
    )
    if report.lost or report.stale:
        raise SystemExit(1)
    client.delete_table(TableName=table)
    if ev.new_table:
        client.delete_table(TableName=target)
    return touched / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--orders", type=int, default=9000)
    parser.add_argument("--segments", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, DynamoDBLocal() as ddb:
        directory = Path(tmp)
        old = _design(directory, "old.yaml", OLD)
        designs = {
            "backfill": _design(directory, "gsi.yaml", NEW_GSI),
            "rekey": _design(directory, "rekey.yaml", NEW_REKEY),
        }
        items = _items(old, args.customers, args.orders)
        for action, new in designs.items():
            base = _pass(ddb, old, new, items, action, 1)
            fast = _pass(ddb, old, new, items, action, args.segments)
            print(f"{action:8} segments vs 1: {fast / base:.1f}x")

        fewest = _design(directory, "fewest.yaml", FEWEST)
        copies = _design(directory, "copies.yaml", STRATEGY)
        shop = _shop(fewest, args.customers, args.orders)
        base = _pass(ddb, fewest, copies, shop, "write-copies", 1)
        fast = _pass(ddb, fewest, copies, shop, "write-copies", args.segments)
        print(f"write-copies segments vs 1: {fast / base:.1f}x")

        renamed = _design(directory, "renamed.yaml", NEW_GSI.replace("EvolveShop", "EvolveShop2"))
        copy = {
            n: _pass(ddb, old, renamed, items, "copy-items", n, ("create-table",))
            for n in (1, args.segments)
        }
        print(f"copy-items segments vs 1: {copy[args.segments] / copy[1]:.1f}x")
        catch_up = _pass(
            ddb, old, renamed, items, "catch-up", args.segments, ("create-table", "copy-items")
        )
        print(f"catch-up vs copy (segments={args.segments}): {catch_up / copy[args.segments]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
