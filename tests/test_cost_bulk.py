"""Loading a new table, ImportTable vs BatchWriteItem: the runbook's arithmetic by hand.

The model is tests/fixtures/models/costly.yaml (see tests/test_cost.py for its item sizes:
Customer 144 B on the table and GSI1, 1,000 rows; Order 113 B on the table, 50,000 rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeling.api import compile_file
from modeling.cost import GB, ImportPrice, Prices, bulk_load, import_line_bytes
from modeling.emit.docs.runbook import runbook_page

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "fixtures" / "models" / "costly.yaml"


def test_bulk_load_by_hand() -> None:
    model, layout = compile_file(MODEL)
    price = ImportPrice.load("us-east-1")
    assert price is not None and price.per_gb == 0.15 and price.date == "2024-11"
    load = bulk_load(model, layout, Prices.load("us-east-1"), price)
    assert load is not None
    # a line: the item + 12 B ({"Item":{ }} and a newline) + 12 B per attribute
    # Customer: customer_id, name, _type, PK, SK, GSI1PK, GSI1SK = 7 -> 144 + 12 + 84 = 240
    # Order: order_id, customer_id, total, _type, PK, SK = 6 -> 113 + 12 + 72 = 197
    customer, order = model.entity("Customer"), model.entity("Order")
    assert customer is not None and order is not None
    assert import_line_bytes(layout, customer) == 240
    assert import_line_bytes(layout, order) == 197
    assert load.items == 51_000
    assert load.import_bytes == 1_000 * 240 + 50_000 * 197  # 10,090,000
    # ImportTable: $0.15 per GB of uncompressed source
    assert load.import_cost == pytest.approx(10_090_000 / 1024**3 * 0.15)  # $0.00141
    # BatchWriteItem: 1 WRU per item and index (< 1 KB): Customer 2 (table, GSI1), Order 1
    assert load.write_units == 52_000
    assert load.batch_write_cost == pytest.approx(52_000 / 1e6 * 0.625)  # $0.0325
    # time: 51,000 items at 6,000 items/s; 10,090,000 B at 15 GB/hour
    assert load.backfill_seconds == pytest.approx(8.5)
    assert load.import_seconds == pytest.approx(10_090_000 / GB / 15 * 3600)
    # other rates, as a runbook for another measurement would pass them
    slow = bulk_load(model, layout, Prices.load("us-east-1"), price, 1_000.0, 1.0)
    assert slow is not None and slow.backfill_seconds == 51.0
    assert slow.import_seconds == pytest.approx(10_090_000 / 1024**3 * 3600)


def test_entities_without_row_count_are_left_out_and_named(tmp_path: Path) -> None:
    text = MODEL.read_text("utf-8").replace("    row_count: 50000\n", "")
    path = tmp_path / "partial.yaml"
    path.write_text(text, "utf-8")
    model, layout = compile_file(path)
    price = ImportPrice.load("us-east-1")
    assert price is not None
    load = bulk_load(model, layout, Prices.load("us-east-1"), price)
    assert load is not None and load.items == 1_000 and load.uncounted == ("Order",)
    assert load.write_units == 2_000
    page = runbook_page(model, layout)
    assert "Order left out, without one" in page


def test_the_runbook_compares_both_paths() -> None:
    model, layout = compile_file(MODEL)
    page = runbook_page(model, layout)
    section = page[page.index("Import from S3") : page.index("## Step 3")]
    assert "52,000 write request units (table and GSIs) x $0.625 per million | $0.03 |" in section
    assert "0.01 GB of uncompressed DynamoDB JSON x $0.15 per GB | $0.00 |" in section
    assert "8 s at 6,000 items/s" in section
    assert "--catch-up-only MARKER" in section and "--start" in section


def test_an_import_price_entry_is_optional_and_a_bad_one_is_an_error(tmp_path: Path) -> None:
    table = json.loads((ROOT / "modeling" / "data" / "dynamodb-prices.json").read_text())
    without = {k: v for k, v in table.items() if k != "import"}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(without))
    assert ImportPrice.load("us-east-1", path) is None
    assert ImportPrice.load("eu-west-9") is None
    path.write_text(json.dumps({**table, "import": {"regions": {"us-east-1": {"per_gb": "x"}}}}))
    from modeling.cost import CostError

    with pytest.raises(CostError):
        ImportPrice.load("us-east-1", path)
