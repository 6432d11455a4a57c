"""`strategy: fewest_indexes | lowest_cost` (issue 16 item 5): a GSI against writing the
relationship it serves as extra items in the table, priced per month on-demand by the function
`model cost` prints (`modeling.cost.estimate`), on the whole layout with the GSI and with the
copies `modeling.compile.copies` builds.

Hand-worked figures, us-east-1 (WRU $0.625/M, RRU $0.125/M, storage $0.25/GB-month), a month
of 730 h = 2,628,000 s; bytes = attribute name + value estimate.

tests/fixtures/models/strategy_hot.yaml (Order: 100,000 rows, 200 writes/s, notes up to 2,000):
  Customer item 95 B (1 WCU); Order item 1140 B with the GSI1 keys (GSI1PK/GSI1SK 46 B),
  1094 B without; the copy 156 B (PK `CUSTOMER#{customer_id}`, SK `~GSI1#ORDER#{order_id}`,
  order_id, customer_id, `_type` `Order~GSI1`, PK_MAIN/SK_MAIN).
  With GSI1: writes 1 (Customer) + 200 x 2 (table) + 200 x 2 (GSI1, ALL) = 801 WRU/s
    -> 801 x 2.628 x $0.625 = $1,315.6425; reads get_customer 10 x 0.5 + get_order 50 x 0.5
    + orders_of_customer 5 x ceil(100 x 1140 / 4096) x 0.5 = 5 x 14 = 70 -> 100 RRU/s
    -> $32.85; storage 1,000 x 195 + 100,000 x 1,240 (table) + 100,000 x 1,240 (GSI1)
    = 248,195,000 B -> $0.057787.                                      Total $1,348.55.
  With copies: each Order write is one TransactWriteItems of the item (2 units) and its copy
    (1 unit), 2 units per KB per action: 2 x (2 + 1) = 6, so 1 + 200 x 6 = 1,201 WRU/s
    -> $1,972.6425; before it a strongly consistent GetItem (ceil(1094 / 4096) = 1): 200 RRU/s;
    reads 5 + 25 + 5 x (ceil(100 x 156 / 4096) x 0.5 + 100 x 1 x 0.5) = 5 x 52 = 260, so
    490 RRU/s -> $160.965; storage 1,000 x 195 + 100,000 x 1,194 + 100,000 x 256
    = 145,195,000 B -> $0.033806.                                      Total $2,133.64.
  The GSI is kept. (Before this fix the choice priced the copy at the relationship's 2 writes/s
  with no transaction, chose the copies, and `model cost` then showed them $785 dearer.)

tests/fixtures/models/strategy.yaml (Order: 10,000,000 rows, 1 write/s, notes up to 20,000;
1,000,000 customers, so 10 orders each): Order item 10,140 B with the GSI1 keys, 10,094 B
without (10 write units either way; 3 read units).
  With GSI1: writes 1 + 10 + 10 = 21 WRU/s -> $34.4925; reads 5 + 50 x 3 x 0.5 + 5 x
    ceil(10 x 10,140 / 4096) x 0.5 = 5 + 75 + 62.5 = 142.5 RRU/s -> $46.81125; storage
    1,000,000 x 195 + 10,000,000 x 10,240 x 2 = 204,995,000,000 B -> $47.729118.
                                                                       Total $129.03.
  With copies: writes 1 + 2 x (10 + 1) = 23 WRU/s -> $37.7775; reads 5 + 75 + 5 x
    (ceil(10 x 156 / 4096) x 0.5 + 10 x 3 x 0.5) + 3 (the GetItem) = 160.5 RRU/s -> $52.72425;
    storage 1,000,000 x 195 + 10,000,000 x (10,194 + 256) = 104,695,000,000 B -> $24.376204.
                                                                       Total $114.88.
  The copies are built.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from modeling.api import check_text, compile_file
from modeling.cli import app
from modeling.compile import compile_model
from modeling.compile.copies import with_copies
from modeling.compile.strategy import index_strategies
from modeling.cost import DUPLICATE_ITEMS, GSI, Prices, estimate, with_gsis
from modeling.emit.cost_report import chosen
from modeling.emit.reference import language_reference

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"
HOT = ROOT / "tests" / "fixtures" / "models" / "strategy_hot.yaml"
MONTH = 2_628_000 / 1e6  # millions of seconds in 730 h
WRU, RRU, GB_MONTH = 0.625, 0.125, 0.25


def _variant(tmp_path: Path, old: str, new: str, model: Path = MODEL) -> Path:
    text = model.read_text()
    assert old in text
    path = tmp_path / model.name
    path.write_text(text.replace(old, new))
    return path


def test_transactions_make_the_copies_dearer_and_the_gsi_is_kept() -> None:
    """The finding: copies were chosen though `model cost` showed them dearer. Hand-worked
    figures for strategy_hot.yaml in the module docstring."""
    model, layout = compile_file(HOT)
    (choice,) = index_strategies(model, layout, Prices.load("us-east-1"))
    assert (choice.index, choice.patterns, choice.entities) == (
        "GSI1",
        ("orders_of_customer",),
        ("Order",),
    )
    g, d = choice.gsi, choice.duplicate_items
    assert (g.write_units_per_second, g.read_units_per_second) == (801, 100)
    assert g.writes == pytest.approx(801 * MONTH * WRU)  # $1,315.6425
    assert g.reads == pytest.approx(100 * MONTH * RRU)  # $32.85
    assert g.storage == pytest.approx(248_195_000 / 1024**3 * GB_MONTH)
    assert g.total == pytest.approx(1315.6425 + 32.85 + 248_195_000 / 1024**3 * GB_MONTH)
    assert (d.write_units_per_second, d.read_units_per_second) == (1201, 490)
    assert d.writes == pytest.approx(1201 * MONTH * WRU)  # $1,972.6425
    assert d.reads == pytest.approx(490 * MONTH * RRU)  # $160.965
    assert d.storage == pytest.approx(145_195_000 / 1024**3 * GB_MONTH)
    assert d.total == pytest.approx(1972.6425 + 160.965 + 145_195_000 / 1024**3 * GB_MONTH)
    assert choice.chosen == GSI and choice.built
    assert [i.name for i in layout.indexes] == ["table", "GSI1"] and not layout.copies
    (info,) = [x for x in layout.diagnostics if x.code == "strategy-choice"]
    assert "$1,348.55/month with the GSI" in info.message
    assert "$2,133.64/month with duplicated items" in info.message
    # the choice's figures are the ones `model cost` prints for the compiled layout
    report = estimate(model, layout, Prices.load("us-east-1"))
    assert report.totals.on_demand_total == pytest.approx(g.total)


def test_lowest_cost_picks_duplicated_items_with_hand_worked_figures() -> None:
    """Large, many, rarely written orders: storage dominates and the copies are built."""
    model, layout = compile_file(MODEL)
    (choice,) = index_strategies(model, layout, Prices.load("us-east-1"))
    g, d = choice.gsi, choice.duplicate_items
    assert (g.write_units_per_second, g.read_units_per_second) == (21, 142.5)
    assert g.storage == pytest.approx(204_995_000_000 / 1024**3 * GB_MONTH)
    assert g.total == pytest.approx(
        21 * MONTH * WRU + 142.5 * MONTH * RRU + 204_995_000_000 / 1024**3 * GB_MONTH
    )  # $129.03
    assert (d.write_units_per_second, d.read_units_per_second) == (23, 160.5)
    assert d.storage == pytest.approx(104_695_000_000 / 1024**3 * GB_MONTH)
    assert d.total == pytest.approx(
        23 * MONTH * WRU + 160.5 * MONTH * RRU + 104_695_000_000 / 1024**3 * GB_MONTH
    )  # $114.88
    # the copies are built: the layout has no GSI1 (modeling.compile.copies)
    assert choice.chosen == DUPLICATE_ITEMS and choice.built
    assert [i.name for i in layout.indexes] == ["table"] and layout.copy("GSI1") is not None
    # `model cost` of what was built, and of the layout with the GSI, print the same totals
    prices = Prices.load("us-east-1")
    assert estimate(model, layout, prices).totals.on_demand_total == pytest.approx(d.total)
    assert estimate(model, with_gsis(layout), prices).totals.on_demand_total == pytest.approx(
        g.total
    )


def test_fewest_indexes_keeps_the_gsi_without_a_comparison(tmp_path: Path) -> None:
    """The same model under the default strategy: no comparison, no warning, the same GSI."""
    path = _variant(tmp_path, "strategy: lowest_cost\n", "strategy: fewest_indexes\n")
    model, layout = compile_file(path)
    assert index_strategies(model, layout, Prices.load()) == ()
    assert [i.name for i in layout.indexes] == ["table", "GSI1"]
    assert not [d for d in layout.diagnostics if d.code.startswith("strategy-")]
    # and `model cost` of this layout is the GSI option the choice priced
    with_copies_model, built = compile_file(MODEL)
    (choice,) = index_strategies(with_copies_model, built, Prices.load())
    assert estimate(model, layout, Prices.load()).totals.on_demand_total == pytest.approx(
        choice.gsi.total
    )
    # a pattern's own strategy overrides the model's
    path = _variant(
        tmp_path,
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n",
        "    rate: {reads_per_second: 5, writes_per_second: 2}\n    strategy: fewest_indexes\n",
    )
    model, layout = compile_file(path)
    assert index_strategies(model, layout, Prices.load()) == ()


def test_lowest_cost_keeps_the_gsi_when_reads_dominate(tmp_path: Path) -> None:
    """At 500 reads/s of orders_of_customer, the per-item fetches cost more than the storage
    the copies save: GSI 12.5 x 500 = 6,250 RRU/s for that pattern, copies 15.5 x 500 = 7,750
    (the rest as in the module docstring: 80 RRU/s, and the copies' 3 for the GetItem)."""
    path = _variant(
        tmp_path,
        "rate: {reads_per_second: 5, writes_per_second: 2}",
        "rate: {reads_per_second: 500, writes_per_second: 2}",
    )
    model, layout = compile_file(path)
    (choice,) = index_strategies(model, layout, Prices.load())
    assert choice.gsi.read_units_per_second == 80 + 6_250
    assert choice.duplicate_items.read_units_per_second == 80 + 7_750 + 3
    assert choice.chosen == GSI and choice.built
    (info,) = [d for d in layout.diagnostics if d.code == "strategy-choice"]
    assert f"${choice.gsi.total:,.2f}/month with the GSI" in info.message
    assert f"${choice.duplicate_items.total:,.2f}/month with duplicated items" in info.message
    assert [i.name for i in layout.indexes] == ["table", "GSI1"] and not layout.copies


def test_the_relationship_write_rate_does_not_discount_the_copies(tmp_path: Path) -> None:
    """The generated client rewrites the copies with every write of the row, whatever the
    relationship's declared `rate.writes_per_second`: without it the figures are the same.
    Before: the copy was priced at the relationship's 2 writes/s instead of Order's writes."""
    model, layout = compile_file(HOT)
    path = _variant(tmp_path, ", writes_per_second: 2}", "}", HOT)
    other, other_layout = compile_file(path)
    (a,) = index_strategies(model, layout, Prices.load())
    (b,) = index_strategies(other, other_layout, Prices.load())
    assert a.duplicate_items == b.duplicate_items and a.gsi == b.gsi
    assert a.duplicate_items.write_units_per_second == 1 + 200 * 2 * (2 + 1)


def test_compile_says_explain_and_layout_show_both_figures(tmp_path: Path) -> None:
    result = check_text(MODEL.read_text(), str(MODEL))
    assert result.model is not None
    layout, diagnostics = compile_model(result.model)
    assert layout is not None
    assert not [d for d in diagnostics.items if d.code == "strategy-not-built"]
    (info,) = [d for d in diagnostics.items if d.code == "strategy-choice"]
    assert "$114.88" in info.message and "$129.03" in info.message and "built" in info.message
    assert info.span is not None and info.span.line == 31  # the pattern's key
    runner = CliRunner()
    out = runner.invoke(app, ["explain", str(MODEL), "orders_of_customer", "--json"])
    assert out.exit_code == 0, out.output
    record = json.loads(out.stdout)["strategy"]
    assert record["chosen"] == "duplicate_items" and record["built"] is True
    assert record["gsi"]["total"] == pytest.approx(129.03, abs=5e-3)
    assert record["duplicate_items"]["total"] == pytest.approx(114.88, abs=5e-3)
    other = runner.invoke(app, ["explain", str(MODEL), "get_order", "--json"])
    assert json.loads(other.stdout)["strategy"] is None
    assert runner.invoke(app, ["compile", str(MODEL), "-o", str(tmp_path)]).exit_code == 0
    md = (tmp_path / "layout.md").read_text()
    assert "Index or duplicated items (strategy: lowest_cost)" in md
    assert "| GSI1 | `orders_of_customer` | $129.03/month" in md
    assert "$114.88/month (writes $37.78, storage $24.38, reads $52.72)" in md


def test_strategy_is_in_the_language(tmp_path: Path) -> None:
    bad = _variant(tmp_path, "strategy: lowest_cost\n", "strategy: cheapest\n")
    result = check_text(bad.read_text(), str(bad))
    assert result.model is None
    (d,) = [d for d in result.diagnostics.items if "strategy" in d.message]
    assert d.span is not None and d.span.line == 8  # `strategy:` under the 5-line header
    schema = json.loads((ROOT / "generated" / "model.schema.json").read_text())
    pattern_keys = schema["$defs"]["PatternSpec"]["properties"]
    assert pattern_keys["strategy"] and schema["properties"]["strategy"]
    reference = language_reference(schema)
    assert reference.count("<code>strategy</code>") == 2  # model level and per pattern


def test_model_cost_prints_the_comparison_at_the_region_asked() -> None:
    """eu-west-1 (WRU $0.7068/M): the writes with the GSI are 21 x 2,628,000 x 0.7068e-6."""
    runner = CliRunner()
    out = runner.invoke(app, ["cost", str(MODEL), "--region", "eu-west-1", "--json"])
    assert out.exit_code == 0, out.output
    (choice,) = json.loads(out.stdout)[0]["strategies"]
    assert choice["gsi"]["writes"] == pytest.approx(21 * 2_628_000 * 0.7068e-6)
    assert choice["chosen"] == "duplicate_items" and choice["built"] is True
    table = runner.invoke(app, ["cost", str(MODEL)])
    assert "strategy: lowest_cost" in table.stdout and "$129.03" in table.stdout


def test_model_cost_counts_the_built_copies_in_the_table() -> None:
    """The layout without GSI1: the table carries the copies, written as the generated client
    writes them (the module docstring's figures for strategy.yaml): 23 WCU/s, of which 22 for
    Order's item and copy in one TransactWriteItems; a GetItem before each (3 RCU/s); items
    1,000,000 + 10,000,000 + 10,000,000 copies; storage 104,695,000,000 B; orders_of_customer
    reads 10 copies (0.5 RRU) and fetches 10 items (15 RRU): 15.5 x 5/s = 77.5 RRU/s."""
    model, layout = compile_file(MODEL)
    report = estimate(model, layout, Prices.load("us-east-1"))
    (table,) = report.indexes
    assert (table.index, table.items, table.storage_bytes) == (
        "table",
        21_000_000,
        104_695_000_000,
    )
    assert table.write_units_per_second == 23
    assert table.write_read_units_per_second == 3
    # table reads: get_customer 10 x 0.5 + get_order 50 x 1.5 + orders_of_customer 77.5 + 3
    assert table.read_units_per_second == 160.5
    by_name = {p.pattern: p for p in report.patterns}
    read = by_name["orders_of_customer"]
    assert (read.items_per_request, read.read_units_per_request) == (10, 15.5)
    assert read.read_units_per_second == 77.5
    total = 160.5 * MONTH * RRU + 23 * MONTH * WRU + 104_695_000_000 / 1024**3 * GB_MONTH
    assert report.totals.on_demand_total == pytest.approx(total)  # $114.88
    out = CliRunner().invoke(app, ["cost", str(MODEL)])
    assert "as built (relationship copies, written as the generated client writes them)" in (
        " ".join(out.stdout.split())
    )
    assert "on-demand $114.88/month; with the GSIs instead $129.03/month" in " ".join(
        out.stdout.split()
    )


# every figure the property varies: Order rows, writes and item size, the customers (orders
# per customer) and the relationship's reads
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orders=st.sampled_from([1_000, 100_000, 10_000_000, 200_000_000]),
    customers=st.sampled_from([10, 1_000, 1_000_000]),
    writes=st.sampled_from([0, 0.1, 1, 20, 500]),
    notes=st.sampled_from([20, 2_000, 20_000, 300_000]),
    reads=st.sampled_from([0.01, 1, 5, 200]),
)
def test_the_choice_is_never_dearer_than_the_other_layout(
    orders: int, customers: int, writes: float, notes: int, reads: float
) -> None:
    """For every GSI `lowest_cost` decides, `model cost` of the compiled layout (what was
    chosen) is at most `model cost` of the other layout (the GSI swapped for the copies
    `with_copies` builds, or the copies turned back into the GSI)."""
    text = MODEL.read_text()
    for old, new in (
        (
            "    row_count: 10000000\n    writes_per_second: 1\n",
            f"    row_count: {orders}\n    writes_per_second: {writes}\n",
        ),
        ("    row_count: 1000000\n", f"    row_count: {customers}\n"),
        ("max_length: 20000}", f"max_length: {notes}}}"),
        ("reads_per_second: 5, writes_per_second: 2", f"reads_per_second: {reads}"),
    ):
        assert old in text
        text = text.replace(old, new)
    result = check_text(text, "property.yaml")
    assert result.model is not None, [d.message for d in result.diagnostics.items]
    model = result.model
    layout, bag = compile_model(model)
    assert layout is not None, [d.message for d in bag.items]
    prices = Prices.load()
    (choice,) = index_strategies(model, layout, prices)
    gsi = with_gsis(layout)
    copies = with_copies(model, gsi, ["GSI1"])
    if choice.chosen == DUPLICATE_ITEMS and not choice.built:
        # cheaper but not buildable here (e.g. a sharded plan): the GSI stays, and says so
        assert not layout.copies
        assert any(d.code == "strategy-not-built" for d in layout.diagnostics)
        return
    chosen, other = (copies, gsi) if layout.copies else (gsi, copies)
    assert (choice.chosen == DUPLICATE_ITEMS) == bool(layout.copies)
    mine = estimate(model, layout, prices).totals.on_demand_total
    theirs = estimate(model, other, prices).totals.on_demand_total
    assert mine is not None and theirs is not None
    assert mine == pytest.approx(estimate(model, chosen, prices).totals.on_demand_total)
    assert mine <= theirs + 1e-9, (choice.reason, mine, theirs)


def test_repriced_the_choice_says_what_the_layout_holds() -> None:
    """`model cost --region/--prices` reprices the choice; where other prices favour the GSI
    over copies the layout was compiled with, the choice says the layout does not hold it."""
    model, layout = compile_file(MODEL)
    assert layout.copy("GSI1") is not None
    free_storage = dataclasses.replace(Prices.load(), storage_gb_month=0.0)
    (choice,) = index_strategies(model, layout, free_storage)
    assert choice.chosen == GSI and not choice.built
    assert "not built" in chosen(choice)
