"""`model diff OLD NEW --apply` on DynamoDB Local (issue 16, item 6): adding a GSI (UpdateTable,
wait for ACTIVE, backfill of its key attributes) and re-keying an entity each run end to end;
every item is counted and compared before and after (0 lost), and the new index answers its
pattern through the generated client."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modeling import api
from modeling.cli import app
from modeling.compile import compile_model
from modeling.compile.evolution import Design, classify
from modeling.migrate import evolve
from modeling.migrate import transformers as loader
from modeling.migrate.runner import DeadLetters
from modeling.migrate.table import describe, ensure_table
from modeling.migrate.validate import normalise
from modeling.migrate.versioning import VERSION_ATTRIBUTE

OLD = """\
model: evolve_shop
table: {name: EvolveShop, billing: on_demand, pitr: false, deletion_protection: false}
entities:
  Customer:
    table: customers
    key: [customer_id]
    row_count: 40
    attributes:
      customer_id: uuid
      email: string
      status: {type: string, enum: [active, blocked]}
      created_at: datetime
  Order:
    table: orders
    key: [order_id]
    row_count: 120
    attributes:
      order_id: uuid
      customer_id: {type: uuid, references: Customer}
      placed_at: {type: datetime, immutable: true}
      total: decimal
      note: {type: string, required: false}
access_patterns:
  get_customer:
    entity: Customer
    where: {customer_id: "="}
    unique: true
  get_order:
    entity: Order
    where: {order_id: "="}
    unique: true
"""

NEW_GSI = (
    OLD
    + """\
  customers_by_status:
    entity: Customer
    where: {status: "=", created_at: ">="}
