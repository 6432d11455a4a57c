"""Issue 14 item 7 and issue 13's `where` + `filter` finding, end to end: every pattern of
tests/fixtures/models/sql_forms.yaml runs through the generated client on DynamoDB Local and
as its SQL on PostgreSQL 15, on the same rows, and the answers are equal.

The parameters are taken from the data so that bounds land exactly on stored values (ties at
the boundary), between stored values, before and after all of them, with empty ranges
(`:from = :to` under a half-open range) and crossed ones (`:from > :to`). String keys share
prefixes (`ab`, `abc`, `ab c`, `a`) so that a bound that is a prefix of a stored value is
covered. Rows with equal ordering values are compared as sets (the SQL orders by that column
only, so their order is not promised); under LIMIT any rows of the last tie group that SQL
could return are accepted.
"""

from __future__ import annotations

import datetime as dt
import keyword
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from modeling.api import load_model
from modeling.cli import app
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit.client import emit_client
from modeling.sample import oracle
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv

from .test_transformers import load_package

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "sql_forms.yaml"
CUSTOMERS = 6
BOOKS = 3
DAYS = [dt.date(2024, 3, 1) + dt.timedelta(days=d) for d in range(12)]
WORDS = ["a", "a b", "a#b", "a$", "ab", "ab c", "abc", "abd", "b", "ba", "bb", "z", "zz"]

# the patterns written in YAML, as the SQL they stand for
YAML_SQL = {
    "orders_where_filter": "SELECT * FROM orders WHERE customer_id = :customer_id "
    "AND order_date >= :order_date_from AND order_date < :order_date_to ORDER BY order_date",
    "orders_bounds": "SELECT * FROM orders WHERE customer_id = :customer_id "
    "AND order_date > :order_date_from AND order_date <= :order_date_to ORDER BY order_date DESC",
    "unshipped_orders_yaml": "SELECT * FROM orders WHERE customer_id = :customer_id "
    "AND shipped_on IS NULL ORDER BY order_date",
    "shipped_orders_yaml": "SELECT * FROM orders WHERE customer_id = :customer_id "
    "AND shipped_on IS NOT NULL ORDER BY shipped_on DESC",
}
# the attribute each pattern's rows are ordered (and tied) by
ORDER_BY = {"Order": "order_date", "Entry": "word"}
KEY = {"Order": ("order_id",), "Entry": ("book_id", "word")}


def _compiled() -> tuple[ir.Model, ir.Layout]:
    model = load_model(FIXTURE)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


def _rows(seed: int = 14) -> Dataset:
    """Orders on 12 days (many ties per customer); every book holds a random subset of
    prefix-sharing words."""
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, CUSTOMERS + 1)]
    orders = [
        {
            "order_id": n,
            "customer_id": rng.randint(1, CUSTOMERS),
            "order_date": rng.choice(DAYS),
            "total": Decimal(rng.randint(100, 9_999)) / 100,
            "shipped_on": None if rng.random() < 0.3 else rng.choice(DAYS),
        }
        for n in range(150)
    ]
    entries = [
        {"book_id": b, "word": w, "count": rng.randint(1, 9)}
        for b in range(1, BOOKS + 1)
        for w in WORDS
        if rng.random() < 0.8
    ]
    return Dataset({"Customer": customers, "Order": orders, "Entry": entries})


