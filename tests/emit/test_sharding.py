"""Issue 16 item 1, done-when: a status-partitioned model at 5,000 writes/s compiles to a
sharded plan, and the generated client returns what PostgreSQL returns, in order, on DynamoDB
Local, all at once and across small pages (ties and NULLs in the ordering column). Also the
shard-count arithmetic (hand-computed), the hash (a pinned vector) and the cursor resume.

PostgreSQL runs the patterns' own SQL. Rows with equal created_at (ties, and the NULL rows) are
compared as sets: the SQL orders by created_at only, so their order is not promised.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from rich.console import Console

from modeling.api import check_text, load_model
from modeling.commands.compile import explain_record, explain_table
from modeling.compile import compile_model, sharding
from modeling.core import ir
from modeling.emit.layout import layout_markdown
from modeling.emit.workbench import emit_workbench
from modeling.migrate.patterns import validate_patterns
from modeling.runtime import keys
from modeling.runtime import sharding as rs
from modeling.sample import codec
from modeling.sample.generate import SampleOptions
from modeling.sample.rows import Dataset
from modeling.verify import dynamo
from modeling.verify import postgres as pgv
from modeling.verify.runner import VerifyOptions, verify

from .test_transformers import load_package

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "sharded_orders.yaml"
ORDERS = 400
STATUSES = ("pending", "paid", "shipped", "cancelled")


def _compiled(path: Path = FIXTURE) -> tuple[ir.Model, ir.Layout]:
    model = load_model(path)
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag]
    return model, layout


# --------------------------------------------------------------------------- arithmetic


def test_status_partition_at_5000_writes_is_sharded_three_ways() -> None:
    """By hand: 4 statuses, 5,000 writes/s of items under 1 KB (1 WCU each) -> 1,250 WCU/s per
    status partition; 50 % of 1,000 WCU is 500 -> ceil(1250 / 500) = 3 shards. Reads: 20/s of
    one 1 MB page (128 eventually consistent RCU) / 4 = 640 RCU/s, under 1,500 -> 1 shard."""
    model, layout = _compiled()
    by_status = [p for p in layout.plans if p.pattern.startswith(("orders_by", "first_orders"))]
    assert by_status and {p.sharded for p in by_status} == {3}
    assert layout.plan("get_order").sharded == 0  # type: ignore[union-attr]
    (load,) = [x for x in sharding.partition_loads(model, layout) if x.index == by_status[0].index]
    assert (load.partitions, load.writes, load.wcu_per_write) == (4, 5000, 1)
    assert load.hot_wcu == 1250 and load.hot_rcu == 640 and load.shards == 3
    proof = layout.plan("orders_by_status").proof[-1]  # type: ignore[union-attr]
    assert "1250 WCU/s per partition" in proof and "N = 3" in proof
    infos = [d for d in layout.diagnostics if d.code == "sharded-partition"]
    assert {d.subject for d in infos} == {p.pattern for p in by_status}
    assert not [d for d in layout.diagnostics if d.code == "hot-partition"]


MODEL = """
model: rates
entities:
  Job:
    key: [id]
    writes_per_second: {writes}
    attributes:
      id: string
      state: {{type: string, enum: [a, b, c, d, e, f, g, h, i, j]}}
      at: datetime
{keys}access_patterns:
  by_state: {{entity: Job, where: {{state: "=", at: ">="}}}}
