"""`model diff OLD NEW --apply` for the designs issue 16 added (items 1, 3, 4, 5 meet item 6):
write sharding whose shard count changes, a GSI keyed on the items' own attributes instead of
composite strings (and back), a GSI replaced by relationship copies (and back), and LSIs that
make a new table. Each runs on DynamoDB Local; every item is compared before and after (0 lost,
0 left over), an application write races the step, and NEW's generated client reads the rows.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from typer.testing import CliRunner

from modeling import api
from modeling.cli import app
from modeling.compile.evolution import Design, classify
from modeling.emit.cloudformation import emit_cloudformation
from modeling.migrate import evolve
from modeling.migrate import transformers as loader
from modeling.migrate.table import describe, ensure_table
from modeling.migrate.validate import normalise
from modeling.migrate.versioning import VERSION_ATTRIBUTE

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"

Rows = dict[Any, tuple[dict[str, Any], int]]  # identity -> (row, _version): the truth

# --------------------------------------------------------------------------- helpers


def _design(tmp_path: Path, name: str, text: str) -> tuple[Path, Design]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    model, layout = api.compile_file(path)
    return path, Design(model, layout, str(path))


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        out.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _canon(item: dict[str, Any]) -> str:
    return repr(sorted((k, normalise(v)) for k, v in item.items()))


def _items(design: Design, entity: str, rows: Rows) -> list[dict[str, Any]]:
    """The items `design`'s code writes for these rows: main items and relationship copies,
    each with the row's `_version`."""
    module = loader.generate(design.layout, design.model)
    make = getattr(module, "COPIES", {}).get(entity)
    out = []
    for row, version in rows.values():
        item = dict(module.TO_ITEM[entity](row))
        item[VERSION_ATTRIBUTE] = {"N": str(version)}
        out.append(item)
        if make is not None:  # copies carry the row's version (as the runner writes them)
            out.extend({**c, VERSION_ATTRIBUTE: item[VERSION_ATTRIBUTE]} for c in make(row, item))
    return out


def _seed(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for i in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        )


def _table(dynamodb_local: Any, design: Design, name: str) -> tuple[Any, str]:
    client = dynamodb_local.client()
    table = f"{name}-{threading.get_ident() % 10_000}-{dt.datetime.now().microsecond}"
    ensure_table(client, design.model, design.layout, table)
    return client, table


