"""Every "exact" plan of tests/fixtures/models/sql_hostile.yaml, end to end: each pattern's own
SQL runs on PostgreSQL 15 and the generated client runs on DynamoDB Local, over the same rows
built to break it (issue 18: hostile inputs from outside this repo; the SQL is written the way
Rails, Django, Prisma and TPC-C code write it). The answers must be the same rows in the same
order; rows tied on the ordering column are compared as sets (the SQL promises no order among
them), and under LIMIT the last tie group may be any rows of that group.

`model verify` checks the client against a SELECT built from the compiled pattern; this test
checks the step before it too: that the compiled pattern is what the SQL means.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv

from .test_sql_forms import _python
from .test_transformers import load_package

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "sql_hostile.yaml"
CUSTOMERS = 3
# byte order (C collation) differs from most language collations on these; some hold the LIKE
# wildcards and escape, the key separator, the escape of the key codec and a space
CODES = [
    "50%", "50%off", "50", "500", "50_", "50\\", "50\\%", "a", "A", "B", "a#b", "a$", "a b",
    "a\\", "a\\b", "a\\%x", "a%", "ab", "Z", "zz", "é", "été", "日本", "😀", "\U0010ffff",
]  # fmt: skip
AMOUNTS = [
    Decimal(v)
    for v in (
        "-0", "0", "0.000", "-1E-7", "1E-7", "-123.456", "9999999999.99", "-9999999999.99",
        "-0.5", "-0.50", "10", "10.00", "2.5", "-10", "0.1", "1E+20",
    )
]  # fmt: skip
SCORES = [-0.0, 0.0, -1.5, 2.25, 1e20, -1e-20, 0.1, 1e-9, -2.0]
ZONES = [
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(-dt.timedelta(hours=8)),
]
BASE = dt.datetime(2024, 3, 10, 23, 30, tzinfo=dt.UTC)
INSTANTS = [BASE + dt.timedelta(minutes=45 * i, microseconds=i % 2) for i in range(10)]


def _compiled(layout_option: str = "", tmp_path: Path | None = None) -> tuple[ir.Model, ir.Layout]:
    path = FIXTURE
    if layout_option:  # the same model under another key strategy
        assert tmp_path is not None
        path = tmp_path / "sql_hostile.yaml"
        text = FIXTURE.read_text(encoding="utf-8")
        path.write_text(text.replace("\nentities:", f"\nlayout: {layout_option}\nentities:", 1))
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


def _rows(seed: int = 18) -> Dataset:
    rng = random.Random(seed)
    customers = [{"customer_id": c, "name": f"c{c}"} for c in range(1, CUSTOMERS + 1)]
    orders = []
    for n in range(1, 181):
        # one instant written in several zones: ties between rows written differently
        placed = rng.choice(INSTANTS).astimezone(rng.choice(ZONES))
        shipped = (
            None if rng.random() < 0.35 else rng.choice(INSTANTS).astimezone(rng.choice(ZONES))
        )
        orders.append(
            {
                "order_id": n,
                "customer_id": rng.randint(1, CUSTOMERS),
                "code": rng.choice(CODES),
                "amount": rng.choice(AMOUNTS),
                "score": rng.choice(SCORES),
                "placed_at": placed,
                "shipped_at": shipped,
                "flagged": rng.random() < 0.5,
                "status": rng.choice(["open", "held", "paid"]),
            }
        )
    lines = [
        {"order_id": o, "line_no": n, "sku": rng.choice(CODES)}
        for o in range(1, 21)
        for n in rng.sample(range(-3, 12), rng.randint(0, 6))
    ]
    return Dataset({"Customer": customers, "Order": orders, "Line": lines})


def _params(pattern: ir.AccessPattern, rng: random.Random) -> list[dict[str, Any]]:
    """Each call: every customer, with bounds on stored values, crossed and empty ranges."""
    if pattern.name == "lines_of_order":
        return [{"order_id": o} for o in (*range(1, 22), 999)]
    if pattern.name == "shipped_of_customers":
        ids = [*range(1, CUSTOMERS + 1), 99]
        return [{"cs": rng.sample(ids, rng.randint(0, 4))} for _ in range(12)]
    instants = [*(i.astimezone(z) for i in INSTANTS for z in ZONES), BASE - dt.timedelta(days=1)]
    pools: dict[str, list[Any]] = {
        "code": [*CODES, "", "a#", "a$", "50%o", "\U0010fffe"],
        "amount": [*AMOUNTS, Decimal("-0.49"), Decimal("1E-8")],
        "score": [*SCORES, -1e-21, 1e21],
        "placed_at": instants,
        "shipped_at": instants,
    }
    owner = pattern.where[0]
    names = [(c.attribute, p) for c in pattern.where[1:] for p in c.param_names]
    out: list[dict[str, Any]] = []
    for customer in range(1, CUSTOMERS + 1):
        base: dict[str, Any] = {owner.param_names[0]: customer}
        for _ in range(12 if names or pattern.limit_param else 1):
            params = {**base, **{p: rng.choice(pools[a]) for a, p in names}}
            if pattern.limit_param is not None:
                params[pattern.limit_param] = rng.choice([1, 2, 3, 7, 100])
            out.append(params)
    return out


def _identity(row: dict[str, Any], entity: str) -> tuple[Any, ...]:
    return (row["order_id"], row["line_no"]) if entity == "Line" else (row["order_id"],)


def _groups(rows: list[dict[str, Any]], attribute: str | None, entity: str) -> list[Any]:
    """Consecutive rows with one value of `attribute` (equal as PostgreSQL compares: -0 = 0,
    one instant in any zone) as one set of identities, in answer order."""
    out: list[tuple[Any, set[Any]]] = []
    for row in rows:
        value = row[attribute] if attribute else None
        if not out or out[-1][0] != value:
            out.append((value, set()))
        out[-1][1].add(_identity(row, entity))
    return [(v, frozenset(ids)) for v, ids in out]


def _sql(pattern: ir.AccessPattern, plan: ir.PatternPlan) -> str:
    """The pattern's SQL as psycopg runs it (the tables are the model's, in `public`)."""
    assert pattern.sql is not None
    sql = re.sub(r"%(?!\(\w+\)s)", "%%", pattern.sql)  # a literal % (not a %(name)s bind)
    sql = re.sub(r"\$(\d+)", lambda m: f"%({plan.params[int(m.group(1)) - 1]})s", sql)
    sql = re.sub(r"= ANY\(:([a-z_]+)\)", r"= ANY(%(\1)s)", sql)
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "layout_option",
    ["", "{gsi_keys: attributes}", "{lsi: never}"],
    ids=["derived", "attribute-keys", "no-lsi"],
)
def test_the_client_returns_what_the_sql_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path, layout_option: str
) -> None:
    model, layout = _compiled(layout_option, tmp_path)
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "sql_hostile_" + str(abs(hash(layout_option)) % 10**6)
    dynamo.create_table(ddb, layout, table)
    items = [t.TO_ITEM[e.name](row) for e in model.entities for row in data.of(e.name)]
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    rng = random.Random(18)
    calls = rows = 0
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        schema = pgv.prepare(conn, model, data, None)
        assert {r.schema for r in schema.tables.values()} == {None}  # `public`, as in the SQL
        for pattern in model.patterns:
            plan = layout.plan(pattern.name)
            assert plan is not None
            entity = pattern.entities[0]
            sql = _sql(pattern, plan)
            unlimited = re.sub(r"\s+LIMIT\s+\S+\s*$", "", sql.strip())
            for params in _params(pattern, rng):
                with conn.cursor(row_factory=dict_row) as cur:
                    expected = cur.execute(sql, params).fetchall()
                    everything = cur.execute(unlimited, params).fetchall()
                got = getattr(client, pattern.name)(**_python(params))
                context = (pattern.name, params)
                order = pattern.order_by
                want, have = _groups(expected, order, entity), _groups(got, order, entity)
                assert len(got) == len(expected), context
                assert [v for v, _ in have] == [v for v, _ in want], context
                assert have[:-1] == want[:-1], context
                if have:  # under LIMIT: any rows of the last tie group
                    tie = {
                        _identity(r, entity)
                        for r in everything
                        if (r[order] if order else None) == have[-1][0]
                    }
                    assert have[-1][1] <= tie and len(have[-1][1]) == len(want[-1][1]), context
                calls += 1
                rows += len(expected)
    assert calls >= 190 and rows >= 2000, (calls, rows)


@pytest.mark.parametrize("layout_option", ["", "{gsi_keys: attributes}", "{lsi: never}"])
def test_every_key_strategy_emits_the_literals_of_the_sql(
    tmp_path: Path, layout_option: str
) -> None:
    """Keyed on attributes, a GSI's key value is the attribute's own (a number for a decimal):
    `amount BETWEEN SYMMETRIC 10 AND -0.5` made the transformers' emitter raise TypeError ("no
    Python literal for Decimal") from `model compile`."""
    model, layout = _compiled(layout_option, tmp_path)
    module = load_package(layout, model, tmp_path / "gen", client=True)
    plan = layout.plan("amounts_symmetric")
    assert plan is not None
    key = module.amounts_symmetric_key(2)
    bounds = [v for k, v in sorted(key.items()) if k.startswith(":sk")]
    if layout_option == "{gsi_keys: attributes}":
        assert bounds == [{"N": "-0.5"}, {"N": "10"}]
    else:  # the order-preserving text of each bound: -0.5 below 10
        assert len(bounds) == 2 and bounds[0]["S"] < bounds[1]["S"]