def _bounds(values: list[Any], rng: random.Random) -> list[tuple[Any, Any]]:
    """(low, high) pairs: on stored values, equal (empty half-open range), crossed, and
    outside every value."""
    pairs = [(values[0], values[-1]), (values[-1], values[0])]
    for _ in range(4):
        a, b = sorted(rng.sample(values, 2))
        pairs.append((a, b))
    pairs.append((values[len(values) // 2],) * 2)
    return pairs


def _in_params(c: ir.Condition, rng: random.Random) -> dict[str, Any]:
    """Values for an IN list: stored ones, repeated ones and one that matches nothing."""
    pool: list[Any] = {
        "customer_id": [*range(1, CUSTOMERS + 1), 99],
        "book_id": [*range(1, BOOKS + 1), 99],
        "word": [*WORDS, "ab ", "nope", ""],
    }[c.attribute]
    if c.listed:
        return {c.params[0]: [rng.choice(pool) for _ in range(rng.randint(0, 4))]}
    return {p: rng.choice(pool) for p in c.params}


def _params(pattern: ir.AccessPattern, rng: random.Random) -> list[dict[str, Any]]:
    """Every parameter set a pattern is called with."""
    entity = pattern.entities[0]
    out: list[dict[str, Any]] = []
    owner = "customer_id" if entity == "Order" else "book_id"
    fan = next((c for c in pattern.where if c.op == ir.IN), None)
    if fan is not None and fan.attribute == owner:
        bases = [_in_params(fan, rng) for _ in range(6)] if fan.params else [{}]
    else:
        count = CUSTOMERS if entity == "Order" else BOOKS
        bases = [{owner: o} for o in range(1, count + 1)]
        if fan is not None:
            bases = [{**b, **_in_params(fan, rng)} for b in bases for _ in range(3)]
    if entity == "Order":
        values = [DAYS[0] - dt.timedelta(days=1), *DAYS, DAYS[-1] + dt.timedelta(days=1)]
    else:
        values = ["", "a", "a ", "aa", "ab", "ab ", "abc", "abcd", "b", "c", "zz", "zzz"]
    ranged = [
        p
        for c in (*pattern.where, *pattern.filter)
        if c.op != ir.IN and c.attribute != owner
        for p in c.param_names
    ]
    for base in bases:
        if not ranged:
            out.append(dict(base))
        elif len(ranged) == 1:
            for v in rng.sample(values, 5):
                params = {**base, ranged[0]: v}
                if pattern.limit_param is not None:
                    params[pattern.limit_param] = rng.choice([1, 2, 3, 7, 100])
                out.append(params)
        else:
            for low, high in _bounds(values, rng):
                out.append({**base, ranged[0]: low, ranged[1]: high})
    return out


def _ident(row: dict[str, Any], key: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[k] for k in key)


def _groups(
    rows: list[dict[str, Any]], attribute: str, key: tuple[str, ...]
) -> list[tuple[Any, frozenset]]:
    """Consecutive rows with one value of `attribute` as one group, in result order."""
    out: list[tuple[Any, set[Any]]] = []
    for row in rows:
        if not out or out[-1][0] != row[attribute]:
            out.append((row[attribute], set()))
        out[-1][1].add(_ident(row, key))
    return [(v, frozenset(ids)) for v, ids in out]


def _python(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the client's arguments: a Python keyword (`:from`) gets a `_`."""
    return {f"{k}_" if keyword.iskeyword(k) else k: v for k, v in params.items()}


def _sql(pattern: ir.AccessPattern, tables: dict[str, str]) -> str:
    sql = pattern.sql or YAML_SQL[pattern.name]
    for name, expression in tables.items():
        sql = re.sub(rf"\bFROM {name}\b", f"FROM {expression}", sql)
    sql = re.sub(r"\bIN :([a-z_]+)", r"= ANY(:\1)", sql)  # a list parameter, as psycopg binds it
    return re.sub(r":([a-z_]+)", r"%(\1)s", sql)


def _same_answer(
    got: list[dict[str, Any]],
    expected: list[dict[str, Any]],
    everything: list[dict[str, Any]],
    attribute: str,
    key: tuple[str, ...],
) -> None:
    """`got` is an answer the SQL allows: the same tie groups in the same order; under LIMIT,
    the last group may be any rows of the whole tie group (`everything`: the SQL without LIMIT)."""
    assert len(got) == len(expected)
    want, have = _groups(expected, attribute, key), _groups(got, attribute, key)
    assert [v for v, _ in have] == [v for v, _ in want]
    assert have[:-1] == want[:-1]
    if have:
        tie = {_ident(r, key) for r in everything if r[attribute] == have[-1][0]}
        assert len(have[-1][1]) == len(want[-1][1]) and have[-1][1] <= tie


@pytest.mark.e2e
def test_generated_client_returns_what_postgres_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled()
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "sql_forms"
    dynamo.create_table(ddb, layout, table)
    items = [t.TO_ITEM[e.name](row) for e in model.entities for row in data.of(e.name)]
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    rng = random.Random(7)
    seen = {
        "boundary_hits": 0,
        "empty": 0,
        "limited_ties": 0,
        "calls": 0,
        "merged": 0,
        "null_rows": 0,
    }
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        tables = {
            model.entity(e).table: ref.expression().sql("postgres")  # type: ignore[union-attr]
            for e, ref in schema.tables.items()
        }
        for pattern in model.patterns:
            entity = pattern.entities[0]
            attribute, key = pattern.order_by or ORDER_BY[entity], KEY[entity]
            sql = _sql(pattern, tables)
            unlimited = re.sub(r"\s+LIMIT\s+\S+\s*$", "", sql)
            for params in _params(pattern, rng):
                with conn.cursor(row_factory=dict_row) as cur:
                    expected = cur.execute(sql, params).fetchall()
                    everything = cur.execute(unlimited, params).fetchall()
                got = getattr(client, pattern.name)(**_python(params))
                context = (pattern.name, params)
                assert {_ident(r, key) for r in got} <= {_ident(r, key) for r in everything}
                if "ORDER BY" in sql:
                    _same_answer(got, expected, everything, attribute, key)
                else:  # no order promised: the same rows
                    assert sorted(_ident(r, key) for r in got) == sorted(
                        _ident(r, key) for r in expected
                    ), context
                seen["calls"] += 1
                seen["null_rows"] += pattern.name.startswith("unshipped_orders") and bool(expected)
                seen["empty"] += not expected
                bounds = {
                    v
                    for k, v in params.items()
                    if k not in ("customer_id", "book_id") and not isinstance(v, list)
                }
                owners = {r.get("customer_id", r.get("book_id")) for r in got}
                seen["merged"] += len(owners) > 1 and "ORDER BY" in sql
                seen["boundary_hits"] += any(r[attribute] in bounds for r in everything)
                if len(expected) < len(everything):
                    last = expected[-1][attribute] if expected else None
                    seen["limited_ties"] += sum(r[attribute] == last for r in everything) > sum(
                        r[attribute] == last for r in expected
                    )
    assert seen["calls"] >= 150, seen
    # the data exercised the boundaries: values equal to a bound, empty answers, LIMIT cutting
    # through a tie group
    assert seen["boundary_hits"] >= 50 and seen["empty"] >= 10 and seen["limited_ties"] >= 3, seen
    # IN lists: answers of several partitions merged in ORDER BY order
    assert seen["merged"] >= 10, seen
    # IS NULL found the rows without a value
    assert seen["null_rows"] >= 6, seen  # the SQL and the YAML form


@pytest.mark.e2e
def test_pages_of_a_half_open_range_add_up_to_the_whole_answer(
    dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled()
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    dynamo.create_table(ddb, layout, "sql_forms_pages")
    items = [t.TO_ITEM[e.name](row) for e in model.entities for row in data.of(e.name)]
    dynamo.write_items(ddb, "sql_forms_pages", items, dynamo.LoadResult())
    client = client_module.Client("sql_forms_pages", ddb)
    for name, params in [
        ("orders_in_period", {"customer_id": 1, "from": DAYS[2], "to": DAYS[9]}),
        ("words_open_closed", {"book_id": 1, "from": "a", "to": "b"}),
    ]:
        whole = getattr(client, name)(**_python(params))
        pages: list[Any] = []
        start = None
        while True:
            page, start = getattr(client, name + "_page")(
                **_python(params), cursor=start, page_size=2
            )
            pages += page
            if start is None:
                break
        assert pages == whole and whole


def test_where_and_filter_on_one_attribute_take_one_parameter_per_bound() -> None:
    """Issue 13: `where: {order_date: ">="}` + `filter: {order_date: "<"}` compiled, but the
    client took one argument for both bounds and returned nothing."""
    model, layout = _compiled()
    plan = layout.plan("orders_where_filter")
    assert plan is not None
    assert plan.params == ("customer_id", "order_date_from", "order_date_to")
    assert [(f.attribute, f.op, f.params) for f in plan.filters] == [
        ("order_date", "<", ("order_date_to",))
    ]
    (low,) = [b.param for b in plan.sk.values[0].bindings if b.slot == "order_date"]
    assert low == "order_date_from"
    source = emit_client(layout, model)["client.py"]
    signature = re.search(r"def orders_where_filter\((.*?)\)", source, re.S)
    assert signature is not None
    assert "order_date_from: _dt.date" in signature.group(1)
    assert "order_date_to: _dt.date" in signature.group(1)


@pytest.mark.parametrize(
    ("pattern", "modes", "filters"),
    [
        # the range slot is followed by `#{order_id}`: every bound exact in the key
        ("orders_in_period", ("open", "open"), []),
        ("orders_open_closed", ("after", "after"), []),
        ("orders_exclusive", ("after", "open"), []),
        ("orders_bounds", ("after", "after"), []),
        # the range slot ends the key: an exclusive bound is included, then filtered
        ("words_in_range", ("open", "full"), [("word", "<", ("to",))]),
        ("words_open_closed", ("full", "full"), [("word", ">", ("from",))]),
    ],
)
def test_each_bound_is_exact(pattern: str, modes: tuple[str, str], filters: list[Any]) -> None:
    _, layout = _compiled()
    plan = layout.plan(pattern)
    assert plan is not None and plan.sk.kind == "between"
    assert tuple(v.mode for v in plan.sk.values) == modes
    assert [(f.attribute, f.op, f.params) for f in plan.filters] == filters


def test_limit_parameter_is_an_argument_of_the_reading_methods() -> None:
    model, layout = _compiled()
    plan = layout.plan("first_orders")
    assert plan is not None and plan.limit is None and plan.limit_param == "limit"
    source = emit_client(layout, model)["client.py"]
    for method in ("first_orders", "iter_first_orders"):
        signature = re.search(rf"def {method}\((.*?)\)", source, re.S)
        assert signature is not None and "limit: int" in signature.group(1), method
    page = re.search(r"def first_orders_page\((.*?)\)", source, re.S)
    assert page is not None and "limit:" not in page.group(1)


@pytest.mark.parametrize(
    ("bounds", "inside"),
    [
        ((">=", "<"), [3, 4]),
        ((">", "<="), [4, 5]),
        ((">", "<"), [4]),
        ((">=", "<="), [3, 4, 5]),
    ],
)
def test_verify_oracles_keep_each_bound(bounds: tuple[str, str], inside: list[int]) -> None:
    """`model verify` judges the client by the in-memory oracle and by PostgreSQL: both read
    the operator of each bound (a half-open range is not a BETWEEN)."""
    model, _ = _compiled()
    c = ir.Condition("count", "between", ("lo", "hi"), bounds=bounds)
    params = {"lo": 3, "hi": 5}
    rows = [{"book_id": 1, "word": str(n), "count": n} for n in range(1, 8)]
    kept = [r["count"] for r in rows if oracle.matches(c, r, params, ir.TypeRef("integer"))]
    assert kept == inside
    pattern = ir.AccessPattern("p", ("Entry",), (c,))
    entity = model.entity("Entry")
    assert entity is not None
    sql, binds = pgv.select_statement(model, pattern, entity, pgv.TableRef(None, "entries"), params)
    low, high = bounds
    assert f'"count" {low} %(b0)s AND "count" {high} %(b1)s' in sql or (
        bounds == (">=", "<=") and "BETWEEN" in sql
    ), sql
    assert binds == {"b0": 3, "b1": 5}


def test_explain_names_the_limit_parameter() -> None:
    result = CliRunner().invoke(app, ["explain", str(FIXTURE), "first_orders"])
    assert result.exit_code == 0, result.output
    (row,) = [line for line in result.output.splitlines() if line.startswith("│ limit ")]
    assert ":limit" in row


@pytest.mark.parametrize(
    ("written", "sql"),
    [("unshipped_orders_yaml", "unshipped_orders"), ("shipped_orders_yaml", "shipped_orders")],
)
def test_is_null_in_yaml_is_the_sql_pattern(written: str, sql: str) -> None:
    """`is_null` / `is_not_null` in `where:` or `filter:` give the pattern the same conjunct
    of a `sql:` pattern gives: the same conditions, filters, order and plan."""
    model, layout = _compiled()
    a, b = model.pattern(written), model.pattern(sql)
    assert a is not None and b is not None
    fields = ("entities", "where", "filter", "order", "order_by", "limit", "nulls", "unique")
    assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}
    assert a.filter and a.filter[0].op in ir.NULL_TESTS and a.filter[0].params == ()
    plans = {p.pattern: p for p in layout.plans}
    same = ("index", "operation", "pk", "sk", "scan_forward", "filters", "params", "type_filter")
    assert {f: getattr(plans[written], f) for f in same} == {
        f: getattr(plans[sql], f) for f in same
    }
