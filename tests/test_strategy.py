"""`strategy: fewest_indexes | lowest_cost` (issue 16 item 5): a GSI against writing the
relationship it serves as extra items in the table, priced per month on-demand.

Hand-worked figures for tests/fixtures/models/strategy.yaml, us-east-1 (WRU $0.625/M, RRU
$0.125/M, storage $0.25/GB-month), a month of 730 h = 2,628,000 s.

Order's item on the table (bytes = attribute name + value estimate):
  customer_id 11+6, notes 5+1000 (max_length 2000 / 2), order_id 8+6, total 5+8 = 1049;
  `_type` + `Order` = 10; PK `ORDER#`+20 (2+26), SK `ORDER` (2+5) = 35;
  GSI1PK `CUSTOMER#`+20 (6+29), GSI1SK `ORDER` (6+5) = 46                  -> 1140 bytes.
GSI1 (projection ALL): 1140 bytes -> 2 write units on each of 200 writes/s = 400 WRU/s
  -> 400 x 2,628,000 x 0.625e-6 = $657.00; storage 100,000 x (1140 + 100) B = 0.115484 GB
  -> $0.028871; reads: 100,000 orders / 1,000 customers = 100 items x 1140 B = 114,000 B
  -> ceil(/4096) = 28 x 0.5 = 14 RRU x 5/s = 70 RRU/s -> $22.995.   GSI total $680.0239.
Duplicated items, as modeling.compile.copies builds them (PK `CUSTOMER#{customer_id}`, SK
  `~GSI1#ORDER#{order_id}`): PK 2+9+20, SK 2+6+5+1+20, order_id 14, customer_id 17, type
  `_type` + `Order~GSI1` 15, the main item's key PK_MAIN 7+6+20 and SK_MAIN 7+5 = 156 bytes
  -> 1 write unit on each of the 2 relationship writes/s (the pattern's
  rate.writes_per_second) = 2 WRU/s -> $3.285; storage 100,000 x 256 B = 0.0238419 GB
  -> $0.0059605; reads: query 100 x 156 B -> 4 x 0.5 = 2 RRU, fetch 100 items of 1094 B (no
  GSI1 key) -> 100 x 1 x 0.5 = 50 RRU; 52 x 5/s = 260 RRU/s -> $85.41.
                                                                  Duplicated total $88.70096.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeling.api import check_text, compile_file
from modeling.cli import app
from modeling.compile import compile_model
from modeling.cost import DUPLICATE_ITEMS, GSI, Prices, estimate, index_strategies
from modeling.emit.reference import language_reference

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = MODEL.read_text()
    assert old in text
    path = tmp_path / "strategy.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_lowest_cost_picks_duplicated_items_with_hand_worked_figures() -> None:
    model, layout = compile_file(MODEL)
    (choice,) = index_strategies(model, layout, Prices.load("us-east-1"))
    assert (choice.index, choice.patterns, choice.entities) == (
        "GSI1",
        ("orders_of_customer",),
        ("Order",),
    )
    g, d = choice.gsi, choice.duplicate_items
    assert g.write_units_per_second == 400
    assert g.writes == pytest.approx(657.0)
    assert g.storage == pytest.approx(124_000_000 / 1024**3 * 0.25)
    assert g.read_units_per_second == 70
    assert g.reads == pytest.approx(22.995)
    assert g.total == pytest.approx(680.0239, abs=1e-4)
    assert d.write_units_per_second == 2
    assert d.writes == pytest.approx(3.285)
    assert d.storage == pytest.approx(25_600_000 / 1024**3 * 0.25)
    assert d.read_units_per_second == 260
    assert d.reads == pytest.approx(85.41)
    assert d.total == pytest.approx(88.70096, abs=1e-4)
    # the copies are built: the layout has no GSI1 (modeling.compile.copies)
    assert choice.chosen == DUPLICATE_ITEMS and choice.built
    assert [i.name for i in layout.indexes] == ["table"] and layout.copy("GSI1") is not None


def test_fewest_indexes_keeps_the_gsi_without_a_comparison(tmp_path: Path) -> None:
    """The same model under the default strategy: no comparison, no warning, the same GSI."""
    path = _variant(tmp_path, "strategy: lowest_cost\n", "strategy: fewest_indexes\n")
    model, layout = compile_file(path)
    assert index_strategies(model, layout, Prices.load()) == ()
    assert [i.name for i in layout.indexes] == ["table", "GSI1"]
    assert not [d for d in layout.diagnostics if d.code.startswith("strategy-")]
    # a pattern's own strategy overrides the model's
    path = _variant(
        tmp_path,
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n    strategy: fewest_indexes\n",
    )
    model, layout = compile_file(path)
    assert index_strategies(model, layout, Prices.load()) == ()


def test_lowest_cost_keeps_the_gsi_when_reads_dominate(tmp_path: Path) -> None:
    """At 500 reads/s the per-item fetches cost more than the GSI's writes:
    GSI reads 14 x 500 = 7,000 RRU/s ($2,299.50), duplicated 52 x 500 = 26,000 RRU/s
    ($8,541.00); totals $2,956.53 vs $8,544.29."""
    path = _variant(
        tmp_path,
        "rate: {reads_per_second: 5, writes_per_second: 2}",
        "rate: {reads_per_second: 500, writes_per_second: 2}",
    )
    model, layout = compile_file(path)
    (choice,) = index_strategies(model, layout, Prices.load())
    assert choice.gsi.reads == pytest.approx(2299.5)
    assert choice.duplicate_items.reads == pytest.approx(8541.0)
    assert choice.chosen == GSI and choice.built
    assert choice.gsi.total == pytest.approx(657.0 + 2299.5 + 124_000_000 / 1024**3 * 0.25)
    (info,) = [d for d in layout.diagnostics if d.code == "strategy-choice"]
    assert "$2,956.53" in info.message and "$8,544.29" in info.message
    assert [i.name for i in layout.indexes] == ["table", "GSI1"] and not layout.copies


def test_without_a_relationship_rate_every_entity_write_counts(tmp_path: Path) -> None:
    """No rate.writes_per_second: each of Order's 200 writes/s writes the extra item too:
    200 WRU/s -> $328.50, so duplicated items total $328.50 + $0.0060 + $85.41 = $413.92."""
    path = _variant(tmp_path, ", writes_per_second: 2}", "}")
    model, layout = compile_file(path)
    (choice,) = index_strategies(model, layout, Prices.load())
    assert choice.duplicate_items.write_units_per_second == 200
    assert choice.duplicate_items.writes == pytest.approx(328.5)
    assert choice.duplicate_items.total == pytest.approx(413.91596, abs=1e-4)
    assert choice.chosen == DUPLICATE_ITEMS


def test_compile_says_explain_and_layout_show_both_figures(tmp_path: Path) -> None:
    result = check_text(MODEL.read_text(), str(MODEL))
    assert result.model is not None
    layout, diagnostics = compile_model(result.model)
    assert layout is not None
    assert not [d for d in diagnostics.items if d.code == "strategy-not-built"]
    (info,) = [d for d in diagnostics.items if d.code == "strategy-choice"]
    assert "$88.70" in info.message and "$680.02" in info.message and "built" in info.message
    assert info.span is not None and info.span.line == 29  # the pattern's key
    runner = CliRunner()
    out = runner.invoke(app, ["explain", str(MODEL), "orders_of_customer", "--json"])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)["strategy"]
    assert record["chosen"] == "duplicate_items" and record["built"] is True
    assert record["gsi"]["total"] == pytest.approx(680.0239, abs=1e-4)
    assert record["duplicate_items"]["total"] == pytest.approx(88.70096, abs=1e-4)
    other = runner.invoke(app, ["explain", str(MODEL), "get_order", "--json"])
    assert json.loads(other.stdout)["strategy"] is None
    assert runner.invoke(app, ["compile", str(MODEL), "-o", str(tmp_path)]).exit_code == 0
    md = (tmp_path / "layout.md").read_text()
    assert "Index or duplicated items (strategy: lowest_cost)" in md
    assert "| GSI1 | `orders_of_customer` | $680.02/month" in md
    assert "$88.70/month (writes $3.29, storage $0.01, reads $85.41)" in md


def test_strategy_is_in_the_language(tmp_path: Path) -> None:
    bad = _variant(tmp_path, "strategy: lowest_cost\n", "strategy: cheapest\n")
    result = check_text(bad.read_text(), str(bad))
    assert result.model is None
    (d,) = [d for d in result.diagnostics.items if "strategy" in d.message]
    assert d.span is not None and d.span.line == 6
    schema = json.loads((ROOT / "generated" / "model.schema.json").read_text())
    pattern_keys = schema["$defs"]["PatternSpec"]["properties"]
    assert pattern_keys["strategy"] and schema["properties"]["strategy"]
    reference = language_reference(schema)
    assert reference.count("<code>strategy</code>") == 2  # model level and per pattern


def test_model_cost_prints_the_comparison_at_the_region_asked() -> None:
    """eu-west-1 (WRU $0.7068/M): the GSI's writes are 400 x 2,628,000 x 0.7068e-6."""
    runner = CliRunner()
    out = runner.invoke(app, ["cost", str(MODEL), "--region", "eu-west-1", "--json"])
    assert out.exit_code == 0, out.output
    (choice,) = json.loads(out.stdout)[0]["strategies"]
    assert choice["gsi"]["writes"] == pytest.approx(400 * 2_628_000 * 0.7068e-6)
    assert choice["chosen"] == "duplicate_items" and choice["built"] is True
    table = runner.invoke(app, ["cost", str(MODEL)])
    assert "strategy: lowest_cost" in table.stdout and "$680.02" in table.stdout


def test_model_cost_counts_the_built_copies_in_the_table() -> None:
    """The layout without GSI1: the table carries the copies. By hand: writes 1 (Customer,
    95 B -> 1 WCU) + 200 x 2 (Order, 1094 B) + 200 x 1 (copies, 156 B, at the Order's 200
    writes/s: every write of a row puts its copies) = 601 WCU/s; items 1,000 + 100,000 + 100,000 copies; storage 1,000 x 195 B +
    100,000 x 1,194 B + 100,000 x 256 B = 145,195,000 B; orders_of_customer reads 100 copies
    (ceil(15,600 / 4,096) x 0.5 = 2 RRU) and fetches 100 items (50 RRU): 52 x 5/s = 260 RRU/s,
    the figure the comparison priced."""
    model, layout = compile_file(MODEL)
    report = estimate(model, layout, Prices.load("us-east-1"))
    (table,) = report.indexes
    assert (table.index, table.items, table.storage_bytes) == ("table", 201_000, 145_195_000)
    assert table.write_units_per_second == 601
    by_name = {p.pattern: p for p in report.patterns}
    read = by_name["orders_of_customer"]
    assert (read.items_per_request, read.read_units_per_request) == (100, 52)
    assert read.read_units_per_second == 260