"""


def _compile(writes: float, pinned: bool = False) -> tuple[ir.Layout | None, list[Any]]:
    pin = '    keys:\n      gsi1: {pk: "JOB#{state}", sk: "{at}"}\n' if pinned else ""
    result = check_text(MODEL.format(writes=writes, keys=pin), "rates.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    layout, bag = compile_model(result.model)
    return layout, list(bag.items)


@pytest.mark.parametrize(
    ("writes", "shards"),
    [
        # 10 states: W / 10 per partition, 500 WCU allowed: 5,000 -> exactly 500 -> 1 shard
        (5000, 0),
        (5001, 2),  # 500.1 -> 2
        (12000, 3),  # 1,200 -> 2.4 -> 3 (not rounded to a power of two)
        (50000, 10),
    ],
)
def test_shard_count_by_hand(writes: float, shards: int) -> None:
    layout, _ = _compile(writes)
    assert layout is not None
    assert layout.plan("by_state").sharded == shards  # type: ignore[union-attr]


def test_pinned_hot_key_keeps_a_warning_with_the_figures() -> None:
    layout, diags = _compile(12000, pinned=True)
    assert layout is not None and layout.plan("by_state").sharded == 0  # type: ignore[union-attr]
    hot = [d.message for d in diags if d.code == "hot-partition" and "needs 3 shards" in d.message]
    assert hot and "pinned" in hot[0] and "1200 WCU/s per partition" in hot[0], diags


def test_more_than_max_shards_is_not_sharded() -> None:
    layout, diags = _compile(10 * 500 * (sharding.MAX_SHARDS + 1))
    assert layout is not None and layout.plan("by_state").sharded == 0  # type: ignore[union-attr]
    assert any(d.code == "hot-partition" and "more than 64" in d.message for d in diags)


def test_example_models_are_not_sharded() -> None:
    models = Path(__file__).resolve().parents[2] / "models"
    for path in sorted(models.glob("*.yaml")):
        _, layout = _compiled(path)
        assert not [p.pattern for p in layout.plans if p.sharded], path


# --------------------------------------------------------------------------- the hash


def test_shard_hash_is_pinned() -> None:
    """sha256 of the '#'-joined encoded identity, first 8 bytes big-endian, mod N: computed
    once (hashlib) and pinned, so a change to the rule fails here."""
    identity = (keys.encode("integer", 42),)
    assert identity == ("10000000000000000042",)
    # int.from_bytes(sha256(b"10000000000000000042").digest()[:8], "big")
    assert rs.shard_of(identity, 2**64) == 0x1D50201980431AE0
    assert rs.shard_of(identity, 3) == 0x1D50201980431AE0 % 3
    assert rs.shard_of(("a$23b", "x"), 7) == rs.shard_of(("a$23b", "x"), 7)
    assert rs.sharded_key("ORDER#paid", identity, 3) == f"ORDER#paid#{0x1D50201980431AE0 % 3}"


def test_merge_keeps_order_and_breaks_ties_by_shard() -> None:
    a = [{"SK": {"S": "A"}}, {"SK": {"S": "C"}}, {"SK": {"S": "C"}}]
    b = [{"SK": {"S": "B"}}, {"SK": {"S": "C"}}]
    assert rs.merge([a, b], "SK", False) == [(0, 0), (1, 0), (0, 1), (0, 2), (1, 1)]
    assert rs.merge([a[::-1], b[::-1]], "SK", True) == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2)]
    n = [{"SK": {"N": "10"}}], [{"SK": {"N": "9"}}]
    assert rs.merge(n, "SK", False) == [(1, 0), (0, 0)]  # numbers compare as numbers


# --------------------------------------------------------------------------- e2e


def _rows(seed: int = 16) -> Dataset:
    """400 orders over 4 statuses, 10 % of created_at NULL, dates from 25 days (ties)."""
    rng = random.Random(seed)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=d) for d in range(25)]
    nulls = set(rng.sample(range(ORDERS), ORDERS // 10))
    orders = [
        {
            "order_id": n,
            "status": rng.choice(STATUSES),
            "created_at": None if n in nulls else rng.choice(days),
            "total": Decimal(rng.randint(100, 99_999)) / 100,
        }
        for n in range(ORDERS)
    ]
    return Dataset({"Order": orders})


def against_postgres(conn: Any, model: ir.Model, data: Dataset, client: Any) -> dict[str, int]:
    """Every pattern but get_order, for every status, through the generated `client` against
    the same rows in PostgreSQL (`conn`): the same rows in the same order (ties as groups), a
    LIMIT cut inside a group of ties allowed, and pages of 4 resuming to the same answer.
    Returns how many calls, pages, and answers with NULLs and with ties were compared."""
    checked = {"calls": 0, "ties": 0, "nulls": 0, "pages": 0}
    schema = pgv.prepare(conn, model, data, None)
    sql_table = schema.tables["Order"].expression().sql("postgres")
    for pattern in model.patterns:
        if pattern.name == "get_order":
            continue
        sql = re.sub(r"\bFROM orders\b", f"FROM {sql_table}", pattern.sql or "")
        sql = re.sub(r":([a-z_]+)", r"%(\1)s", sql)
        for status in STATUSES:
            params: dict[str, Any] = {"status": status}
            if pattern.range is not None:
                params["since"] = dt.date(2024, 1, 12)
            with conn.cursor(row_factory=dict_row) as cur:
                expected = cur.execute(sql, params).fetchall()
            got = getattr(client, pattern.name)(**params)
            if pattern.limit is not None:
                assert len(expected) == pattern.limit
                assert _limited(got, expected), (pattern.name, status)
                continue
            assert _groups(got) == _groups(expected), (pattern.name, status)
            pages: list[Any] = []
            cursor = None
            while True:
                page, cursor = getattr(client, pattern.name + "_page")(
                    **params, cursor=cursor, page_size=4
                )
                assert len(page) <= 4
                pages += page
                checked["pages"] += 1
                if cursor is None:
                    break
            assert [r["order_id"] for r in pages] == [r["order_id"] for r in got]
            checked["calls"] += 1
            groups = _groups(expected)
            checked["nulls"] += any(d is None for d, _ in groups)
            checked["ties"] += any(len(ids) > 1 for d, ids in groups if d is not None)
    return checked


def _groups(rows: list[dict[str, Any]]) -> list[tuple[Any, frozenset[int]]]:
    """Consecutive rows with one created_at (NULL included) as one group, in result order."""
    out: list[tuple[Any, set[int]]] = []
    for row in rows:
        if not out or out[-1][0] != row["created_at"]:
            out.append((row["created_at"], set()))
        out[-1][1].add(row["order_id"])
    return [(d, frozenset(ids)) for d, ids in out]


def _limited(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    """A LIMIT cuts inside a tie group: every group but the last is equal, and the last one
    returned is a subset of PostgreSQL's group with that value."""
    g, e = _groups(got), _groups(expected)
    if len(got) != len(expected) or len(g) != len(e):
        return False
    return g[:-1] == e[:-1] and g[-1][0] == e[-1][0]


