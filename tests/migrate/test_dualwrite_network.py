"""The dual-write repository and `inet` / `cidr` / `macaddr` columns (string attributes).

The repository read the written row back on the application's psycopg connection, which loads
`inet` / `cidr` as `ipaddress` objects: the transformers refused them, so every DynamoDB half
of such a write failed after PostgreSQL's commit (PostgreSQL and DynamoDB diverged). It now
reads with the migration reader's loaders (modeling/runtime/loaders.py, shipped beside the
repository as `_loaders.py`), on its own cursors only: the item it writes is exactly the item
`model migrate run` writes for the same row, and the application's connection is unchanged.
"""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from modeling.migrate import transformers
from modeling.migrate.plan import make_plan
from modeling.migrate.runner import Runner, RunOptions
from modeling.verify.dynamo import create_table

pytestmark = pytest.mark.e2e

MODEL = """\
model: hosts
table: {name: Hosts}
source: {dialect: postgres}
entities:
  Host:
    table: hosts
    key: [host_id]
    attributes:
      host_id: integer
      address: string
      network: {type: string, required: false}
      mac: {type: string, required: false}
access_patterns:
  get_host:
    entity: Host
    where: {host_id: "="}
    unique: true
  by_address:
    entity: Host
    where: {address: "="}
"""

ROWS = [
    (1, "10.0.0.1", "10.0.0.0/8", "08:00:2b:01:02:03"),
    (2, "10.1.2.3/24", None, "08-00-2b-01-02-04"),
    (3, "2001:db8::5", "2001:db8::/32", None),
    (4, "::ffff:1.2.3.4", "192.168.0.0/16", "0800.2b01.0205"),  # Python < 3.13: ::ffff:102:304
    (5, "fe80::1/64", "::/0", "08002b010206"),
]


def _items(client: Any, table: str) -> dict[str, dict[str, Any]]:
    return {i["host_id"]["N"]: i for i in client.scan(TableName=table)["Items"] if "_type" in i}


def test_the_repository_writes_network_columns_as_the_migration_does(
    dual_write: Any, tmp_path: Path
) -> None:
    hosts = dual_write(
        MODEL,
        "CREATE TABLE hosts (host_id bigint PRIMARY KEY, address inet NOT NULL,"
        " network cidr, mac macaddr)",
    )
    model, layout, dsn, client, dual = (
        hosts.model,
        hosts.layout,
        hosts.dsn,
        hosts.client,
        hosts.table,
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        repo = hosts.repo(conn)
        for host_id, address, network, mac in ROWS:
            repo.insert(
                "Host", {"host_id": host_id, "address": address, "network": network, "mac": mac}
            )
        repo.update("Host", {"host_id": 2}, {"address": "10.9.9.9/16", "network": "10.9.0.0/16"})
        repo.update("Host", {"host_id": 3}, {"mac": "08:00:2b:aa:bb:cc"})
        assert repo.dynamodb_write_failures == 0
        # the application's own connection still loads psycopg's objects
        loaded = conn.execute("SELECT address FROM hosts WHERE host_id = 1").fetchone()[0]
        assert isinstance(loaded, ipaddress.IPv4Interface | ipaddress.IPv4Address), loaded
        texts = {
            str(r[0]): (r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT host_id, format('%s', address), nullif(format('%s', network), ''),"
                " nullif(format('%s', mac), '') FROM hosts"
            )
        }
    migrated = f"Hosts-{uuid.uuid4().hex[:8]}"
    create_table(client, layout, migrated)
    make_plan(dsn, model, tmp_path / "plan", chunk_size=25)
    dead = tmp_path / "dead.jsonl"
    options = RunOptions(progress=False, dead_letter=dead, batch_size=10)
    module = transformers.generate(layout, model)
    report = Runner(model, layout, dsn, client, tmp_path / "ckpt", options, migrated, module).run(
        tmp_path / "plan"
    )
    assert report.dead_letters == 0, dead.read_text(encoding="utf-8")
    by_repo, by_run = _items(client, dual), _items(client, migrated)
    assert len(by_run) == len(ROWS)
    # PostgreSQL's text of each value, in both
    got = {
        k: (i["address"]["S"], i.get("network", {}).get("S"), i.get("mac", {}).get("S"))
        for k, i in by_repo.items()
    }
    assert got == texts
    assert by_repo == by_run