"""
)

NEW_REKEY = OLD.replace(
    "      note: {type: string, required: false}\n",
    "      note: {type: string, required: false}\n"
    "    keys:\n"
    '      table: {pk: "CUSTOMER#{customer_id}", sk: "ORDER#{placed_at}#{order_id}"}\n',
)


def _design(path: Path) -> Design:
    model, layout = api.compile_file(path)
    return Design(model, layout, str(path))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _seed(client: Any, design: Design, table: str) -> list[dict[str, Any]]:
    """Rows of both entities written as OLD's items (with a `_version`), 40 customers and
    120 orders (some with a NULL note)."""
    module = loader.generate(design.layout, design.model)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    items: list[dict[str, Any]] = []
    customers = []
    for i in range(40):
        row = {
            "customer_id": uuid.UUID(int=i + 1),
            "email": f"c{i}@example.com",
            "status": "active" if i % 3 else "blocked",
            "created_at": base + dt.timedelta(days=i),
        }
        customers.append(row)
        items.append(module.TO_ITEM["Customer"](row))
    for i in range(120):
        row = {
            "order_id": uuid.UUID(int=10_000 + i),
            "customer_id": customers[i % 40]["customer_id"],
            "placed_at": base + dt.timedelta(hours=i),
            "total": Decimal(f"{i}.50"),
            "note": None if i % 4 else f"gift #{i}",
        }
        items.append(module.TO_ITEM["Order"](row))
    for n, item in enumerate(items):
        item[VERSION_ATTRIBUTE] = {"N": str(100 + n)}
    for i in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[i : i + 25]]}
        )
    return items


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
    """Equal DynamoDB values compare equal (`56.50` is `56.5` once stored)."""
    return repr(sorted((k, normalise(v)) for k, v in item.items()))


def _expected(old: Design, new: Design, items: list[dict[str, Any]]) -> set[str]:
    """Each item before, re-derived by hand: OLD's from_item, NEW's to_item, same _version."""
    a = loader.generate(old.layout, old.model)
    b = loader.generate(new.layout, new.model)
    out = set()
    for item in items:
        entity = a.ENTITY_OF_TYPE[item["_type"]["S"]]
        again = dict(b.TO_ITEM[entity](a.FROM_ITEM[entity](item)))
        again[VERSION_ATTRIBUTE] = item[VERSION_ATTRIBUTE]
        out.add(_canon(again))
    return out


def _table(dynamodb_local: Any, design: Design) -> tuple[Any, str]:
    client = dynamodb_local.client()
    name = f"evolve-{uuid.uuid4().hex[:8]}"
    ensure_table(client, design.model, design.layout, name)
    return client, name


def _apply(old: Path, new: Path, endpoint: str, table: str, tmp_path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        [
            "diff",
            str(old),
            str(new),
            "--apply",
            "--endpoint",
            endpoint,
            "--table",
            table,
            "--segments",
            "3",
            "--dead-letter",
            str(tmp_path / "dead.jsonl"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_adding_a_gsi_end_to_end(dynamodb_local: Any, tmp_path: Path) -> None:
    old_path, new_path = _write(tmp_path, "old.yaml", OLD), _write(tmp_path, "new.yaml", NEW_GSI)
    old, new = _design(old_path), _design(new_path)
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    (fresh,) = [i.name for i in new.layout.gsis if old.layout.index(i.name) is None]
    assert fresh not in {
        g["IndexName"] for g in describe(client, table).get("GlobalSecondaryIndexes", [])
    }  # type: ignore[union-attr]

    data = _apply(old_path, new_path, dynamodb_local.endpoint_url, table, tmp_path)
    actions = [s["action"] for s in data["steps"]]
    assert actions.index("create-gsi") < actions.index("backfill")
    done = {r["action"]: r for r in data["applied"]}
    assert done["create-gsi"]["status"] == "done" and done["backfill"]["status"] == "done"
    assert done["deploy-writers"]["status"] == "manual"
    backfill = done["backfill"]["report"]
    assert backfill["lost"] == 0 and backfill["stale"] == 0 and backfill["dead_letters"] == 0
    assert backfill["scanned"] == {"Customer": 40}
    assert backfill["updated"] == 40

    # the table now has the GSI, ACTIVE; every item is exactly its re-derived self
    described = describe(client, table)
    assert described is not None
    assert {g["IndexName"]: g["IndexStatus"] for g in described["GlobalSecondaryIndexes"]}[
        fresh
    ] == "ACTIVE"
    after = _scan(client, table)
    assert len(after) == len(before)
    assert {_canon(i) for i in after} == _expected(old, new, before)
    assert any(fresh + "PK" in i for i in after)

    # the new index answers its pattern through the generated client
    module = loader.generate(new.layout, new.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    since = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    rows = list(generated.Client(table, client).customers_by_status("active", since))
    want = sorted((i for i in range(40) if i % 3 and i >= 9), key=lambda i: i)
    assert [r["customer_id"] for r in rows] == [uuid.UUID(int=i + 1) for i in want]

    # a second run finds nothing to do (the GSI exists, every item is in the new layout)
    again = _apply(old_path, new_path, dynamodb_local.endpoint_url, table, tmp_path)
    rerun = {r["action"]: r for r in again["applied"]}
    assert rerun["backfill"]["report"]["updated"] == 0
    assert rerun["backfill"]["report"]["unchanged"] == 40
    assert {_canon(i) for i in _scan(client, table)} == _expected(old, new, before)


def test_rekeying_an_entity_end_to_end(dynamodb_local: Any, tmp_path: Path) -> None:
    old_path = _write(tmp_path, "old.yaml", OLD)
    new_path = _write(tmp_path, "new.yaml", NEW_REKEY)
    old, new = _design(old_path), _design(new_path)
    assert [c.kind for c in classify(old, new).changes if c.subject == "Order"] == [
        "entity-rekeyed"
    ]
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)

    data = _apply(old_path, new_path, dynamodb_local.endpoint_url, table, tmp_path)
    (rekey,) = [r for r in data["applied"] if r["action"] == "rekey"]
    report = rekey["report"]
    assert report["scanned"] == {"Order": 120} and report["moved"] == 120
    assert report["lost"] == 0 and report["stale"] == 0 and report["after"] == {"Order": 120}

    after = _scan(client, table)
    assert len(after) == len(before)  # old keys deleted, none lost
    assert {_canon(i) for i in after} == _expected(old, new, before)
    # the orders now sit in their customer's partition
    first = uuid.UUID(int=1)
    pk = {"S": f"CUSTOMER#{first}"}
    got = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :o)",
        ExpressionAttributeValues={":pk": pk, ":o": {"S": "ORDER#"}},
    )["Items"]
    assert len(got) == 3 and all(i["customer_id"] == {"S": str(first)} for i in got)


def test_a_concurrent_write_is_never_overwritten(dynamodb_local: Any, tmp_path: Path) -> None:
    """The backfill read an item at version v; the application writes v+1 before the update:
    the update's condition fails, the item is read again and re-derived from v+1."""
    old_path, new_path = _write(tmp_path, "old.yaml", OLD), _write(tmp_path, "new.yaml", NEW_GSI)
    old, new = _design(old_path), _design(new_path)
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    stale = next(i for i in before if i["_type"]["S"] == "Customer")
    newer = {**stale, "email": {"S": "changed@example.com"}, VERSION_ATTRIBUTE: {"N": "9999"}}
    client.put_item(TableName=table, Item=newer)
    ev = classify(old, new)
    work = evolve._Pass(ev, client, table, ("Customer",), DeadLetters(None), 1)
    work.update("Customer", dict(stale))
    assert work.report.retried == 1 and work.report.updated == 1
    key = {"PK": stale["PK"], "SK": stale["SK"]}
    held = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert held["email"] == {"S": "changed@example.com"} and held[VERSION_ATTRIBUTE] == {
        "N": "9999"
    }
    assert _canon(held) in _expected(old, new, [newer])


