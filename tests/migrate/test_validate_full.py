"""`model migrate validate --full`: parallel Scan segments + a server-side cursor, compared by
key in bounded memory; extra items reported by key (PostgreSQL 15 + DynamoDB Local)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.migrate import validate as validate_module
from modeling.migrate.runner import Runner, RunOptions
from modeling.migrate.validate import item_digest, validate
from modeling.services import DYNAMODB_ACCESS_KEY, DYNAMODB_REGION, DYNAMODB_SECRET_KEY


def test_item_digest_is_equal_exactly_when_no_attribute_differs() -> None:
    a = {
        "PK": {"S": "A#1"},
        "n": {"N": "1.50"},
        "ss": {"SS": ["b", "a"]},
        "m": {"M": {"x": {"NS": ["2", "10"]}, "y": {"L": [{"N": "1"}]}}},
        "b": {"B": b"\x00\x01"},
    }
    same = {
        "b": {"B": bytearray(b"\x00\x01")},
        "m": {"M": {"y": {"L": [{"N": "1.0"}]}, "x": {"NS": ["10", "2.0"]}}},
        "ss": {"SS": ["a", "b"]},
        "n": {"N": "1.5"},
        "PK": {"S": "A#1"},
    }
    assert item_digest(a) == item_digest(same)
    for name, changed in [
        ("n", {"N": "1.51"}),
        ("ss", {"SS": ["a"]}),
        ("m", {"M": {"x": {"NS": ["2", "10"]}, "y": {"L": [{"N": "2"}]}}}),
        ("b", {"B": b"\x00"}),
        ("n", {"S": "1.5"}),
    ]:
        assert item_digest({**a, name: changed}) != item_digest(a), name
    assert item_digest({**a, "extra": {"S": ""}}) != item_digest(a)
    assert item_digest({k: v for k, v in a.items() if k != "b"}) != item_digest(a)


def _key(shop: Any, customer_id: int) -> dict[str, Any]:
    key: dict[str, Any] = shop.module.customer_table_key({"customer_id": customer_id})
    return key


def _text(shop: Any, customer_id: int) -> list[str]:
    return [v["S"] for v in _key(shop, customer_id).values()]


def _tampered(shop: Any, source_db: Any, make_table: Any, ddb: Any, tmp: Path) -> Any:
    """A migrated table, then: customer 5's item deleted, 6's changed, 900001's made up,
    customer 9's row deleted (its item stays). Returns (dsn, table)."""
    dsn, _ = source_db(400)
    table = make_table()
    options = RunOptions(concurrency=2, dead_letter=tmp / "dead.jsonl", progress=False)
    Runner(shop.model, shop.layout, dsn, ddb, tmp / "ckpt", options, table, shop.module).run()
    ddb.delete_item(TableName=table, Key=_key(shop, 5))  # missing
    six = ddb.get_item(TableName=table, Key=_key(shop, 6))["Item"]
    ddb.put_item(TableName=table, Item={**six, "email": {"S": "changed@example.com"}})
    made_up = {**six, **_key(shop, 900001), "customer_id": {"N": "900001"}}
    ddb.put_item(TableName=table, Item=made_up)  # extra: no such row
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM customers WHERE customer_id = 9")  # extra: the row is gone
    return dsn, table


def test_full_on_parallel_segments_equals_serial_and_lists_extra_items_by_key(
    shop: Any,
    source_db: Any,
    make_table: Any,
    dynamodb_local: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ddb = dynamodb_local.client()
    dsn, table = _tampered(shop, source_db, make_table, ddb, tmp_path)

    def run(segments: int) -> dict[str, Any]:
        report = validate(
            shop.model, shop.layout, dsn, ddb, None, table, module=shop.module, segments=segments
        )
        data = report.as_dict()
        assert data.pop("segments") == segments
        data.pop("seconds")
        return data

    serial = run(1)
    parallel = run(4)
    monkeypatch.setattr(validate_module, "PARTITION_ROWS", 50)  # spilled to 8+ partition files
    spilled = run(3)
    assert serial == parallel == spilled
    customer = serial["entities"]["Customer"]
    assert customer["missing"] == 1 and customer["mismatched"] == 1 and customer["extra"] == 2
    assert sorted(customer["extra_keys"]) == [_text(shop, 9), _text(shop, 900001)]
    examples = {e["problem"]: e for e in customer["examples"]}
    assert examples["missing"]["key"] == _text(shop, 5)
    assert examples["mismatched"]["key"] == _text(shop, 6)
    assert examples["mismatched"]["attributes"] == ["email"]
    assert customer["item_count"] == customer["sql_count"] + 1  # 2 extra, 1 missing
    assert serial["totals"]["extra"] == 2 and serial["ok"] is False
    others = {n: e for n, e in serial["entities"].items() if n != "Customer"}
    assert all(e["ok"] and e["checked"] == e["sql_count"] > 0 for e in others.values())

    # --sample looks the other way too: items read from the table, each looked up by its row
    sampled = validate(shop.model, shop.layout, dsn, ddb, 5_000, table, module=shop.module)
    assert sampled.sampled_items == sum(e.item_count for e in sampled.entities.values())
    assert sampled.entities["Customer"].extra == 2
    assert sorted(sampled.entities["Customer"].extra_keys) == customer["extra_keys"]
    assert all(e.extra == 0 for n, e in sampled.entities.items() if n != "Customer")
    assert "Extra items: " in sampled.markdown() and not sampled.ok


def test_cli_full_prints_extra_keys_and_patterns(
    shop: Any, source_db: Any, make_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    ddb = dynamodb_local.client()
    dsn, table = _tampered(shop, source_db, make_table, ddb, tmp_path)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": DYNAMODB_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": DYNAMODB_SECRET_KEY,
        "AWS_DEFAULT_REGION": DYNAMODB_REGION,
    }
    command = [
        sys.executable, "-m", "modeling.cli", "migrate", "validate", str(shop.model.file),
        "--source", dsn, "--endpoint", dynamodb_local.endpoint_url, "--table", table,
        "--full", "--segments", "3", "--patterns", "6", "--seed", "2",
        "--report", str(tmp_path / "rep"),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "## Extra items (in the table, not in the source)" in out
    assert "- Customer: 2 items: " in out
    assert json.dumps(_text(shop, 900001)) in out and json.dumps(_text(shop, 9)) in out
    assert "## Access patterns (6 parameter sets each, seed 2" in out
    data = json.loads((tmp_path / "rep" / "validation.json").read_text())
    assert data["segments"] == 3 and data["totals"]["extra"] == 2
    by_name = {p["pattern"]: p for p in data["patterns"]}
    assert set(by_name) == {"get_customer", "orders_of_customer", "order_details"}
    assert all(p["tried"] == 6 for p in by_name.values())
    # the deleted customer 9 and the made-up one are no pattern answer's business unless drawn;
    # the changed email is no key: get_customer still finds the same rows
    assert by_name["orders_of_customer"]["ok"] and by_name["order_details"]["ok"]