def _diff(
    old: Path, new: Path, dynamodb_local: Any, table: str, tmp_path: Path, *extra: str
) -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        [
            "diff", str(old), str(new), "--apply", "--json", "--segments", "3",
            "--endpoint", dynamodb_local.endpoint_url, "--table", table,
            "--dead-letter", str(tmp_path / "dead.jsonl"), *extra,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _done(data: dict[str, Any], action: str) -> dict[str, Any]:
    (found,) = [r for r in data["applied"] if r["action"] == action]
    assert found["status"] == "done", found
    report: dict[str, Any] = found["report"] or {}
    assert report.get("lost", 0) == 0 and report.get("stale", 0) == 0, found
    return found


def _race_once(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    write: Callable[[dict[str, Any]], None],
    when: Callable[[dict[str, Any]], bool] = lambda item: True,
) -> list[dict[str, Any]]:
    """The application writes (`write(item)`) right after the pass read `item`, before the
    pass writes it: the first call of `evolve.<name>` (an item pass's write) on an item
    `when` accepts triggers it, once."""
    original = getattr(evolve, name) if hasattr(evolve, name) else getattr(evolve._Pass, name)
    fired: list[dict[str, Any]] = []
    lock = threading.Lock()

    def wrapped(*args: Any) -> Any:
        item = args[2] if name in ("update", "move") else args[1]
        with lock:
            first = not fired and when(item)
            if first:
                fired.append(item)
        if first:
            write(item)
        return original(*args)

    if hasattr(evolve._Pass, name):
        monkeypatch.setattr(evolve._Pass, name, wrapped)
    else:
        monkeypatch.setattr(evolve, name, wrapped)
    return fired


# --------------------------------------------------------------------------- 1. sharding

SHARDED = """\
model: evolve_sharded
table: {name: EvolveSharded, pitr: false, deletion_protection: false}
source: {dialect: postgres, collation: C}
entities:
  Order:
    table: orders
    key: [order_id]
    writes_per_second: WRITES
    row_count: 2000000
    attributes:
      order_id: integer
      status: {type: string, enum: [pending, paid, shipped, cancelled]}
      created_at: {type: date, required: false}
      total: decimal
access_patterns:
  get_order:
    entity: Order
    where: {order_id: "="}
    unique: true
  orders_by_status:
    sql: SELECT * FROM orders WHERE status = :status ORDER BY created_at
"""
STATUSES = ("pending", "paid", "shipped", "cancelled")


def _orders(n: int) -> Rows:
    base = dt.date(2026, 1, 1)
    return {
        i: (
            {
                "order_id": i,
                "status": STATUSES[i % 4],
                "created_at": None if i % 9 == 0 else base + dt.timedelta(days=i),
                "total": Decimal(f"{i}.25"),
            },
            100 + i,
        )
        for i in range(1, n + 1)
    }


@pytest.mark.parametrize(
    ("was", "now", "shards"),
    [(5000, 10000, (3, 5)), (100, 5000, (0, 3)), (5000, 100, (3, 0))],
    ids=["3-to-5-shards", "unsharded-to-sharded", "sharded-to-unsharded"],
)
def test_a_changed_shard_count_moves_every_item_to_its_new_shard(
    dynamodb_local: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    was: int,
    now: int,
    shards: tuple[int, int],
) -> None:
    old_path, old = _design(tmp_path, "old.yaml", SHARDED.replace("WRITES", str(was)))
    new_path, new = _design(tmp_path, "new.yaml", SHARDED.replace("WRITES", str(now)))
    (gsi,) = [i.name for i in new.layout.gsis]
    assert (old.layout.key_shards("Order", gsi), new.layout.key_shards("Order", gsi)) == shards
    ev = classify(old, new)
    (change,) = ev.of_kind("entity-shards-changed")
    assert (change.subject, change.old, change.new) == (f"Order.{gsi}", *shards)
    assert [c.subject for c in ev.of_kind("pattern-changed")] == ["orders_by_status"]
    assert any("misses the items" in w for w in ev.warnings())

    rows = _orders(60)
    client, table = _table(dynamodb_local, old, "evolve-shards")
    _seed(client, table, _items(old, "Order", rows))
    writer = loader.generate(new.layout, new.model)  # NEW's code, deployed before the pass

    def app_write(item: dict[str, Any]) -> None:
        # the application changes the item the pass just read, and inserts a new order
        oid = int(item["order_id"]["N"])
        row, version = rows[oid]
        rows[oid] = ({**row, "status": "cancelled", "total": Decimal("1.5")}, version + 1)
        rows[999] = (
            {"order_id": 999, "status": "paid", "created_at": None, "total": Decimal(0)},
            1,
        )
        for key in (oid, 999):
            put = dict(writer.TO_ITEM["Order"](rows[key][0]))
            put[VERSION_ATTRIBUTE] = {"N": str(rows[key][1])}
            client.put_item(TableName=table, Item=put)

    reader = loader.generate(old.layout, old.model)
    pk = new.layout.index(gsi).pk.name  # type: ignore[union-attr]

    def moves(item: dict[str, Any]) -> bool:  # the pass must rewrite it (another shard)
        return bool(writer.TO_ITEM["Order"](reader.FROM_ITEM["Order"](item))[pk] != item[pk])

    fired = _race_once(monkeypatch, "update", app_write, moves)
    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    assert actions == ["deploy-writers", "backfill", "switch-reads"]
    backfill = _done(data, "backfill")["report"]
    assert fired and backfill["retried"] >= 1
    assert backfill["after"] == {"Order": 61}

    # every item is NEW's item of its (latest) row: none lost, none left on an old shard
    after = _scan(client, table)
    assert sorted(map(_canon, after)) == sorted(map(_canon, _items(new, "Order", rows)))
    suffixes = {i[pk]["S"].rsplit("#", 1)[-1] for i in after if pk in i}
    if shards[1]:
        assert suffixes == {str(n) for n in range(shards[1])}
    else:
        assert suffixes <= set(STATUSES)  # ORDER#<status>: no shard suffix

    # NEW's client reads every row of each status, in order (NULLS LAST)
    module = loader.generate(new.layout, new.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    reader = generated.Client(table, client)
    for status in STATUSES:
        got = list(reader.orders_by_status(status))
        want = [r for r, _ in rows.values() if r["status"] == status]
        assert sorted(r["order_id"] for r in got) == sorted(r["order_id"] for r in want)
        dates = [r["created_at"] for r in got]
        known = [d for d in dates if d is not None]
        assert known == sorted(known) and dates == known + [None] * (len(dates) - len(known))


# --------------------------------------------------------------------------- 3. attribute keys

KEYED = """\
model: evolve_keyed
table: {name: EvolveKeyed, pitr: false, deletion_protection: false}
source: {dialect: postgres, collation: C}
LAYOUT
entities:
  Order:
    table: orders
    key: [order_id]
    row_count: 1000
    attributes:
      order_id: integer
      status: {type: string, enum: [pending, paid, shipped, cancelled]}
      created_at: {type: date, required: false}
      total: decimal
access_patterns:
  get_order:
    entity: Order
    where: {order_id: "="}
    unique: true
  orders_by_status_since:
    sql: SELECT * FROM orders WHERE status = :status AND created_at >= :since ORDER BY created_at
"""
COMPOSITE = KEYED.replace("LAYOUT\n", "")
ATTRIBUTES = KEYED.replace("LAYOUT\n", "layout: {gsi_keys: attributes}\n")


@pytest.mark.parametrize("direction", ["to-attributes", "to-composite"])
def test_a_gsi_rebuilt_on_other_key_attributes(
    dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    """`gsi_keys: attributes` turned on (or off): the GSI is rebuilt on the other key
    attributes; composite keys are written before the rebuild (while the old index serves),
    the old composite attributes are removed only by the clean-up."""
    texts = (COMPOSITE, ATTRIBUTES) if direction == "to-attributes" else (ATTRIBUTES, COMPOSITE)
    old_path, old = _design(tmp_path, "old.yaml", texts[0])
    new_path, new = _design(tmp_path, "new.yaml", texts[1])
    ev = classify(old, new)
    (change,) = ev.of_kind("gsi-rekeyed")
    index = str(change.index)
    was, now = old.layout.index(index), new.layout.index(index)
    assert was is not None and now is not None and was.on_attributes != now.on_attributes
    composite = {k.name for k in (was if now.on_attributes else now).hash_keys} | {
        k.name for k in (was if now.on_attributes else now).range_keys
    }

    rows = _orders(40)
    client, table = _table(dynamodb_local, old, "evolve-keyed")
    _seed(client, table, _items(old, "Order", rows))
    writer = loader.generate(new.layout, new.model)

    def app_write(item: dict[str, Any]) -> None:
        oid = int(item["order_id"]["N"])
        row, version = rows[oid]
        rows[oid] = ({**row, "status": "shipped"}, version + 1)
        put = dict(writer.TO_ITEM["Order"](rows[oid][0]))
        put[VERSION_ATTRIBUTE] = {"N": str(version + 1)}
        client.put_item(TableName=table, Item=put)

    fired = _race_once(monkeypatch, "update", app_write)
    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    if direction == "to-composite":
        # the composite keys are written while the old index still serves, then it is rebuilt
        assert actions[:4] == ["deploy-writers", "backfill", "delete-gsi", "create-gsi"]
        assert _done(data, "backfill")["report"]["retried"] >= 1 and fired
        assert not [s for s in data["steps"] if s["cleanup"] and s["action"] == "backfill"]
    else:
        assert actions[:3] == ["deploy-writers", "delete-gsi", "create-gsi"]
        (strip,) = [s for s in data["steps"] if s["action"] == "backfill"]
        assert strip["cleanup"] and "remove the key attributes" in strip["what"]
    described = describe(client, table)
    assert described is not None
    (gsi,) = described["GlobalSecondaryIndexes"]
    assert gsi["IndexStatus"] == "ACTIVE"
    assert {k["AttributeName"] for k in gsi["KeySchema"]} == {
        k.name for k in (*now.hash_keys, *now.range_keys)
    }

    after = _scan(client, table)
    if direction == "to-attributes":
        # not yet cleaned up: OLD's composite keys are still on the items (sparse: those with
        # a created_at)
        def keys_of(items: list[dict[str, Any]]) -> set[str]:
            return {_canon({k: v for k, v in i.items() if k in composite}) for i in items}

        assert keys_of(after) == keys_of(_items(old, "Order", rows)) != {_canon({})}
        data = _diff(old_path, new_path, dynamodb_local, table, tmp_path, "--cleanup")
        strip = _done(data, "backfill")["report"]
        assert fired and strip["retried"] >= 1  # the race met the clean-up's rewrite
        assert strip["updated"] + strip["unchanged"] == 40
        after = _scan(client, table)
        assert not any(composite & set(i) for i in after)
    assert sorted(map(_canon, after)) == sorted(map(_canon, _items(new, "Order", rows)))

    module = loader.generate(new.layout, new.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    since = dt.date(2026, 1, 15)
    got = generated.Client(table, client).orders_by_status_since("shipped", since)
    want = sorted(
        (r["created_at"], r["order_id"])
        for r, _ in rows.values()
        if r["status"] == "shipped" and r["created_at"] is not None and r["created_at"] >= since
    )
    assert [(r["created_at"], r["order_id"]) for r in got] == want


# --------------------------------------------------------------------------- 4. copies

STRATEGY = (
    (MODELS / "strategy.yaml")
    .read_text("utf-8")
    .replace(
        "table: {name: Strategy}",
        "table: {name: Strategy, pitr: false, deletion_protection: false}",
    )
)
FEWEST = STRATEGY.replace("strategy: lowest_cost", "strategy: fewest_indexes")


def _shop(customers: int = 8, orders: int = 48) -> tuple[Rows, Rows]:
    people = {i: ({"customer_id": i, "name": f"c{i}"}, 1) for i in range(1, customers + 1)}
    bought = {
        o: (
            {
                "order_id": o,
                "customer_id": o % customers + 1,
                "notes": f"note {o}",
                "total": Decimal(o),
            },
            10 + o,
        )
        for o in range(1, orders + 1)
    }
    return people, bought


def _by_customer(design: Design, client: Any, table: str, people: Rows) -> dict[int, set[int]]:
    module = loader.generate(design.layout, design.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    reader = generated.Client(table, client)
    return {c: {r["order_id"] for r in reader.orders_of_customer(c)} for c in people}


def test_a_gsi_replaced_by_relationship_copies(
    dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """strategy fewest_indexes -> lowest_cost: every existing order gets its copy before the
    reads switch (a copy moved by a concurrent write is swept), the GSI goes in clean-up."""
    old_path, old = _design(tmp_path, "old.yaml", FEWEST)
    new_path, new = _design(tmp_path, "new.yaml", STRATEGY)
    assert new.layout.copies and not old.layout.copies
    ev = classify(old, new)
    assert {c.kind for c in ev.changes} >= {"copies-added", "gsi-removed", "pattern-changed"}
    people, orders = _shop()
    client, table = _table(dynamodb_local, old, "evolve-copies")
    _seed(client, table, _items(old, "Customer", people) + _items(old, "Order", orders))
    writer = loader.generate(new.layout, new.model)

    def app_write(copy: dict[str, Any]) -> None:
        # NEW's code moves the order to another customer: main item and copy in one
        # transaction, the old copy deleted; the pass then puts the copy it derived before
        oid = int(copy["order_id"]["N"])
        row, version = orders[oid]
        orders[oid] = ({**row, "customer_id": row["customer_id"] % 8 + 1}, version + 1)
        item, *copies = writer.items_of("Order", orders[oid][0])
        writes = [{**item, VERSION_ATTRIBUTE: {"N": str(version + 1)}}]
        writes += [{**c, VERSION_ATTRIBUTE: {"N": str(version + 1)}} for c in copies]
        client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": table, "Key": {"PK": copy["PK"], "SK": copy["SK"]}}},
                *({"Put": {"TableName": table, "Item": w}} for w in writes),
            ]
        )

    fired = _race_once(monkeypatch, "_put_copy", app_write)
    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    assert actions.index("write-copies") < actions.index("switch-reads")
    assert [a for a, s in zip(actions, data["steps"], strict=True) if s["cleanup"]] == [
        "delete-gsi",
        "backfill",
    ]
    report = _done(data, "write-copies")["report"]
    assert fired and report["deleted"] == 1  # the copy the race moved away
    assert report["after"] == {"Order": 48}
    assert _by_customer(new, client, table, people) == {
        c: {o for o, (r, _) in orders.items() if r["customer_id"] == c} for c in people
    }

    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path, "--cleanup")
    _done(data, "delete-gsi")
    strip = _done(data, "backfill")["report"]
    assert (strip["updated"], strip["unchanged"]) == (47, 1)  # NEW's code wrote the moved one
    described = describe(client, table)
    assert described is not None and not described.get("GlobalSecondaryIndexes")
    after = _scan(client, table)
    want = _items(new, "Customer", people) + _items(new, "Order", orders)
    assert sorted(map(_canon, after)) == sorted(map(_canon, want))


def test_relationship_copies_replaced_by_a_gsi(dynamodb_local: Any, tmp_path: Path) -> None:
    """strategy lowest_cost -> fewest_indexes: the GSI is created and its keys backfilled; the
    copies stay until --cleanup deletes them (OLD's client reads them until NEW's is deployed)."""
    old_path, old = _design(tmp_path, "old.yaml", STRATEGY)
    new_path, new = _design(tmp_path, "new.yaml", FEWEST)
    ev = classify(old, new)
    assert {c.kind for c in ev.changes} >= {"copies-removed", "gsi-added", "pattern-changed"}
    people, orders = _shop()
    client, table = _table(dynamodb_local, old, "evolve-uncopy")
    _seed(client, table, _items(old, "Customer", people) + _items(old, "Order", orders))
    copy_type = old.layout.copies[0].type_value

    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    _done(data, "create-gsi")
    assert _done(data, "backfill")["report"]["updated"] == 48
    after = _scan(client, table)
    assert sum(1 for i in after if i["_type"]["S"] == copy_type) == 48  # not yet deleted
    want = {c: {o for o, (r, _) in orders.items() if r["customer_id"] == c} for c in people}
    assert _by_customer(new, client, table, people) == want

    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path, "--cleanup")
    assert _done(data, "delete-copies")["report"]["deleted"] == 48
    after = _scan(client, table)
    want_items = _items(new, "Customer", people) + _items(new, "Order", orders)
    assert sorted(map(_canon, after)) == sorted(map(_canon, want_items))


def test_copies_follow_their_rekeyed_main_items(
    dynamodb_local: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy holds its main item's table key: when the orders are re-keyed (copies' own keys
    unchanged), the copies are written again so NEW's client still finds the main items; a
    newer copy a concurrent write of NEW's code put is left alone."""
    old_path, old = _design(tmp_path, "old.yaml", STRATEGY)
    rekeyed = STRATEGY.replace(
        "      total: decimal\n",
        '      total: decimal\n    keys:\n      table: {pk: "ORDER#{order_id}", sk: "DETAIL"}\n',
        1,
    )
    new_path, new = _design(tmp_path, "new.yaml", rekeyed)
    ev = classify(old, new)
    assert not ev.of_kind("copies-added", "copies-changed", "copies-removed")
    assert [c.subject for c in ev.of_kind("entity-rekeyed")] == ["Order"]
    people, orders = _shop()
    client, table = _table(dynamodb_local, old, "evolve-refs")
    _seed(client, table, _items(old, "Customer", people) + _items(old, "Order", orders))
    writer = loader.generate(new.layout, new.model)

    def app_write(copy: dict[str, Any]) -> None:
        oid = int(copy["order_id"]["N"])
        row, version = orders[oid]
        orders[oid] = ({**row, "total": Decimal("7.5")}, version + 1)
        for it in writer.items_of("Order", orders[oid][0]):
            put = {**it, VERSION_ATTRIBUTE: {"N": str(version + 1)}}
            client.put_item(TableName=table, Item=put)

    fired = _race_once(monkeypatch, "_put_copy", app_write)
    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    assert actions.index("rekey") < actions.index("write-copies") < actions.index("switch-reads")
    _done(data, "rekey")
    report = _done(data, "write-copies")["report"]
    assert fired and report["unchanged"] == 1 and report["copied"] == 47
    want = _items(new, "Customer", people) + _items(new, "Order", orders)
    assert sorted(map(_canon, _scan(client, table))) == sorted(map(_canon, want))
    assert _by_customer(new, client, table, people) == {
        c: {o for o, (r, _) in orders.items() if r["customer_id"] == c} for c in people
    }
    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path, "--cleanup")
    assert _done(data, "delete-copies")["report"]["deleted"] == 0


# --------------------------------------------------------------------------- 2. LSIs

LSI = (MODELS / "lsi_orders.yaml").read_text("utf-8")
LSI_LIVE = LSI.replace(
    "entities:\n",
    "table: {name: LsiOrders, pitr: false, deletion_protection: false}\nentities:\n",
    1,
)
LSI_NEVER = LSI_LIVE.replace("entities:\n", "layout: {lsi: never}\nentities:\n", 1)


def test_an_lsi_on_a_live_table_keeps_gsis_when_the_table_exists(tmp_path: Path) -> None:
    _, old = _design(tmp_path, "old.yaml", LSI_NEVER)
    _, new = _design(tmp_path, "new.yaml", LSI_LIVE)
    ev = classify(old, new)
    assert ev.new_table and len(ev.of_kind("lsi-added")) == 3
    live = LSI_LIVE.replace(
        "deletion_protection: false}", "deletion_protection: false, exists: true}"
    )
    _, kept = _design(tmp_path, "live.yaml", live)
    assert not kept.layout.lsis and classify(old, kept).changes == ()
    # an LSI removed is a new table too
    back = classify(new, old)
    assert back.new_table and len(back.of_kind("lsi-removed")) == 3


def test_lsis_need_a_new_table_copy_and_catch_up(dynamodb_local: Any, tmp_path: Path) -> None:
    """NEW derives LSIs (with --fresh: compiled against OLD's layout, a live table gains
    none): --apply refuses without --new-table; with it the new table is created,
    every item copied; the application's writes during the copy (an update, a delete, an
    insert) reach the new table by the catch-up after the writes stop."""
    old_path, old = _design(tmp_path, "old.yaml", LSI_NEVER)
    new_path, new = _design(tmp_path, "new.yaml", LSI_LIVE)
    base = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    people = {f"c{i}": ({"customer_id": f"c{i}", "name": f"n{i}"}, 1) for i in range(6)}
    orders: Rows = {
        f"o{i}": (
            {
                "order_id": f"o{i:03d}",
                "customer_id": f"c{i % 6}",
                "placed_at": base + dt.timedelta(hours=i),
                "total": Decimal(i),
                "shipped_at": None if i % 3 else base + dt.timedelta(days=i),
                "status": ("open", "paid", "shipped")[i % 3],
            },
            50 + i,
        )
        for i in range(36)
    }
    client, table = _table(dynamodb_local, old, "evolve-lsi")
    _seed(client, table, _items(old, "Customer", people) + _items(old, "Order", orders))

    refused = CliRunner().invoke(
        app,
        ["diff", str(old_path), str(new_path), "--apply", "--table", table, "--fresh",
         "--endpoint", dynamodb_local.endpoint_url],
    )  # fmt: skip
    assert refused.exit_code == 2 and "--new-table" in refused.output
    assert "Traceback" not in refused.output

    target = table + "-v2"
    data = _diff(
        old_path, new_path, dynamodb_local, table, tmp_path, "--new-table", target, "--fresh"
    )
    actions = [s["action"] for s in data["steps"]]
    assert actions == [
        "create-table", "copy-items", "freeze-writes", "catch-up", "switch-table", "delete-table"
    ]  # fmt: skip
    assert _done(data, "copy-items")["report"]["copied"] == 42
    assert len((describe(client, target) or {}).get("LocalSecondaryIndexes", [])) == 3

    # the application kept writing the old table (OLD's code) after the copy
    writer = loader.generate(old.layout, old.model)
    row, version = orders["o4"]
    orders["o4"] = ({**row, "total": Decimal("99.5"), "status": "shipped"}, version + 1)
    orders["o99"] = ({**row, "order_id": "o099", "placed_at": base}, 1)
    for key in ("o4", "o99"):
        put = dict(writer.TO_ITEM["Order"](orders[key][0]))
        client.put_item(
            TableName=table, Item={**put, VERSION_ATTRIBUTE: {"N": str(orders[key][1])}}
        )
    gone = writer.TO_ITEM["Order"](orders.pop("o7")[0])
    client.delete_item(TableName=table, Key={"PK": gone["PK"], "SK": gone["SK"]})

    catch_up = str(actions.index("catch-up") + 1)
    data = _diff(
        old_path,
        new_path,
        dynamodb_local,
        table,
        tmp_path,
        "--new-table",
        target,
        "--step",
        catch_up,
        "--fresh",
    )
    report = _done(data, "catch-up")["report"]
    assert (report["copied"], report["deleted"], report["unchanged"]) == (2, 1, 40)
    copied = _scan(client, target)
    want = _items(new, "Customer", people) + _items(new, "Order", orders)
    assert sorted(map(_canon, copied)) == sorted(map(_canon, want))

    module = loader.generate(new.layout, new.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    got = generated.Client(target, client).orders_of_customer_from_total("c4", Decimal(0))
    assert [r["order_id"] for r in got] == [
        r["order_id"]
        for r, _ in sorted(orders.values(), key=lambda rv: rv[0]["total"])
        if r["customer_id"] == "c4"
    ]


# --------------------------------------------------------------------------- 5. settings

SHOP = """\
model: evolve_settings
table: {name: EvolveSettings, pitr: false, deletion_protection: false, tags: {team: shop, tier: a}}
entities:
  Customer:
    table: customers
    key: [customer_id]
    attributes:
      customer_id: integer
      email: string
      expires_at: datetime
access_patterns:
  get_customer: {entity: Customer, where: {customer_id: "="}, unique: true}
"""
SHOP_NEW = SHOP.replace(
    "deletion_protection: false, tags: {team: shop, tier: a}}",
    "deletion_protection: true, ttl: expires_at, tags: {team: shop, env: test},"
    " table_class: standard_infrequent_access}",
)


def test_ttl_tags_and_protection_in_place(dynamodb_local: Any, tmp_path: Path) -> None:
    """TTL turned on for an attribute (items rewritten to epoch seconds before TTL is
    enabled), tags added, changed and removed, deletion protection on: all in place, every
    item compared, a rerun finds the table settled."""
    old_path, old = _design(tmp_path, "old.yaml", SHOP)
    new_path, new = _design(tmp_path, "new.yaml", SHOP_NEW)
    ev = classify(old, new)
    assert {c.kind for c in ev.changes} == {
        "ttl-changed", "tags-changed", "deletion-protection-changed", "attribute-type-changed",
        "table-class-changed",
    }  # fmt: skip
    assert any("deletes (within days) every item whose expires_at" in w for w in ev.warnings())
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    people = {
        i: ({"customer_id": i, "email": f"c{i}@x", "expires_at": far + dt.timedelta(hours=i)}, 3)
        for i in range(20)
    }
    client, table = _table(dynamodb_local, old, "evolve-settings")
    _seed(client, table, _items(old, "Customer", people))
    assert all("T" in i["expires_at"]["S"] for i in _scan(client, table))  # ISO text

    data = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    assert actions.index("backfill") < actions.index("update-ttl")
    assert {r["action"]: r["status"] for r in data["applied"]} == {
        "update-table-class": "done", "deletion-protection": "done", "update-tags": "done",
        "deploy-writers": "manual",
        "backfill": "done", "update-ttl": "done",
    }  # fmt: skip
    assert _done(data, "backfill")["report"]["updated"] == 20
    after = _scan(client, table)
    assert sorted(map(_canon, after)) == sorted(map(_canon, _items(new, "Customer", people)))
    assert all("N" in i["expires_at"] for i in after)
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] in (
        "ENABLED",
        "ENABLING",
    )
    described = describe(client, table)
    assert described is not None and described["DeletionProtectionEnabled"] is True
    # DynamoDB Local keeps no table class nor tags: the steps say so and what to run by hand
    # (both are applied on moto below)
    for action, call in (
        ("update-table-class", "UpdateTable TableClass"),
        ("update-tags", "TagResource"),
    ):
        message = next(r["message"] for r in data["applied"] if r["action"] == action)
        assert call in message and "by hand" in message

    again = _diff(old_path, new_path, dynamodb_local, table, tmp_path)
    settled = {r["action"]: r for r in again["applied"] if r["status"] == "done"}
    nothing = "the table is already so: nothing to do"
    assert settled["update-ttl"]["message"] == settled["deletion-protection"]["message"] == nothing
    assert settled["backfill"]["report"]["unchanged"] == 20
    client.update_table(TableName=table, DeletionProtectionEnabled=False)


def test_the_table_class_is_in_the_table_definitions(tmp_path: Path) -> None:
    """`table_class:` reaches CloudFormation (cfn-lint clean) and create-table.json; the
    default (`standard`) writes nothing, so existing templates do not change."""
    _, old = _design(tmp_path, "old.yaml", SHOP)
    _, new = _design(tmp_path, "new.yaml", SHOP_NEW)
    plain = emit_cloudformation(old.layout, old.model)
    files = emit_cloudformation(new.layout, new.model)
    assert "TableClass" not in plain["table.yaml"] + plain["create-table.json"]
    assert "TableClass: STANDARD_INFREQUENT_ACCESS" in files["table.yaml"]
    create = json.loads(files["create-table.json"])
    assert create["TableClass"] == "STANDARD_INFREQUENT_ACCESS"
    assert [
        x for x in lint(files["table.yaml"], config=ManualArgs(regions=["us-east-1"]))
        if x.rule.severity == "error"
    ] == []  # fmt: skip


def test_tags_and_table_class_change_in_place(moto_dynamodb: Any, tmp_path: Path) -> None:
    """TagResource / UntagResource on the table's ARN, UpdateTable TableClass (on moto:
    DynamoDB Local has neither tagging nor table classes)."""
    _, old = _design(tmp_path, "old.yaml", SHOP)
    _, new = _design(
        tmp_path,
        "new.yaml",
        SHOP.replace("tier: a}", "tier: b, env: test}, table_class: standard_infrequent_access"),
    )
    ensure_table(moto_dynamodb, old.model, old.layout, "Tagged")
    arn = (describe(moto_dynamodb, "Tagged") or {})["TableArn"]
    moto_dynamodb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in old.model.table.tags]
    )
    for design, other, want, kind in (
        (new, old, {"team": "shop", "tier": "b", "env": "test"}, "STANDARD_INFREQUENT_ACCESS"),
        (old, new, {"team": "shop", "tier": "a"}, "STANDARD"),
    ):
        ev = classify(other, design)
        steps = evolve.runbook(ev, "Tagged")
        assert [(s.action, s.runnable) for s in steps] == [
            ("update-table-class", True),
            ("update-tags", True),
        ]
        results = evolve.apply(ev, steps, moto_dynamodb, "Tagged")
        assert [r.status for r in results] == ["done", "done"], results
        # neither moto nor DynamoDB Local reports a table class: the exact call is checked
        assert steps[0].calls == [("update_table", {"TableName": "Tagged", "TableClass": kind})]
        tags = moto_dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
        # the tag `create-table` puts on every table it creates is not the model's: kept
        assert {t["Key"]: t["Value"] for t in tags} == {**want, "modeling:model": "evolve_settings"}
        again = evolve.apply(ev, steps, moto_dynamodb, "Tagged")
        assert again[1].message == "the table is already so: nothing to do"


