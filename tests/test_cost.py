"""`model cost`: the arithmetic checked against figures worked out by hand.

The model (tests/fixtures/models/costly.yaml): Customer (1,000 rows, 10 writes/s) and Order
(50,000 rows, 100 writes/s) share the table partition CUSTOMER#{customer_id}; a unique lookup
by name puts Customer on GSI1 too. Prices: us-east-1 of the packaged table (WRU $0.625 and
RRU $0.125 per million, $0.00065 per WCU-hour, $0.00013 per RCU-hour, $0.25 per GB-month,
730 hours a month = 2,628,000 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeling.api import compile_file
from modeling.cli import app
from modeling.cost import CostError, Prices, estimate

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "fixtures" / "models" / "costly.yaml"
MONTH = 2_628_000  # seconds


def test_layout_is_the_one_the_hand_figures_assume() -> None:
    _, layout = compile_file(MODEL)
    keys = {(e.entity, k.index): (k.pk, k.sk) for e in layout.entities for k in e.keys}
    assert keys == {
        ("Customer", "table"): ("CUSTOMER#{customer_id}", "CUSTOMER"),
        ("Customer", "GSI1"): ("CUSTOMER#{name}", "CUSTOMER"),
        ("Order", "table"): ("CUSTOMER#{customer_id}", "ORDER#{order_id}"),
    }


def test_the_arithmetic_by_hand() -> None:
    model, layout = compile_file(MODEL)
    r = estimate(model, layout, Prices.load("us-east-1"))
    # Customer: customer_id 11+6, name 4+20 (max_length), _type 5+8, PK 2+9+20 (an integer
    # slot is 20 digits), SK 2+8, GSI1PK 6+9+20, GSI1SK 6+8 = 144
    # Order: order_id 8+6, customer_id 11+6, total 5+8, _type 5+5, PK 2+9+20, SK 2+6+20 = 113
    assert r.item_bytes == {"Customer": 144, "Order": 113}
    p = {x.pattern: x for x in r.patterns}
    # get_customer: GetItem of 144 B = 1 unit, halved (eventually consistent); 200/s
    assert p["get_customer"].read_units_per_request == 0.5
    assert p["get_customer"].read_units_per_second == 100
    assert p["get_customer"].on_demand_monthly == pytest.approx(100 * MONTH / 1e6 * 0.125)
    # orders_of_customer: 50,000 / 1,000 = 50 orders x 113 B = 5,650 B = 2 units, halved; 50/s
    assert p["orders_of_customer"].items_per_request == 50
    assert p["orders_of_customer"].bytes_per_request == 5650
    assert p["orders_of_customer"].read_units_per_second == 50
    assert p["orders_of_customer"].partition_share == pytest.approx(50 / 3000)
    # customer_by_name: unique, one item on GSI1; 30/s x 0.5
    assert p["customer_by_name"].read_units_per_second == 15
    i = {x.index: x for x in r.indexes}
    # storage: (size + 100 B) per item and index
    assert i["table"].storage_bytes == 1000 * (144 + 100) + 50_000 * (113 + 100)
    assert i["GSI1"].storage_bytes == 1000 * (144 + 100)
    # writes: one unit per item (< 1 KB) on every index the item is on
    assert i["table"].write_units_per_second == 110 and i["GSI1"].write_units_per_second == 10
    # provisioned at 70%: table 150 RCU -> 215, 110 WCU -> 158; GSI1 15 -> 22, 10 -> 15
    assert (i["table"].provisioned_rcu, i["table"].provisioned_wcu) == (215, 158)
    assert (i["GSI1"].provisioned_rcu, i["GSI1"].provisioned_wcu) == (22, 15)
    t = r.totals
    assert t.read_units_per_second == 165 and t.write_units_per_second == 120
    assert t.on_demand_reads == pytest.approx(54.2025)  # 165 x 2.628 x 0.125
    assert t.on_demand_writes == pytest.approx(197.10)  # 120 x 2.628 x 0.625
    storage = (10_894_000 + 244_000) / 1024**3 * 0.25
    assert t.storage == pytest.approx(storage)
    assert t.on_demand_total == pytest.approx(54.2025 + 197.10 + storage)
    assert t.provisioned_reads == pytest.approx(237 * 730 * 0.00013)  # 22.4913
    assert t.provisioned_writes == pytest.approx(173 * 730 * 0.00065)  # 82.0885
    assert t.provisioned_total == pytest.approx(22.4913 + 82.0885 + storage)
    # Customer.name (not identity, not immutable) keys GSI1: a rename moves the entry
    (moves,) = r.notes
    assert moves.startswith("GSI1: a write that changes a key attribute moves the index entry")
    assert i["GSI1"].moving_attributes == ("Customer.name",)
    assert i["GSI1"].moved_write_units_per_second == 20  # 10 writes/s x 1 unit x 2
    assert i["table"].moved_write_units_per_second is None


def test_missing_numbers_are_unknown_not_zero(tmp_path: Path) -> None:
    text = MODEL.read_text("utf-8").replace("    row_count: 50000\n", "")
    path = tmp_path / "partial.yaml"
    path.write_text(text, encoding="utf-8")
    model, layout = compile_file(path)
    r = estimate(model, layout, Prices.load())
    p = {x.pattern: x for x in r.patterns}
    assert p["orders_of_customer"].items_per_request is None
    assert p["orders_of_customer"].on_demand_monthly is None
    assert r.totals.storage is None and r.totals.on_demand_total is None
    assert any("Order: no row_count" in n for n in r.notes)
    assert p["get_customer"].read_units_per_second == 100  # what is known stays known


def test_cli_side_by_side_and_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cost", str(MODEL), str(ROOT / "models" / "orders.yaml")])
    assert result.exit_code == 0, result.output
    assert "costly" in result.output and "orders" in result.output
    assert "on-demand total" in result.output and "provisioned total" in result.output
    assert "$251.31" in result.output  # the hand total above, as printed
    as_json = CliRunner().invoke(app, ["cost", str(MODEL), "--json"])
    assert as_json.exit_code == 0, as_json.output
    (report,) = json.loads(as_json.stdout)
    assert report["totals"]["on_demand_total"] == pytest.approx(251.3050932677)
    assert report["prices"]["date"] and report["prices"]["source"].startswith("https://")


def test_unknown_region_and_bad_price_table(tmp_path: Path) -> None:
    with pytest.raises(CostError, match="mars-1"):
        Prices.load("mars-1")
    bad = tmp_path / "prices.json"
    bad.write_text("{}")
    result = CliRunner().invoke(app, ["cost", str(MODEL), "--prices", str(bad)])
    assert result.exit_code == 2
    assert "cannot read the price table" in result.output
    custom = tmp_path / "eu.json"
    table = json.loads((ROOT / "modeling" / "data" / "dynamodb-prices.json").read_text())
    table["regions"]["eu-test-1"] = {**table["regions"]["us-east-1"], "wcu_hour": 0.001}
    custom.write_text(json.dumps(table))
    assert Prices.load("eu-test-1", custom).wcu_hour == 0.001


REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
)


def test_every_listed_region_loads_and_an_unknown_one_lists_them() -> None:
    for region in REGIONS:
        p = Prices.load(region)
        assert p.region == region
        # the five required prices are also readable by name (the extendable form)
        assert p.price("wcu_hour") == p.wcu_hour and p.price("storage_gb_month") > 0
    # Frankfurt costs more than N. Virginia for every unit (pricing pages)
    eu, us = Prices.load("eu-central-1"), Prices.load("us-east-1")
    assert eu.write_request_units_per_million > us.write_request_units_per_million
    assert us.unverified == () and "wcu_hour" in eu.unverified
    result = CliRunner().invoke(app, ["cost", str(MODEL), "--region", "mars-1"])
    assert result.exit_code == 2
    assert "mars-1" in result.output and "Traceback" not in result.output
    for region in REGIONS:
        assert region in result.output
    with pytest.raises(CostError, match="import_table_gb"):
        us.price("import_table_gb")


def test_a_named_price_added_to_the_table_is_readable(tmp_path: Path) -> None:
    table = json.loads((ROOT / "modeling" / "data" / "dynamodb-prices.json").read_text())
    table["regions"]["us-east-1"]["import_table_gb"] = 0.15
    custom = tmp_path / "prices.json"
    custom.write_text(json.dumps(table))
    assert Prices.load("us-east-1", custom).price("import_table_gb") == 0.15


def test_region_prices_change_the_monthly_figures() -> None:
    """eu-west-1 on-demand writes: the same write units/s at $0.7068 per million."""
    model, layout = compile_file(MODEL)
    us = estimate(model, layout, Prices.load("us-east-1"))
    eu = estimate(model, layout, Prices.load("eu-west-1"))
    wcu = us.totals.write_units_per_second
    assert eu.totals.write_units_per_second == wcu
    assert eu.totals.on_demand_writes == pytest.approx(wcu * 730 * 3600 / 1e6 * 0.7068)
    result = CliRunner().invoke(app, ["cost", str(MODEL), "--region", "eu-west-1"])
    assert result.exit_code == 0, result.output
    assert "not checked against the source for eu-west-1" in result.output


def test_figures_on_unverified_prices_are_marked() -> None:
    """eu-central-1's five prices are not confirmed: every monthly figure rests on one, the
    CLI marks each with `*` and says why; us-east-1 marks none."""
    model, layout = compile_file(MODEL)
    eu = estimate(model, layout, Prices.load("eu-central-1"))
    assert set(eu.unverified_figures) == {
        "on_demand_reads",
        "on_demand_writes",
        "storage",
        "on_demand_total",
        "provisioned_reads",
        "provisioned_writes",
        "provisioned_total",
    }
    assert eu.prices.unverified_reason.startswith("not confirmed")
    assert estimate(model, layout, Prices.load("us-east-1")).unverified_figures == ()
    out = CliRunner().invoke(app, ["cost", str(MODEL), "--region", "eu-central-1"])
    assert out.exit_code == 0, out.output
    assert out.output.count(" *") >= 7
    assert "* rests on a price not checked against the source for eu-central-1" in out.output
    us = CliRunner().invoke(app, ["cost", str(MODEL)])
    assert " *" not in us.output
    (record,) = json.loads(
        CliRunner().invoke(app, ["cost", str(MODEL), "--region", "eu-central-1", "--json"]).stdout
    )
    assert "storage" in record["unverified_figures"]


def test_two_models_side_by_side_with_the_difference(tmp_path: Path) -> None:
    """costly against a copy with Order at 200 writes/s: 100 more write units/s on the table
    (1 unit per 113 B order) = 100 x 2,628,000 s x $0.625 / 1e6 = $164.25 more a month
    on-demand; provisioned: ceil(210 / 0.7) - ceil(110 / 0.7) = 300 - 158 = 142 WCU x 730 h x
    $0.00065 = $67.379 more."""
    busier = tmp_path / "busier.yaml"
    text = MODEL.read_text("utf-8").replace("writes_per_second: 100", "writes_per_second: 200")
    busier.write_text(text.replace("model: costly", "model: busier"), "utf-8")
    result = CliRunner().invoke(app, ["cost", str(MODEL), str(busier), "--json"])
    (a, b) = json.loads(result.stdout)
    assert b["totals"]["on_demand_total"] - a["totals"]["on_demand_total"] == pytest.approx(164.25)
    assert b["totals"]["provisioned_total"] - a["totals"]["provisioned_total"] == pytest.approx(
        142 * 730 * 0.00065
    )
    table = CliRunner().invoke(app, ["cost", str(MODEL), str(busier)])
    assert table.exit_code == 0, table.output
    assert "on-demand total: busier - costly" in table.output and "+$164.25" in table.output
    assert "+$67.38" in table.output


def test_pg_stats_avg_width_sizes_the_item_and_its_key(tmp_path: Path) -> None:
    """`name` with pg_stats avg_width 50 (instead of max_length 20): the attribute is 4 + 50 B
    and the GSI1PK slot `{name}` 50 B: Customer = 144 + 30 + 30 = 204 B; GSI1 stores
    1,000 x (204 + 100) B. Per write: table and GSI1 ceil(204 / 1,024) = 1 unit each."""
    text = MODEL.read_text("utf-8").replace(
        "name: {type: string, max_length: 20}",
        "name: {type: string, max_length: 20, stats: {avg_width: 50}}",
    )
    path = tmp_path / "stats.yaml"
    path.write_text(text, "utf-8")
    model, layout = compile_file(path)
    r = estimate(model, layout, Prices.load())
    assert r.item_bytes["Customer"] == 204
    assert {i.index: i for i in r.indexes}["GSI1"].storage_bytes == 1000 * 304
    (customer,) = [e for e in r.entities if e.entity == "Customer"]
    assert customer.per_index == (("table", 204, 1), ("GSI1", 204, 1))
    out = CliRunner().invoke(app, ["cost", str(path)])
    assert out.exit_code == 0, out.output
    assert "items (estimated bytes) and units per write" in out.output
