"""Relationship copies (`strategy: lowest_cost`) serving sort-key range conditions (issue 16
item 5): the copy's sort key carries an identity suffix after the range slot, so every bound is
derived again in the encoded key space (`plans.copy_sort_key`); the client returns what
PostgreSQL returns, ties at `<=` / `>` on the right side, for bounds equal to stored values,
strings holding separators, escapes and any Unicode, and dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.compile.strategy import index_strategies
from modeling.core import ir
from modeling.cost import DUPLICATE_ITEMS, Prices, estimate, with_gsis
from modeling.emit.client import pattern_methods
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_transformers import load_package

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "tests" / "fixtures" / "models" / "strategy.yaml"

# pattern -> its range condition; ORDER BY the range column, DESC (ties: any order)
RANGES = {
    "before": "placed_at < :placed_at",
    "upto": "placed_at <= :placed_at",
    "after": "placed_at > :placed_at",
    "since": "placed_at >= :placed_at",
    "window": "placed_at > :lo AND placed_at <= :hi",
    "window_in": "placed_at BETWEEN :lo AND :hi",
    "l_before": "label < :label",
    "l_upto": "label <= :label",
    "l_after": "label > :label",
    "l_since": "label >= :label",
    "l_window": "label >= :lo AND label < :hi",
    "l_prefix": "label LIKE :p || '%'",
}
# separators, the escape char, prefixes of one another, the empty string, non-ASCII and the
# highest code point (escaped as two chars), so each bound meets its neighbours in the key
LABELS = ["", "a", "a#", "a#b", "a$", "a$23", "a b", "ab", "a\U0010ffff", "é", "日本", "\U0010ffff"]
# IN over the partition key: one Query of the copies per value, merged in order, LIMIT after
FANS = {
    "some_since": "SELECT * FROM orders WHERE customer_id IN (:a, :b) AND placed_at >= :since "
    "ORDER BY placed_at DESC LIMIT 7",
    "some_below": "SELECT * FROM orders WHERE customer_id IN (:a, :b, :c) AND label < :label "
    "ORDER BY label LIMIT :n",
}
DAYS = [dt.date(2024, 3, 1) + dt.timedelta(days=d) for d in range(5)]


def model_text(nullable: bool = False) -> str:
    text = MODEL.read_text()
    required = "false" if nullable else "true"
    text = text.replace(
        "      total: decimal\n",
        "      total: decimal\n"
        f"      placed_at: {{type: date, required: {required}}}\n"
        f"      label: {{type: string, max_length: 40, required: {required}}}\n",
    )
    for name, cond in RANGES.items():
        order = "label" if name.startswith("l_") else "placed_at"
        text += (
            f"  {name}:\n"
            f"    sql: SELECT * FROM orders WHERE customer_id = :customer_id AND {cond} "
            f"ORDER BY {order} DESC\n"
            "    rate: {reads_per_second: 1, writes_per_second: 2}\n"
        )
    return text


def compiled(
    tmp_path: Path, nullable: bool = False, *changes: tuple[str, str]
) -> tuple[ir.Model, ir.Layout]:
    path = tmp_path / "ranges.yaml"
    text = model_text(nullable) + "".join(
        f"  {name}:\n    sql: {sql}\n    rate: {{reads_per_second: 1, writes_per_second: 2}}\n"
        for name, sql in FANS.items()
    )
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


def test_range_patterns_are_served_by_copies(tmp_path: Path) -> None:
    """Before: every range pattern kept its GSI (`strategy-not-built`: a sort-key range)."""
    _, layout = compiled(tmp_path)
    assert [i.name for i in layout.indexes] == ["table"]
    assert {c.name: c.sk for c in layout.copies} == {
        "GSI1": "~GSI1#ORDER#{placed_at}#{order_id}",
        "GSI2": "~GSI2#ORDER#{label}#{order_id}",
    }
    assert not [d for d in layout.diagnostics if d.code == "strategy-not-built"]
    for name in RANGES:
        plan = layout.plan(name)
        assert plan is not None and plan.copy is not None and plan.index == "table", name
        # the range slot is followed by the suffix: every bound is exact in the key, no
        # residual filter; both ends stay inside the copy's marker
        assert plan.filters == (), name
        assert plan.sk.kind in ("between", "begins_with"), name
        assert all(v.template.startswith("~GSI") for v in plan.sk.values), name


def test_sparse_copies_are_priced_for_the_rows_that_have_them(tmp_path: Path) -> None:
    """pg_stats null_frac 0.25 (placed_at) and 0.5 (label): a quarter and a half of the orders
    are on neither the sparse GSI nor have such a copy, so both options write and store that
    much less. Priced as the generated client writes (hand-computed below): each of Order's
    1 write/s is one TransactWriteItems of the item and the copies it has, 2 units per KB per
    action: 2 x (ceil(item / 1 KB) + 0.75 + 0.5 + 1) units; a sparse GSI entry is written for
    0.75 (GSI1) and 0.5 (GSI2) of the writes. Before: no copy was built for a sparse key, and
    all rows were priced."""
    model, layout = compiled(
        tmp_path,
        True,
        ("placed_at: {type: date, ", "placed_at: {stats: {null_frac: 0.25}, type: date, "),
        ("label: {type: string, ", "label: {stats: {null_frac: 0.5}, type: string, "),
    )
    prices = Prices.load("us-east-1")
    choices = {c.index: c for c in index_strategies(model, layout, prices)}
    assert {i: c.chosen for i, c in choices.items()} == {
        "GSI1": DUPLICATE_ITEMS,
        "GSI2": DUPLICATE_ITEMS,
        "GSI3": DUPLICATE_ITEMS,
    }
    assert {c.name for c in layout.copies} == {"GSI1", "GSI2", "GSI3"}
    assert {c.name: c.key.sparse for c in layout.copies if c.key} == {
        "GSI1": True,
        "GSI2": True,
        "GSI3": False,
    }
    report = estimate(model, layout, prices)
    table = report.indexes[0]
    # 1,000,000 customers and 10,000,000 orders; copies: 7,500,000 (GSI1), 5,000,000 (GSI2),
    # 10,000,000 (GSI3)
    assert table.items == 1_000_000 + 10_000_000 + 7_500_000 + 5_000_000 + 10_000_000
    order = next(e for e in report.entities if e.entity == "Order")
    units = math.ceil(order.item_bytes / 1024)
    assert table.write_units_per_second == 1 + 2 * (units + 0.75 + 0.5 + 1)
    # with the GSIs: an entry for the rows that have the key only
    gsis = {i.index: i for i in estimate(model, with_gsis(layout), prices).indexes}
    assert (gsis["GSI1"].items, gsis["GSI2"].items, gsis["GSI3"].items) == (
        7_500_000,
        5_000_000,
        10_000_000,
    )
    projected = math.ceil(order.item_bytes / 1024)  # ALL: the entry is about the item
    assert gsis["GSI1"].write_units_per_second == pytest.approx(0.75 * projected, abs=0.75)
    assert gsis["GSI2"].write_units_per_second == pytest.approx(0.5 * projected, abs=0.5)
    # each choice compared two layouts `model cost` prices; the last is the compiled one
    assert choices["GSI3"].duplicate_items.total == pytest.approx(report.totals.on_demand_total)


def rows(seed: int, nullable: bool) -> Dataset:
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, 4)]
    orders = []
    for n in range(1, 151):
        null = nullable and rng.random() < 0.15
        orders.append(
            {
                "order_id": n,
                "customer_id": rng.randint(1, 3),
                "notes": "n" * rng.randint(0, 20),
                "total": 1,
                "placed_at": None if null else rng.choice(DAYS),
                "label": None if nullable and rng.random() < 0.15 else rng.choice(LABELS),
            }
        )
    return Dataset({"Customer": customers, "Order": orders})


def bound_values(name: str) -> list[dict[str, Any]]:
    """Every stored value as a bound (ties), values between and beyond them."""
    if name.startswith("l_"):
        values: list[Any] = [*LABELS, "a!", "a#a", "a%", "aa", "z", "\U0010ffff\U0010ffff"]
    else:
        values = [*DAYS, DAYS[0] - dt.timedelta(days=1), DAYS[-1] + dt.timedelta(days=3)]
    if name == "l_prefix":
        return [{"p": v} for v in ("", "a", "a#", "a$", "a\U0010ffff", "日", "é", "b")]
    if "window" in name:
        pairs = [(a, b) for a in values for b in values][::3]
        return [{"lo": a, "hi": b} for a, b in pairs]
    key = "label" if name.startswith("l_") else "placed_at"
    return [{key: v} for v in values]


def groups(got: list[dict[str, Any]], column: str) -> list[tuple[Any, frozenset[int]]]:
    """The rows as runs of equal `column` values (ties may come in any order)."""
    out: list[tuple[Any, set[int]]] = []
    for row in got:
        if not out or out[-1][0] != row[column]:
            out.append((row[column], set()))
        out[-1][1].add(row["order_id"])
    return [(v, frozenset(ids)) for v, ids in out]


def pg_sql(cond: str, order: str, table: str) -> str:
    sql = f"SELECT * FROM {table} WHERE customer_id = :customer_id AND {cond} ORDER BY {order} DESC"
    sql = re.sub(r"\blabel\b", 'label COLLATE "C"', sql).replace("'%'", "'%%'")
    return re.sub(r":([a-z_]+)", r"%(\1)s", sql)


def check_against_postgres(
    model: ir.Model, layout: ir.Layout, data: Dataset, pg: Any, ddb: Any, tmp_path: Path
) -> dict[str, int]:
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    items = [i for e in model.entities for row in data.of(e.name) for i in t.items_of(e.name, row)]
    table = f"copies_ranges_{len(items)}"
    dynamo.create_table(ddb, layout, table)
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    methods = pattern_methods(layout, model)
    checked = {"queries": 0, "non_empty": 0, "tie_bounds": 0, "pages": 0}
    with psycopg.connect(pg.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        sql_table = schema.tables["Order"].expression().sql("postgres")
        for name, cond in RANGES.items():
            column = "label" if name.startswith("l_") else "placed_at"
            sql = pg_sql(cond, column, sql_table)
            args = methods[name].args
            for customer in (1, 2, 3):
                for bounds in bound_values(name):
                    params = {"customer_id": customer, **bounds}
                    with conn.cursor(row_factory=dict_row) as cur:
                        expected = cur.execute(sql, params).fetchall()
                    kwargs = {args[k]: v for k, v in params.items()}
                    got = getattr(client, methods[name].method)(**kwargs)
                    assert groups(got, column) == groups(expected, column), (name, params)
                    assert (
                        {r["order_id"]: r for r in got}
                        == {e["order_id"]: {k: e[k] for k in got[0]} for e in expected}
                        if got
                        else not expected
                    )
                    checked["queries"] += 1
                    checked["non_empty"] += bool(expected)
                    stored = {r[column] for r in data.of("Order")}
                    checked["tie_bounds"] += any(
                        v in stored and any(r[column] == v for r in expected)
                        for v in bounds.values()
                    )
                    if customer == 1 and len(expected) > 3:
                        pages: list[dict[str, Any]] = []
                        cursor = None
                        while True:
                            page, cursor = getattr(client, methods[name].method + "_page")(
                                **kwargs, cursor=cursor, page_size=3
                            )
                            pages += page
                            checked["pages"] += 1
                            if cursor is None:
                                break
                        assert [r["order_id"] for r in pages] == [r["order_id"] for r in got]
    return checked


@pytest.mark.e2e
def test_range_reads_through_copies_match_postgres(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = compiled(tmp_path)
    assert {p.copy for p in layout.plans if p.pattern in RANGES} == {"GSI1", "GSI2"}
    checked = check_against_postgres(
        model, layout, rows(3, False), postgres, dynamodb_local.client(), tmp_path
    )
    assert checked["non_empty"] > 150 and checked["tie_bounds"] > 100, checked
    assert checked["pages"] > 60, checked


@pytest.mark.e2e
def test_sparse_copies_match_postgres(postgres: Any, dynamodb_local: Any, tmp_path: Path) -> None:
    """Nullable range columns: the GSI key is sparse, and so is each copy (none while its slot
    is NULL: SQL's comparisons never hold for NULL). Before: `strategy-not-built` (sparse)."""
    model, layout = compiled(tmp_path, nullable=True)
    sparse = {c.name for c in layout.copies if c.key is not None and c.key.sparse}
    assert sparse == {"GSI1", "GSI2"} and [i.name for i in layout.indexes] == ["table"]
    data = rows(4, True)
    t = load_package(layout, model, tmp_path / "count", client=True)
    written = [i for r in data.of("Order") for i in t.items_of("Order", r)]
    order = model.entity("Order")
    assert order is not None
    assert written == [  # the generated transformers write what the reference codec writes
        i
        for r in data.of("Order")
        for i in (
            codec.to_item(model, layout, order, r),
            *codec.copy_items(model, layout, order, r),
        )
    ]
    for name, column in (("Order~GSI1", "placed_at"), ("Order~GSI2", "label")):
        present = sum(r[column] is not None for r in data.of("Order"))
        assert sum(i["_type"]["S"] == name for i in written) == present < 150
    checked = check_against_postgres(
        model, layout, data, postgres, dynamodb_local.client(), tmp_path
    )
    assert checked["non_empty"] > 150 and checked["tie_bounds"] > 100, checked


@pytest.mark.e2e
def test_verify_proves_range_and_sparse_copies(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """`model verify` proves every range pattern served by (sparse) copies against
    PostgreSQL, and fails the same layout when its copies are not written."""
    model, layout = compiled(tmp_path, nullable=True)
    options = VerifyOptions(trials=6, sample=SampleOptions(seed=5, roots=12, fanout=4))
    ddb = dynamodb_local.client()
    served = {p.pattern for p in layout.plans if p.copy}
    assert set(RANGES) <= served
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns if p.failures]
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert served <= proven, served - proven
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(
            model, dataclasses.replace(layout, copies=()), ddb, pg_conn=conn, options=options
        )
    assert {p.pattern for p in broken.patterns if p.failures} == served


@pytest.mark.e2e
def test_in_reads_through_copies_match_postgres(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """IN over the copy's partition key: the client queries the copies once per value and
    merges by the ORDER BY column (NULL rows have no sparse copy), then applies the LIMIT.
    Before: `strategy-not-built` (IN)."""
    model, layout = compiled(tmp_path, nullable=True)
    assert {layout.plan(n).copy for n in FANS} == {"GSI1", "GSI2"}  # type: ignore[union-attr]
    data = rows(6, True)
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    items = [i for e in model.entities for r in data.of(e.name) for i in t.items_of(e.name, r)]
    ddb = dynamodb_local.client()
    dynamo.create_table(ddb, layout, "copies_in")
    dynamo.write_items(ddb, "copies_in", items, dynamo.LoadResult())
    client = client_module.Client("copies_in", ddb)
    methods = pattern_methods(layout, model)
    calls = [
        ("some_since", "placed_at", {"a": a, "b": b, "since": d})
        for a, b in ((1, 2), (2, 3), (3, 3), (1, 9))
        for d in DAYS[:4]
    ] + [
        ("some_below", "label", {"a": 1, "b": 2, "c": 3, "label": v, "n": n})
        for v in ("a#b", "ab", "é", "\U0010ffff", "a")
        for n in (1, 4, 100)
    ]
    full = 0
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        sql_table = schema.tables["Order"].expression().sql("postgres")
        for name, column, params in calls:
            sql = re.sub(r"\bFROM orders\b", f"FROM {sql_table}", FANS[name])
            sql = re.sub(r"\blabel\b", 'label COLLATE "C"', sql)
            unlimited = re.sub(r" LIMIT .*$", "", sql)
            sql, unlimited = (re.sub(r":([a-z_]+)", r"%(\1)s", q) for q in (sql, unlimited))
            with conn.cursor(row_factory=dict_row) as cur:
                expected = cur.execute(sql, params).fetchall()
                every = {r["order_id"]: r for r in cur.execute(unlimited, params).fetchall()}
            args = methods[name].args
            kwargs = {args.get(k, k): v for k, v in params.items()}  # IN values: as written
            got = getattr(client, methods[name].method)(**kwargs)
            # the same values in the same order; tied rows at the LIMIT may be any of the ties
            assert [r[column] for r in got] == [e[column] for e in expected], (name, params)
            assert all(dict(r) == {k: every[r["order_id"]][k] for k in r} for r in got)
            assert len({r["order_id"] for r in got}) == len(got)
            full += bool(expected) and len(expected) < len(every)
    assert full >= 20