# --------------------------------------------------------------------------- reports


@pytest.mark.parametrize(
    ("old_text", "new_text", "kinds"),
    [
        (
            SHARDED.replace("WRITES", "5000"),
            SHARDED.replace("WRITES", "10000"),
            {"entity-shards-changed", "pattern-changed"},
        ),
        (COMPOSITE, ATTRIBUTES, {"gsi-rekeyed", "pattern-changed"}),
        (FEWEST, STRATEGY, {"copies-added", "gsi-removed", "pattern-changed"}),
        (STRATEGY, FEWEST, {"copies-removed", "gsi-added", "pattern-changed"}),
        (LSI_NEVER, LSI_LIVE, {"lsi-added", "gsi-removed", "pattern-changed"}),
    ],
    ids=["shards", "attribute-keys", "to-copies", "from-copies", "lsis"],
)
def test_each_kind_in_the_human_report_and_the_json(
    tmp_path: Path, old_text: str, new_text: str, kinds: set[str]
) -> None:
    old_path, _ = _design(tmp_path, "old.yaml", old_text)
    new_path, _ = _design(tmp_path, "new.yaml", new_text)
    # NEW is compiled against OLD's layout, and a live table gains no LSI: only `--fresh`
    # derives NEW's LSIs (and so the new-table path)
    fresh = ["--fresh"] if "lsi-added" in kinds else []
    if fresh:
        stable = CliRunner().invoke(app, ["diff", str(old_path), str(new_path), "--json"])
        assert stable.exit_code == 0, stable.output
        assert json.loads(stable.stdout)["changes"] == []
    as_json = CliRunner().invoke(app, ["diff", str(old_path), str(new_path), "--json", *fresh])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert {c["kind"] for c in data["changes"]} == kinds
    assert all(c["consequence"] for c in data["changes"])
    numbers = [s["step"] for s in data["steps"]]
    assert numbers == list(range(1, len(numbers) + 1))
    cleanup = [s["cleanup"] for s in data["steps"]]
    assert cleanup == sorted(cleanup)  # the clean-up comes last
    human = CliRunner().invoke(app, ["diff", str(old_path), str(new_path), *fresh])
    assert human.exit_code == 0
    for kind in kinds:
        assert f"[{kind}]" in human.stdout
    for s in data["steps"]:
        assert f"{s['step']}. {s['what']}" in human.stdout