@pytest.mark.e2e
def test_sharded_client_returns_what_postgres_returns(
    postgres: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    model, layout = _compiled()
    data = _rows()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "sharded_orders"
    dynamo.create_table(ddb, layout, table)
    items = [t.TO_ITEM["Order"](row) for row in data.of("Order")]
    dynamo.write_items(ddb, table, items, dynamo.LoadResult())
    # the items really are spread: every status partition of GSI1 has 3 shard values
    plan = layout.plan("orders_by_status")
    assert plan is not None and plan.sharded == 3
    index = layout.index(plan.index)
    assert index is not None
    pks = {item[index.pk.name]["S"] for item in items if index.pk.name in item}
    assert pks == {f"ORDER#{s}#{n}" for s in STATUSES for n in range(3)}
    client = client_module.Client(table, ddb)
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        checked = against_postgres(conn, model, data, client)
        # `model migrate validate --patterns`: the same client against the pattern SQL
        validated = validate_patterns(model, layout, conn, client, 10, seed=3)
    by_name = {v.pattern: v for v in validated}
    for plan in layout.plans:
        v = by_name[plan.pattern]
        assert v.skipped is None and v.tried == 10 and v.ok, v.as_dict()
        assert v.compared_rows > 0, v.as_dict()
    assert checked["calls"] == 3 * len(STATUSES)
    assert checked["nulls"] >= 8 and checked["ties"] >= 8 and checked["pages"] > 100, checked


@pytest.mark.e2e
def test_sharded_cursor_resumes_after_writes_and_rejects_others(
    dynamodb_local: Any, tmp_path: Path
) -> None:
    """A cursor holds each shard's position: resuming from it returns exactly the rest, also
    when one shard was read to its end on the first page; a cursor of another pattern or a
    damaged one is refused."""
    model, layout = _compiled()
    t = load_package(layout, model, tmp_path, client=True)
    client_module = __import__(t.__name__.rsplit(".", 1)[0] + ".client", fromlist=["Client"])
    ddb = dynamodb_local.client()
    table = "sharded_cursor"
    dynamo.create_table(ddb, layout, table)
    rows = [
        {"order_id": n, "status": "paid", "created_at": dt.date(2024, 2, 1 + n % 5), "total": 1}
        for n in range(23)
    ]
    dynamo.write_items(ddb, table, [t.TO_ITEM["Order"](r) for r in rows], dynamo.LoadResult())
    client = client_module.Client(table, ddb)
    everything = [r["order_id"] for r in client.orders_by_status("paid")]
    assert sorted(everything) == list(range(23))
    first, cursor = client.orders_by_status_page("paid", page_size=10)
    assert cursor is not None and len(first) == 10
    rest: list[int] = []
    while cursor is not None:
        page, cursor = client.orders_by_status_page("paid", cursor=cursor, page_size=10)
        rest += [r["order_id"] for r in page]
    assert [r["order_id"] for r in first] + rest == everything
    _, cursor = client.orders_by_status_page("paid", page_size=3)
    with pytest.raises(client_module.InvalidCursor):
        client.orders_by_status_newest_page("paid", cursor=cursor)
    with pytest.raises(client_module.InvalidCursor):
        client.orders_by_status_page("paid", cursor=cursor[:-4] + "AAAA")


def _unsharded_readers(layout: ir.Layout) -> ir.Layout:
    """A broken layout: the items are still sharded (one plan keeps its shards) but the other
    plans on that partition read only the bare partition key."""
    keep = "orders_by_status"
    plans = tuple(
        p if p.pattern == keep or not p.sharded else dataclasses.replace(p, sharded=0)
        for p in layout.plans
    )
    return dataclasses.replace(layout, plans=plans)


@pytest.mark.e2e
def test_verify_proves_sharded_patterns(postgres: Any, dynamodb_local: Any) -> None:
    model, layout = _compiled()
    options = VerifyOptions(trials=12, sample=SampleOptions(seed=7, roots=120, fanout=1))
    ddb = dynamodb_local.client()
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        report = verify(model, layout, ddb, pg_conn=conn, options=options)
    assert report.ok, [(p.pattern, p.failures[:1]) for p in report.patterns]
    sharded = {p.pattern for p in layout.plans if p.sharded}
    proven = {p.pattern for p in report.patterns if not p.skipped and p.trials and p.non_empty}
    assert sharded <= proven, (sharded, [(p.pattern, p.skipped) for p in report.patterns])
    with psycopg.connect(postgres.create_database(), autocommit=True) as conn:
        broken = verify(model, _unsharded_readers(layout), ddb, pg_conn=conn, options=options)
    failing = {p.pattern for p in broken.patterns if p.failures}
    kept = layout.plan("orders_by_status")
    assert kept is not None
    # the plans on the kept partition now miss the sharded items; the other index's items
    # and plans both lost their shards, so they agree again
    same = {p.pattern for p in layout.plans if p.index == kept.index and p.pk == kept.pk}
    assert failing == same - {"orders_by_status"} and failing, failing


def test_explain_and_layout_md_show_the_shards() -> None:
    model, layout = _compiled()
    plan = layout.plan("orders_by_status")
    assert plan is not None
    record = explain_record(layout, plan)
    assert record["shards"] == 3 and "N = 3" in record["proof"][-1]
    assert any(d["code"] == "sharded-partition" for d in record["diagnostics"])
    console = Console(width=200, record=True)
    console.print(explain_table(layout, plan))
    text = console.export_text()
    assert "shards" in text and "1250 WCU/s per partition" in text
    md = layout_markdown(layout, model)
    assert "- shards: 3" in md and "[sharded-partition]" not in md
    assert "`sharded-partition`: pattern 'orders_by_status'" in md
    unsharded = layout.plan("get_order")
    assert unsharded is not None and explain_record(layout, unsharded)["shards"] == 0


def test_transformers_reference_codec_and_workbench_write_the_same_shard(tmp_path: Path) -> None:
    """The generated transformers, verify's reference codec and the Workbench samples put an
    item in the same shard (one rule: modeling/runtime/sharding.py)."""
    model, layout = _compiled()
    entity = model.entity("Order")
    assert entity is not None
    t = load_package(layout, model, tmp_path)
    index = layout.index(layout.plan("orders_by_status").index)  # type: ignore[union-attr]
    assert index is not None
    seen = set()
    for n in range(60):
        row = {"order_id": n, "status": "paid", "created_at": None, "total": Decimal(1)}
        item = t.TO_ITEM["Order"](row)
        reference = codec.to_item(model, layout, entity, row)
        assert item[index.pk.name] == reference[index.pk.name]
        suffix = rs.shard_suffix(rs.shard_of((keys.encode("integer", n),), 3))
        assert item[index.pk.name]["S"] == "ORDER#paid" + suffix
        seen.add(suffix)
    assert seen == {"#0", "#1", "#2"}
    document = json.loads(emit_workbench(layout, model)["workbench.json"])
    samples = [i for m in document["DataModel"] for f in m["TableFacets"] for i in f["TableData"]]
    checked = 0
    for sample in samples:
        if index.pk.name in sample:
            n = int(sample["order_id"]["N"])
            expected = rs.shard_suffix(rs.shard_of((keys.encode("integer", n),), 3))
            assert sample[index.pk.name]["S"].endswith(expected)
            checked += 1
    assert checked >= 2


STATS_MODEL = """
model: regions
entities:
  Event:
    key: [id]
    row_count: 1000000
    attributes:
      id: string
      region: {{type: string, stats: {{n_distinct: {n_distinct}}}}}
      at: datetime
access_patterns:
  by_region:
    entity: Event
    where: {{region: "=", at: ">="}}
    rate: {{reads_per_second: 10, writes_per_second: 4000}}
"""


@pytest.mark.parametrize(
    ("n_distinct", "shards"),
    [
        # a pattern's writes_per_second (4,000/s) over pg_stats' distinct regions
        (8, 0),  # 500 WCU/s per region: exactly the 500 allowed
        (5, 2),  # 800 -> 1.6 -> 2
        (-0.000002, 4),  # minus a fraction of 1,000,000 rows: 2 regions -> 2,000 -> 4
    ],
)
def test_pg_stats_distinct_values_and_pattern_write_rate(n_distinct: float, shards: int) -> None:
    result = check_text(STATS_MODEL.format(n_distinct=n_distinct), "regions.yaml")
    assert result.ok and result.model is not None, [d.format() for d in result.diagnostics]
    layout, bag = compile_model(result.model)
    assert layout is not None, [d.format() for d in bag]
    assert layout.plan("by_region").sharded == shards  # type: ignore[union-attr]


READS_MODEL = """
model: reads
entities:
  Ticket:
    key: [id]
    row_count: 1000000
    attributes:
      id: string
      open: boolean
      at: datetime
access_patterns:
  by_open:
    entity: Ticket
    where: {{open: "=", at: ">="}}
    rate: {{reads_per_second: {reads}}}
"""


def test_a_partition_hot_on_reads_is_sharded_or_warned() -> None:
    """By hand: 1,000,000 tickets over a boolean: a call reads its first 1 MB page, 256 read
    units of 4 KB, halved (eventually consistent) = 128 RCU. 100 calls/s over 2 partitions:
    6,400 RCU/s per partition / 1,500 -> 5 shards. 10,000 calls/s: 5,000 Queries/s per
    partition cost 0.5 RCU each on every shard, 2,500 > 1,500: no shard count helps."""
    result = check_text(READS_MODEL.format(reads=100), "reads.yaml")
    assert result.model is not None
    layout, _ = compile_model(result.model)
    assert layout is not None
    assert layout.plan("by_open").sharded == 5  # type: ignore[union-attr]
    assert "6400 RCU/s per partition" in layout.plan("by_open").proof[-1]  # type: ignore[union-attr]
    result = check_text(READS_MODEL.format(reads=10000), "reads.yaml")
    assert result.model is not None
    layout, bag = compile_model(result.model)
    assert layout is not None and layout.plan("by_open").sharded == 0  # type: ignore[union-attr]
    hot = [d.message for d in bag.items if d.code == "hot-partition" and "cannot be" in d.message]
    assert hot and "5000 Queries/s per partition" in hot[0] and "DAX" in hot[0], hot
