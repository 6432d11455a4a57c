"""`model migrate validate --patterns N`: every access pattern through the generated client
against its SQL on the source, order included (PostgreSQL 15 + DynamoDB Local)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from generated_pkg import write_and_import

from modeling.core import ir
from modeling.emit.client import emit_client
from modeling.emit.transformers import emit_transformers
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import validate


def _package(layout: ir.Layout, model: ir.Model, root: Path) -> tuple[ModuleType, ModuleType]:
    """(transformers, client) generated from `layout`, as an application would deploy them."""
    files = {**emit_transformers(layout, model), **emit_client(layout, model)}
    name = write_and_import(files, root, "_validate_patterns")
    return (
        importlib.import_module(f"{name}.transformers"),
        importlib.import_module(f"{name}.client"),
    )


def _backfill(shop: Any, dsn: str, client: Any, table: str, module: ModuleType, tmp: Path) -> None:
    options = RunOptions(concurrency=2, dead_letter=tmp / "dead.jsonl", progress=False)
    report = Runner(
        shop.model, shop.layout, dsn, client, tmp / "ckpt", options, table, module
    ).run()
    assert report.dead_letters == 0


def test_a_sort_key_on_the_wrong_attribute_passes_the_item_diff_and_fails_patterns(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """layout.json mutated so the orders of a customer are sorted by order_id, not placed_at:
    code generated from it writes items the item diff accepts (they are what that code
    makes), but `orders_of_customer` returns the orders in the wrong order."""
    text = ir.to_json(shop.layout)
    assert text.count("ORDER#{placed_at}") >= 2  # the GSI1 key and the plan's sort key
    wrong = ir.from_json(ir.Layout, text.replace("ORDER#{placed_at}", "ORDER#{order_id}"))
    transformers, client_module = _package(wrong, shop.model, tmp_path / "wrong")
    dsn, _ = source_db(600)
    table = make_table()
    client = dynamodb_local.client()
    _backfill(shop, dsn, client, table, transformers, tmp_path)

    report = validate(
        shop.model,
        wrong,
        dsn,
        client,
        sample=None,
        table_name=table,
        module=transformers,
        client_module=client_module,
        patterns=15,
        seed=4,
    )
    # the item diff finds nothing: every item is what the deployed code makes of its row
    assert all(e.ok for e in report.entities.values()), report.markdown()
    assert report.totals()["checked"] > 0
    by_name = {p.pattern: p for p in report.patterns}
    bad = by_name["orders_of_customer"]
    assert bad.tried == 15 and bad.mismatches > 0, report.markdown()
    assert all("order" in d and "missing" not in d for d in bad.differences), bad.differences
    assert by_name["get_customer"].ok and by_name["order_details"].ok, report.markdown()
    assert not report.ok
    text = report.markdown()
    assert "| orders_of_customer | GSI1 | 15 |" in text and "FAIL" in text


def test_the_right_layout_agrees_on_every_pattern_and_the_draw_is_seeded(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    transformers, client_module = _package(shop.layout, shop.model, tmp_path / "right")
    dsn, _ = source_db(600)
    table = make_table()
    client = dynamodb_local.client()
    _backfill(shop, dsn, client, table, transformers, tmp_path)

    def run(seed: int) -> Any:
        return validate(
            shop.model,
            shop.layout,
            dsn,
            client,
            sample=50,
            table_name=table,
            module=transformers,
            client_module=client_module,
            patterns=12,
            seed=seed,
        )

    first, again, other = run(1), run(1), run(2)
    assert first.ok, first.markdown()
    for p in first.patterns:
        assert p.skipped is None and p.tried == 12 and p.mismatches == 0
    # rows were compared (the drawn values hit data), not only empty answers
    assert all(p.compared_rows > 0 for p in first.patterns)
    assert [p.as_dict() for p in first.patterns] == [p.as_dict() for p in again.patterns]
    assert [p.compared_rows for p in first.patterns] != [p.compared_rows for p in other.patterns]