def test_apply_on_a_missing_table_is_a_clear_error(dynamodb_local: Any, tmp_path: Path) -> None:
    old_path, new_path = _write(tmp_path, "old.yaml", OLD), _write(tmp_path, "new.yaml", NEW_GSI)
    result = CliRunner().invoke(
        app,
        [
            "diff",
            str(old_path),
            str(new_path),
            "--apply",
            "--endpoint",
            dynamodb_local.endpoint_url,
            "--table",
            "nope-" + uuid.uuid4().hex[:6],
        ],
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("step", ["99"])
def test_an_unknown_step_is_a_clear_error(tmp_path: Path, step: str) -> None:
    old_path, new_path = _write(tmp_path, "old.yaml", OLD), _write(tmp_path, "new.yaml", NEW_GSI)
    result = CliRunner().invoke(
        app, ["diff", str(old_path), str(new_path), "--apply", "--step", step]
    )
    assert result.exit_code == 2
    assert "the runbook has steps" in result.output


SHRUNK = (
    OLD.replace(
        "billing: on_demand", "billing: {provisioned: {read: 5, write: 5}}, stream: keys_only"
    ).split("  Order:\n")[0]
    + "access_patterns:\n"
    + OLD.split("access_patterns:\n")[1].split("  get_order:\n")[0]
)


def test_settings_and_the_cleanup_end_to_end(dynamodb_local: Any, tmp_path: Path) -> None:
    """From the design with the GSI to one without it, without Order, provisioned, with a
    stream: settings change in place; with --cleanup the GSI is deleted, its key attributes
    removed from the Customer items, and the Order items deleted."""
    old_path = _write(tmp_path, "old.yaml", NEW_GSI)
    new_path = _write(tmp_path, "new.yaml", SHRUNK)
    old, new = _design(old_path), _design(new_path)
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    ev = classify(old, new)
    assert {"gsi-removed", "entity-removed", "billing-changed", "stream-changed"} <= {
        c.kind for c in ev.changes
    }
    # without --cleanup nothing is deleted
    data = _apply(old_path, new_path, dynamodb_local.endpoint_url, table, tmp_path)
    statuses = {(r["action"], r["status"]) for r in data["applied"]}
    assert ("delete-gsi", "skipped") in statuses and ("delete-items", "skipped") in statuses
    assert len(_scan(client, table)) == len(before)
    described = describe(client, table)
    assert described is not None
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "KEYS_ONLY",
    }

    result = CliRunner().invoke(
        app,
        [
            "diff", str(old_path), str(new_path), "--apply", "--cleanup",
            "--endpoint", dynamodb_local.endpoint_url, "--table", table, "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    done = {r["action"]: r for r in json.loads(result.stdout)["applied"]}
    assert done["delete-items"]["report"]["deleted"] == 120
    described = describe(client, table)
    assert described is not None and not described.get("GlobalSecondaryIndexes")
    after = _scan(client, table)
    customers = [i for i in before if i["_type"]["S"] == "Customer"]
    assert len(after) == len(customers) == 40
    assert {_canon(i) for i in after} == _expected(old, new, customers)
    assert not any(name.startswith("GSI") for item in after for name in item)


def test_copy_into_a_new_table_end_to_end(dynamodb_local: Any, tmp_path: Path) -> None:
    """A design whose table must be new (here: renamed; a key schema or an LSI change is the
    same): the new table is created and every item copied, re-derived, none lost."""
    old_path = _write(tmp_path, "old.yaml", OLD)
    new_path = _write(
        tmp_path, "new.yaml", NEW_GSI.replace("name: EvolveShop", "name: EvolveShop2")
    )
    old, new = _design(old_path), _design(new_path)
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    target = f"evolve-new-{uuid.uuid4().hex[:8]}"
    result = CliRunner().invoke(
        app,
        [
            "diff", str(old_path), str(new_path), "--apply", "--new-table", target,
            "--endpoint", dynamodb_local.endpoint_url, "--table", table, "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["new_table"] is True
    assert [s["action"] for s in data["steps"]][:2] == ["create-table", "copy-items"]
    done = {r["action"]: r for r in data["applied"]}
    assert done["copy-items"]["report"]["copied"] == 160
    assert done["copy-items"]["report"]["lost"] == 0
    copied = _scan(client, target)
    assert {_canon(i) for i in copied} == _expected(old, new, before)
    assert len(_scan(client, table)) == len(before)  # the old table is left as it was


def test_an_item_that_does_not_convert_is_a_dead_letter(
    dynamodb_local: Any, tmp_path: Path
) -> None:
    """A Customer item without its required email cannot be read back: the backfill writes a
    dead-letter record with the reason, leaves the item as it is and goes on; the check does
    not count it as lost or stale."""
    old_path, new_path = _write(tmp_path, "old.yaml", OLD), _write(tmp_path, "new.yaml", NEW_GSI)
    old, new = _design(old_path), _design(new_path)
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    broken = dict(next(i for i in before if i["_type"]["S"] == "Customer"))
    del broken["email"]
    client.put_item(TableName=table, Item=broken)
    dead = tmp_path / "dead.jsonl"
    ev = classify(old, new)
    steps = evolve.runbook(ev, table)
    (backfill,) = [s for s in steps if s.action == "backfill"]
    (result,) = evolve.apply(
        ev, steps, client, table, only=[backfill.number], dead_letter=dead, segments=2
    )
    report = result.report
    assert report is not None
    assert report.dead_letters == 1 and report.updated == 39
    assert report.lost == 0 and report.stale == 0
    (record,) = [json.loads(line) for line in dead.read_text().splitlines()]
    assert record["entity"] == "Customer" and "email" in record["reason"]
    key = {"PK": broken["PK"], "SK": broken["SK"]}
    assert client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"] == broken


OLD_TWO_GSIS = (
    OLD
    + """\
  customer_by_email:
    entity: Customer
    where: {email: "="}
  customers_by_status:
    entity: Customer
    where: {status: "=", created_at: ">="}
"""
)


def test_a_pattern_swapped_keeps_the_other_gsi_end_to_end(
    dynamodb_local: Any, tmp_path: Path
) -> None:
    """OLD has two GSIs on Customer. NEW drops the pattern of GSI1 and adds one that needs a
    GSI: a fresh compile would reuse GSI1 and rewrite it; the stable one keeps GSI2 as it is,
    creates GSI3 and backfills it, and the clean-up deletes GSI1. On DynamoDB Local: 0 items
    lost, GSI2 never rebuilt, every pattern answers through NEW's generated client."""
    old_path = _write(tmp_path, "old.yaml", OLD_TWO_GSIS)
    old = _design(old_path)
    on = {p.pattern: p.index for p in old.layout.plans}
    assert sorted(i.name for i in old.layout.gsis) == ["GSI1", "GSI2"]
    dropped = next(p for p, i in on.items() if i == "GSI1")
    kept = next(p for p, i in on.items() if i == "GSI2")
    text = OLD_TWO_GSIS.split(f"  {dropped}:\n")
    rest = text[1].split("\n", 2)[2] if len(text) > 1 else ""
    new_text = (
        text[0]
        + rest
        + """\
  customers_created_on:
    entity: Customer
    where: {created_at: "="}
"""
    )
    new_path = _write(tmp_path, "new.yaml", new_text)
    new_model = api.load_model(new_path)
    layout, _ = compile_model(new_model, old.layout)
    assert layout is not None
    new = Design(new_model, layout, str(new_path))
    assert sorted(i.name for i in new.layout.gsis) == ["GSI2", "GSI3"]
    assert new.layout.plan(kept).index == "GSI2"  # type: ignore[union-attr]
    client, table = _table(dynamodb_local, old)
    before = _seed(client, old, table)
    gsi2_before = _gsi2(client, table)
    assert len(gsi2_before) == 40

    result = CliRunner().invoke(
        app,
        [
            "diff", str(old_path), str(new_path), "--apply", "--cleanup",
            "--endpoint", dynamodb_local.endpoint_url, "--table", table,
            "--segments", "2", "--dead-letter", str(tmp_path / "dead.jsonl"), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(s["action"], s["index"], s["cleanup"]) for s in data["steps"]] == [
        ("deploy-writers", None, False),
        ("create-gsi", "GSI3", False),
        ("backfill", None, False),
        ("switch-reads", None, False),
        ("delete-gsi", "GSI1", True),
        ("backfill", None, True),  # GSI1's key attributes removed from the items
    ]
    assert {c["kind"] for c in data["changes"]} == {"gsi-added", "gsi-removed", "pattern-added", "pattern-removed"}  # fmt: skip
    done = {r["action"]: r for r in data["applied"]}
    backfill = done["backfill"]["report"]
    assert backfill["lost"] == 0 and backfill["dead_letters"] == 0
    described = describe(client, table)
    assert described is not None
    assert sorted(g["IndexName"] for g in described["GlobalSecondaryIndexes"]) == ["GSI2", "GSI3"]
    after = _scan(client, table)
    assert len(after) == len(before)
    assert {_canon(i) for i in after} == _expected(old, new, before)
    # GSI2's entries are the very ones OLD wrote (kept, never rewritten)
    assert _gsi2(client, table) == gsi2_before
    module = loader.generate(new.layout, new.model, client=True)
    generated = loader.client_of(module)
    assert generated is not None
    created = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    rows = list(generated.Client(table, client).customers_created_on(created))
    assert [r["customer_id"] for r in rows] == [uuid.UUID(int=5)]


def _gsi2(client: Any, table: str) -> set[tuple[str, str]]:
    """GSI2's key values (every Customer is on it)."""
    items = client.scan(TableName=table, IndexName="GSI2")["Items"]
    return {(i["GSI2PK"]["S"], i["GSI2SK"]["S"]) for i in items}
